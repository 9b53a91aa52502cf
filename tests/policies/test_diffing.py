"""Version diffs and their impact, on hand-built versions (no database) and checked against a
brute-force count on the seeded policy."""

import random
from dataclasses import replace

import pytest

from policies import analysis, diffing, engine
from policies.engine import Choice, Clause, Outcome, Question, conjunction
from tests.policies.test_analysis import CLEAN_RULES, QUESTIONS, make_version, random_version, rule
from tests.policies.test_seed import seeded_versions


def changes(before, after):
    return [str(change) for change in diffing.diff(before, after)]


def test_a_version_compared_with_itself_has_no_changes_and_no_impact():
    version = make_version()

    impact = diffing.impact(version, version)

    assert diffing.diff(version, version) == []
    assert (impact.changed, impact.not_comparable, impact.examples) == (0, 0, ())
    assert impact.compared == len(list(analysis.reachable_answer_sets(version)))


def test_it_names_records_added_removed_and_changed_with_the_fields_that_differ():
    before = make_version()
    questions = (
        replace(
            QUESTIONS[0],
            text="Which animal?",
            choices=(*QUESTIONS[0].choices, Choice("bird", "Bird")),
        ),
        *QUESTIONS[1:],
    )
    rules = [r for r in CLEAN_RULES if r.key != "lazy"]
    rules[1] = replace(rules[1], reason="Fish are banned.", clauses=("act", "guide"))
    rules.append(rule("birds", "no", pet=["bird"]))
    after = replace(
        before,
        questions=questions,
        rules=tuple(rules),
        outcomes=(*before.outcomes, Outcome("steps", "cage", "Cage", "Buy a cage.")),
        clauses=(replace(before.clauses[0], quote="The act now says."), *before.clauses[1:]),
    )

    assert changes(before, after) == [
        "question pet changed: text",
        "choice pet.bird added",
        "outcome steps.cage added",
        "rule fish changed: reason, clauses",
        "rule birds added",
        "rule lazy removed",
        "clause act changed: quote",
    ]


def test_a_new_order_of_questions_or_verdict_outcomes_is_a_change_of_position():
    before = make_version()
    outcomes = (before.outcomes[1], before.outcomes[0], *before.outcomes[2:])
    after = replace(before, questions=(QUESTIONS[2], QUESTIONS[0], QUESTIONS[1]), outcomes=outcomes)

    assert changes(before, after) == [
        "question indoors changed: position",
        "question pet changed: position",
        "question walks changed: position",
        "outcome verdict.maybe changed: position",
        "outcome verdict.no changed: position",
    ]


def test_the_impact_counts_answer_sets_whose_verdict_or_items_change_with_examples():
    before = make_version()
    # Cats become a "maybe"; dogs no longer need a leash indoors.
    rules = [*CLEAN_RULES[:3], rule("cats", "maybe", pet=["cat"])]
    rules.append(
        replace(CLEAN_RULES[3], conditions=conjunction({"pet": ["dog"], "indoors": ["no"]}))
    )
    after = replace(before, rules=tuple(rules))

    impact = diffing.impact(before, after)

    # pet=cat: 2 answer sets (indoors yes/no); pet=dog, indoors=yes: 2 (walks yes/no).
    assert (impact.compared, impact.changed, impact.verdict_changed) == (8, 4, 2)
    assert impact.items_changed == 2
    assert impact.examples[0].answers == {"pet": "cat", "indoors": "yes"}
    assert impact.examples[0].text == "verdict yes → maybe"
    assert impact.examples[-1].text == "steps: - leash"
    assert impact.complete


def test_answer_sets_only_one_version_can_decide_are_counted_apart():
    before = make_version()
    pets = replace(QUESTIONS[0], choices=(*QUESTIONS[0].choices, Choice("bird", "Bird")))
    after = replace(
        before,
        questions=(pets, *QUESTIONS[1:]),
        rules=(*CLEAN_RULES, rule("birds", "no", pet=["bird"])),
    )

    impact = diffing.impact(before, after)

    assert impact.not_comparable == 2  # pet=bird with indoors yes or no
    assert impact.changed == 0


def test_a_new_question_is_compared_through_the_answer_sets_that_answer_it():
    before = make_version()
    tank = Question(
        "tank",
        "Tank?",
        (Choice("yes", "Yes"), Choice("no", "No")),
        "",
        (conjunction({"pet": ["fish"]}),),
    )
    after = replace(
        before,
        questions=(*QUESTIONS, tank),
        rules=(*CLEAN_RULES, rule("tank", "leash", table="steps", tank=["yes"])),
    )

    impact = diffing.impact(before, after)

    # The old fish answer sets need a tank answer now; of their refinements, tank=yes changes.
    assert impact.changed == 2
    assert all(example.answers["tank"] == "yes" for example in impact.examples)
    assert impact.not_comparable == 0


def test_the_impact_stops_at_its_limit_and_says_so():
    version = make_version()
    impact = diffing.impact(version, version, limit=3)
    assert not impact.complete
    assert impact.compared <= 6


def test_saved_answers_are_each_compared_under_their_own_version():
    old = make_version()
    new = replace(old, rules=(*CLEAN_RULES, rule("cats", "maybe", pet=["cat"])))
    tank = Question("tank", "Tank?", (Choice("yes", "Yes"), Choice("no", "No")))
    newer = replace(new, questions=(*QUESTIONS, tank))
    saved = [
        (old, {"pet": "cat", "indoors": "no"}),  # changes to maybe
        (new, {"pet": "cat", "indoors": "no"}),  # was maybe already
        (old, {"pet": "fish", "indoors": "no"}),  # unchanged
    ]

    impact = diffing.answers_impact(saved, new)
    needs_more = diffing.answers_impact(saved, newer)

    assert (impact.compared, impact.changed, impact.verdict_changed) == (3, 1, 1)
    assert (needs_more.compared, needs_more.not_comparable) == (0, 3)


def brute_force_changed(before, after):
    """Every answer set reachable in either version whose complete decisions differ, by
    evaluating each pair directly."""

    def summary(version, answers):
        decision = engine.evaluate(version, engine.still_valid(version, answers))
        if not decision.complete:
            return None
        return (
            decision.verdict and decision.verdict.key,
            {table: [i.key for i in items] for table, items in decision.lists.items()},
        )

    union = {
        frozenset(a.items()): a for v in (before, after) for a in analysis.reachable_answer_sets(v)
    }
    changed = 0
    for answers in union.values():
        old, new = summary(before, answers), summary(after, answers)
        if old is not None and new is not None and old != new:
            changed += 1
    return changed


@pytest.mark.parametrize("pair", [(0, 1), (1, 2), (2, 3), (0, 3)])
def test_the_impact_between_seeded_versions_matches_brute_force(pair):
    versions = sorted(
        (vid, v) for (slug, vid), v in seeded_versions().items() if slug == "claude-code"
    )
    before, after = versions[pair[0]][1], versions[pair[1]][1]

    impact = diffing.impact(before, after)

    assert impact.changed == brute_force_changed(before, after)
    assert impact.changed == len(list(diffing.changed_answer_sets(before, after)))
    assert impact.changed > 0  # every new version of the seed changes something


@pytest.mark.parametrize("seed", range(20))
def test_the_impact_between_random_versions_matches_brute_force(seed):
    rng = random.Random(seed)
    before = random_version(rng)
    rules = list(before.rules)
    if rules:
        rules.pop(rng.randrange(len(rules)))
    after = replace(before, rules=tuple(rules))

    assert diffing.impact(before, after).changed == brute_force_changed(before, after)


def test_clause_changes_name_each_field():
    before = make_version()
    after = replace(
        before,
        clauses=(
            Clause("act", "The act says.", "https://example.com/new-act", "Act", "2"),
            *before.clauses[1:],
        ),
    )
    assert changes(before, after) == ["clause act changed: url, source version"]


def test_a_change_carries_each_fields_old_and_new_value_in_words():
    before = engine.Version(
        policy="p",
        version="1",
        questions=(
            engine.Question(
                "plan", "Plan?", (engine.Choice("free", "Free"), engine.Choice("pro", "Pro"))
            ),
        ),
        outcomes=(engine.Outcome(engine.VERDICT, "no", "No"),),
        rules=(
            engine.Rule(
                "r", engine.VERDICT, "no", engine.conjunction({"plan": ["free"]}), "Old words."
            ),
        ),
    )
    after = replace(
        before,
        rules=(
            engine.Rule(
                "r",
                engine.VERDICT,
                "no",
                engine.conjunction({"plan": ["free", "pro"]}),
                "New words.",
            ),
        ),
    )

    (change,) = diffing.diff(before, after)

    assert change.values == (
        ("conditions", "plan in free", "plan in free, pro"),
        ("reason", "Old words.", "New words."),
    )
