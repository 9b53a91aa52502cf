"""The engine on hand-built versions: no database."""

import itertools
import random

import pytest

from policies import engine
from policies.engine import (
    Choice,
    Clause,
    HitPolicy,
    Outcome,
    PolicyError,
    Question,
    Rule,
    Version,
    conjunction,
)


def yes_no(key, shown_when=()):
    return Question(key, f"{key}?", (Choice("yes", "Yes"), Choice("no", "No")), "", shown_when)


def make_version(rules, questions=None, hit_policies=None, outcomes=None):
    questions = questions or (
        Question(
            "pet",
            "Which pet?",
            (Choice("cat", "Cat"), Choice("dog", "Dog"), Choice("fish", "Fish")),
        ),
        yes_no("walks", (conjunction({"pet": ["dog"]}),)),
        yes_no("indoors"),
    )
    outcomes = outcomes or (
        Outcome("verdict", "no", "No"),
        Outcome("verdict", "maybe", "Maybe"),
        Outcome("verdict", "yes", "Yes"),
        Outcome("steps", "leash", "Leash"),
        Outcome("steps", "tank", "Tank"),
    )
    return Version(
        policy="pets",
        version="2025-01-01",
        questions=questions,
        outcomes=outcomes,
        rules=tuple(rules),
        clauses=(
            Clause("act", "The act says.", "https://example.com/act", "Act", "1"),
            Clause("guide", "The guide says.", "https://example.com/g", "Guide", "2"),
        ),
        **({"hit_policies": hit_policies} if hit_policies else {}),
    )


PET_RULES = (
    Rule("default", "verdict", "yes", (), "Pets are fine.", ("act",)),
    Rule("fish", "verdict", "no", conjunction({"pet": ["fish"]}), "No fish.", ("act",)),
    Rule("lazy", "verdict", "maybe", conjunction({"walks": ["no"]}), "Walk it.", ("guide",)),
    Rule("leash", "steps", "leash", conjunction({"pet": ["dog"]}), "Dogs need a leash.", ("act",)),
    Rule("leash2", "steps", "leash", conjunction({"indoors": ["no"]}), "Outside.", ("guide",)),
)


def test_it_asks_the_first_question_first():
    assert engine.next_question(make_version(PET_RULES), {}).key == "pet"


def test_it_skips_a_question_whose_condition_fails():
    version = make_version(PET_RULES)
    assert engine.next_question(version, {"pet": "cat"}).key == "indoors"
    assert engine.next_question(version, {"pet": "dog"}).key == "walks"


def test_it_is_complete_when_every_question_on_the_path_is_answered():
    decision = engine.evaluate(make_version(PET_RULES), {"pet": "cat", "indoors": "yes"})
    assert decision.complete
    assert decision.verdict.key == "yes"


def test_incomplete_answers_name_the_next_question_and_give_no_verdict():
    decision = engine.evaluate(make_version(PET_RULES), {"pet": "dog"})
    assert not decision.complete
    assert decision.next_question.key == "walks"
    assert decision.verdict is None
    assert decision.steps == ()


def test_it_rejects_an_unknown_question_even_when_incomplete():
    decision = engine.evaluate(make_version(PET_RULES), {"colour": "red"})
    assert "colour" in decision.errors
    assert "pet, walks, indoors" in decision.errors["colour"]
    assert not decision.complete


def test_it_rejects_an_unknown_choice_naming_the_allowed_ones():
    decision = engine.evaluate(make_version(PET_RULES), {"pet": "parrot"})
    assert decision.errors == {
        "pet": "'parrot' is not a choice for 'pet'. Choose one of: cat, dog, fish."
    }


@pytest.mark.parametrize("value", [1, None, ["cat"], {"a": 1}, True])
def test_it_rejects_an_answer_that_is_not_a_string(value):
    decision = engine.evaluate(make_version(PET_RULES), {"pet": value})
    assert "must be a string" in decision.errors["pet"]


def test_it_rejects_answers_that_are_not_a_mapping():
    assert "answers" in engine.validate(make_version(PET_RULES), ["pet", "cat"])


def test_answers_off_the_path_are_ignored_and_listed():
    version = make_version(PET_RULES)
    decision = engine.evaluate(version, {"pet": "cat", "walks": "no", "indoors": "yes"})
    assert decision.ignored == ("walks",)
    assert decision.verdict.key == "yes"  # the ignored walks=no does not fire "lazy"
    assert "walks" not in decision.answers


def test_answers_after_a_gap_are_kept_when_they_may_still_be_on_the_path():
    version = make_version(
        PET_RULES,
        questions=(
            Question(
                "pet", "Pet?", (Choice("cat", "Cat"), Choice("dog", "Dog"), Choice("fish", "Fish"))
            ),
            yes_no("indoors"),
            yes_no("walks", (conjunction({"pet": ["dog"]}),)),
        ),
    )
    path = engine.walk(version, {"indoors": "no", "walks": "yes"})
    assert path.next_question.key == "pet"
    assert path.ignored == ()
    assert path.answers == {"indoors": "no"}  # always asked, so certainly on the path


def test_priority_hit_policy_returns_the_strictest_matching_verdict():
    version = make_version(PET_RULES)
    assert (
        engine.evaluate(version, {"pet": "dog", "walks": "no", "indoors": "yes"}).verdict.key
        == "maybe"
    )
    assert engine.evaluate(version, {"pet": "fish", "indoors": "yes"}).verdict.key == "no"


def test_the_verdict_carries_the_reasons_of_every_rule_that_gave_it():
    rules = (
        *PET_RULES,
        Rule("fish2", "verdict", "no", conjunction({"indoors": ["no"]}), "Cold.", ("guide",)),
    )
    verdict = engine.evaluate(make_version(rules), {"pet": "fish", "indoors": "no"}).verdict
    assert verdict.reasons == ("No fish.", "Cold.")
    assert [c.key for c in verdict.clauses] == ["act", "guide"]
    assert verdict.rules == ("fish", "fish2")


def test_first_hit_policy_takes_the_lowest_priority_rule():
    rules = (
        Rule("late", "verdict", "no", (), "Late.", ("act",), priority=5),
        Rule("early", "verdict", "yes", (), "Early.", ("act",), priority=1),
    )
    version = make_version(
        rules, hit_policies={**engine.DEFAULT_HIT_POLICIES, "verdict": HitPolicy.FIRST}
    )
    assert engine.evaluate(version, {"pet": "cat", "indoors": "yes"}).verdict.key == "yes"


def test_collect_lists_each_outcome_once_with_every_reason():
    decision = engine.evaluate(
        make_version(PET_RULES), {"pet": "dog", "walks": "yes", "indoors": "no"}
    )
    assert [item.key for item in decision.steps] == ["leash"]
    assert decision.steps[0].reasons == ("Dogs need a leash.", "Outside.")
    assert {c.key for c in decision.steps[0].clauses} == {"act", "guide"}


def test_a_version_with_a_dangling_reference_is_refused():
    with pytest.raises(PolicyError, match="unknown clause"):
        make_version((Rule("r", "verdict", "yes", (), "", ("nope",)),))
    with pytest.raises(PolicyError, match="unknown outcome"):
        make_version((Rule("r", "verdict", "leash", (), "", ()),))
    with pytest.raises(PolicyError, match="unknown choices of pet"):
        make_version((Rule("r", "verdict", "yes", conjunction({"pet": ["parrot"]}), "", ()),))
    with pytest.raises(PolicyError, match="Duplicate rule"):
        make_version((PET_RULES[0], PET_RULES[0]))


# --- exhaustive check against a brute-force reference on random small policies -------------------


def brute_force(version, answers):
    """An independent reading of the semantics: walk, match every rule, resolve tables."""
    on_path: dict[str, str] = {}
    for question in version.questions:
        shown = not question.shown_when or any(
            all(on_path.get(k) in choices for k, choices in conj) for conj in question.shown_when
        )
        if shown:
            if question.key not in answers:
                return None
            on_path[question.key] = answers[question.key]
    order = [(o.table, o.key) for o in version.outcomes]
    fired = [r for r in version.rules if all(on_path.get(k) in c for k, c in r.conditions)]
    result = {}
    for table in engine.TABLES:
        keys = {(r.table, r.outcome) for r in fired if r.table == table}
        ranked = sorted(keys, key=order.index)
        if table == "verdict":
            ranked = ranked[:1]
        result[table] = [key for _, key in ranked]
    return on_path, result


def random_version(rng: random.Random) -> Version:
    questions: list[Question] = []
    for i in range(rng.randint(1, 4)):
        choices = tuple(Choice(f"c{j}", f"C{j}") for j in range(rng.randint(2, 3)))
        shown_when: tuple[engine.Conjunction, ...] = ()
        if questions and rng.random() < 0.5:
            earlier = rng.choice(questions)
            allowed = rng.sample(earlier.choice_keys, rng.randint(1, len(earlier.choices)))
            shown_when = (conjunction({earlier.key: allowed}),)
        questions.append(Question(f"q{i}", f"Q{i}?", choices, "", shown_when))
    outcomes = [Outcome("verdict", f"v{i}", f"V{i}") for i in range(3)]
    outcomes += [Outcome("steps", f"s{i}", f"S{i}") for i in range(3)]
    rules = []
    for i in range(rng.randint(1, 12)):
        outcome = rng.choice(outcomes)
        tests = {}
        for q in rng.sample(questions, rng.randint(0, len(questions))):
            tests[q.key] = rng.sample(q.choice_keys, rng.randint(1, len(q.choices)))
        rules.append(
            Rule(f"r{i}", outcome.table, outcome.key, conjunction(tests), f"R{i}", ("act",))
        )
    return Version(
        "random",
        "1",
        tuple(questions),
        tuple(outcomes),
        tuple(rules),
        (Clause("act", "q", "https://example.com", "Act", "1"),),
    )


def every_answer_set(version):
    """Every combination of answers, including partial and off-path ones."""
    options = [(None, *q.choice_keys) for q in version.questions]
    for combo in itertools.product(*options):
        yield {q.key: c for q, c in zip(version.questions, combo, strict=True) if c is not None}


@pytest.mark.parametrize("seed", range(60))
def test_compiled_and_naive_engines_agree_with_brute_force(seed):
    version = random_version(random.Random(seed))
    for answers in every_answer_set(version):
        expected = brute_force(version, answers)
        for evaluate in (engine.evaluate, engine.evaluate_naive):
            decision = evaluate(version, answers)
            if expected is None:
                assert not decision.complete, answers
                continue
            on_path, tables = expected
            assert decision.complete
            assert dict(decision.answers) == on_path
            assert ([decision.verdict.key] if decision.verdict else []) == tables["verdict"]
            assert [i.key for i in decision.steps] == tables["steps"]


def test_back_leads_to_the_previous_answered_question_on_the_path():
    version = make_version(PET_RULES)
    path = engine.walk(version, {"pet": "cat", "indoors": "yes"})
    assert engine.previous_question(version, path, "indoors").key == "pet"
    assert engine.previous_question(version, path, "pet") is None
    dog = engine.walk(version, {"pet": "dog", "walks": "yes"})
    assert engine.previous_question(version, dog, "indoors").key == "walks"


def test_continue_moves_one_question_forward_on_the_path():
    version = make_version(PET_RULES)
    path = engine.walk(version, {"pet": "dog", "walks": "yes", "indoors": "no"})
    assert engine.following_question(version, path, "pet").key == "walks"
    assert engine.following_question(version, path, "indoors") is None
    cat = engine.walk(version, {"pet": "cat"})
    assert engine.following_question(version, cat, "pet").key == "indoors"


def test_position_counts_the_longest_path_the_answers_still_allow():
    version = make_version(PET_RULES)
    assert engine.position(version, engine.walk(version, {}), "pet") == (1, 3)
    cat = engine.walk(version, {"pet": "cat"})
    assert engine.position(version, cat, "indoors") == (2, 2)
    dog = engine.walk(version, {"pet": "dog"})
    assert engine.position(version, dog, "walks") == (2, 3)
    # Going back to an earlier question counts from the answers before it only.
    done = engine.walk(version, {"pet": "cat", "indoors": "yes"})
    assert engine.position(version, done, "pet") == (1, 3)
