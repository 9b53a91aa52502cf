"""What would change a result: on hand-built versions, on random ones, and on the seeded policy,
against a brute-force reference that re-derives every change from `engine.evaluate`."""

import dataclasses
import gc
import itertools
import random

import pytest

from policies import analysis, engine, whatif
from policies.engine import Choice, Outcome, Question, Rule, conjunction
from tests.policies.test_engine import PET_RULES, make_version, random_version, yes_no
from tests.policies.test_seed import seeded_versions

NEWEST = ("claude-code", "2026-08-22")


def keys_of(change):
    return {edit.question: edit.to_choice for edit in change.edits}


# --- hand-built versions -------------------------------------------------------------------------


def test_it_names_the_single_answer_that_changes_the_verdict_first():
    version = make_version(PET_RULES)
    changes = whatif.what_would_change(version, {"pet": "fish", "indoors": "yes"})
    assert [(keys_of(c), c.verdict.key) for c in changes] == [
        ({"pet": "cat"}, "yes"),
        ({"pet": "dog", "walks": "yes"}, "yes"),
        ({"pet": "dog", "walks": "no"}, "maybe"),
    ]
    assert changes[0].sentence == "With “Which pet?” answered “Cat”, the result would be: Yes."


def test_an_edit_whose_new_questions_disagree_takes_the_answers_that_settle_it():
    version = make_version(PET_RULES)
    change = whatif.what_would_change(version, {"pet": "fish", "indoors": "yes"})[1]
    assert change.edits == (
        whatif.Edit("pet", "Which pet?", "fish", "Fish", "dog", "Dog"),
        whatif.Edit("walks", "walks?", None, None, "yes", "Yes"),
    )
    assert change.more_questions == ()
    assert change.sentence == (
        "With “Which pet?” answered “Dog” and “walks?” answered “Yes”, the result would be: Yes."
    )


def test_prefers_the_less_strict_verdict_then_question_order():
    version = make_version(PET_RULES)
    changes = whatif.what_would_change(version, {"pet": "dog", "walks": "no", "indoors": "yes"})
    assert [(keys_of(c), c.verdict.key) for c in changes] == [
        ({"pet": "cat"}, "yes"),
        ({"walks": "yes"}, "yes"),
        ({"pet": "fish"}, "no"),
    ]


def test_questions_whose_answers_do_not_matter_are_listed_not_asked():
    rules = (*PET_RULES, Rule("dog", "verdict", "no", conjunction({"pet": ["dog"]}), "No dogs."))
    version = make_version(rules)
    (change, *_) = whatif.what_would_change(version, {"pet": "cat", "indoors": "yes"})
    assert keys_of(change) == {"pet": "dog"}
    assert change.verdict.key == "no"
    assert change.more_questions == ("walks",)
    assert change.sentence == (
        "With “Which pet?” answered “Dog”, and whatever you then answer to “walks?”, "
        "the result would be: No."
    )


def test_choices_that_give_the_same_change_are_one_change_with_alternatives():
    rules = (
        Rule("default", "verdict", "yes", (), "Fine."),
        Rule("dog", "verdict", "no", conjunction({"pet": ["dog"]}), "No dogs."),
    )
    version = make_version(rules)
    changes = whatif.what_would_change(version, {"pet": "dog", "walks": "yes", "indoors": "yes"})
    assert len(changes) == 1
    assert keys_of(changes[0]) == {"pet": "cat"}
    assert [(a.question, a.to_choice) for a in changes[0].alternatives] == [("pet", "fish")]
    assert changes[0].sentence == (
        "With “Which pet?” answered “Cat” or “Fish”, the result would be: Yes."
    )


def test_two_answers_are_offered_only_when_no_single_one_will_do():
    rules = (
        Rule("default", "verdict", "yes", (), "Fine."),
        Rule("fish", "verdict", "no", conjunction({"pet": ["fish"]}), "No fish."),
        Rule("cold", "verdict", "no", conjunction({"indoors": ["no"]}), "Too cold."),
        Rule("lazy", "verdict", "no", conjunction({"walks": ["no"]}), "Walk it."),
    )
    version = make_version(rules)
    changes = whatif.what_would_change(version, {"pet": "fish", "indoors": "no"})
    assert [(keys_of(c), c.verdict.key) for c in changes] == [
        ({"pet": "cat", "indoors": "yes"}, "yes"),
    ]
    # A dog would need a walk too: the pair alone does not settle it, so it is not offered.


def test_cross_products_of_choices_are_one_change():
    questions = (
        Question("a", "A?", (Choice("x", "X"), Choice("y", "Y"), Choice("z", "Z"))),
        Question("b", "B?", (Choice("x", "X"), Choice("y", "Y"), Choice("z", "Z"))),
    )
    outcomes = (Outcome("verdict", "no", "No"), Outcome("verdict", "yes", "Yes"))
    rules = (
        Rule("default", "verdict", "yes", (), "Yes."),
        Rule("a", "verdict", "no", conjunction({"a": ["x"]}), "Not with A."),
        Rule("b", "verdict", "no", conjunction({"b": ["x"]}), "Not with B."),
    )
    version = make_version(rules, questions=questions, outcomes=outcomes)
    (change,) = whatif.what_would_change(version, {"a": "x", "b": "x"})
    assert keys_of(change) == {"a": "y", "b": "y"}
    assert [(a.question, a.to_choice) for a in change.alternatives] == [("a", "z"), ("b", "z")]
    assert change.sentence == (
        "With “A?” answered “Y” or “Z” and “B?” answered “Y” or “Z”, the result would be: Yes."
    )


def test_it_returns_nothing_for_incomplete_or_invalid_answers_or_no_room():
    version = make_version(PET_RULES)
    assert whatif.what_would_change(version, {"pet": "dog"}) == ()
    assert whatif.what_would_change(version, {"pet": "parrot", "indoors": "yes"}) == ()
    assert whatif.what_would_change(version, {"pet": "cat", "indoors": "yes"}, limit=0) == ()
    assert whatif.changes_by_question(version, {"pet": "dog"}) == {}


def test_answers_off_the_path_are_ignored():
    version = make_version(PET_RULES)
    with_ignored = {"pet": "fish", "walks": "no", "indoors": "yes"}
    assert whatif.what_would_change(version, with_ignored) == whatif.what_would_change(
        version, {"pet": "fish", "indoors": "yes"}
    )


def test_limit_bounds_the_number_of_changes():
    version = make_version(PET_RULES)
    (change,) = whatif.what_would_change(version, {"pet": "fish", "indoors": "yes"}, limit=1)
    assert keys_of(change) == {"pet": "cat"}


def test_changes_by_question_lists_every_choice_that_would_or_could_change_it():
    version = make_version(PET_RULES)
    effects = whatif.changes_by_question(version, {"pet": "cat", "indoors": "yes"})
    assert effects == {
        "pet": [("dog", ("maybe", "yes")), ("fish", ("no",))],
        "indoors": [],
    }
    assert effects["pet"][1].verdicts == ("no",)


def test_an_edit_with_too_many_completions_is_left_out():
    many = tuple(yes_no(f"q{i}", (conjunction({"gate": ["open"]}),)) for i in range(9))
    questions = (Question("gate", "Gate?", (Choice("shut", "Shut"), Choice("open", "Open"))), *many)
    rules = (
        Rule("default", "verdict", "yes", (), "Yes."),
        *(Rule(f"r{i}", "verdict", "no", conjunction({f"q{i}": ["no"]}), "No.") for i in range(9)),
    )
    version = make_version(rules, questions=questions)
    assert whatif.MAX_COMPLETIONS < 2**9
    assert whatif.what_would_change(version, {"gate": "shut"}) == ()
    assert whatif.changes_by_question(version, {"gate": "shut"}) == {"gate": []}


def test_the_per_version_facts_are_built_once_and_dropped_with_the_version():
    version = make_version(PET_RULES)
    assert whatif._facts(version) is whatif._facts(version)
    key = id(version)
    del version
    gc.collect()
    assert key not in whatif._FACTS


def test_a_first_hit_verdict_table_is_searched_too():
    rules = (
        Rule("late", "verdict", "no", conjunction({"indoors": ["no"]}), "Cold.", priority=5),
        Rule("early", "verdict", "yes", conjunction({"pet": ["cat"]}), "Cats.", priority=1),
        Rule("rest", "verdict", "maybe", (), "Else.", priority=9),
    )
    version = make_version(
        rules, hit_policies={**engine.DEFAULT_HIT_POLICIES, "verdict": engine.HitPolicy.FIRST}
    )
    answers = {"pet": "fish", "indoors": "no"}
    check_against_reference(version, answers, whatif.what_would_change(version, answers))
    assert [(keys_of(c), c.verdict.key) for c in whatif.what_would_change(version, answers)] == [
        ({"pet": "cat"}, "yes"),
        ({"indoors": "yes"}, "maybe"),
    ]


# --- the brute-force reference -------------------------------------------------------------------


def completions(version, answers):
    """(the answers added, the decision) for every way of answering what the path leaves open,
    found question by question through the engine."""
    found = []
    stack: list[dict[str, str]] = [{}]
    while stack:
        added = stack.pop()
        decision = engine.evaluate(version, {**answers, **added})
        question = decision.next_question
        if question is None:
            found.append((added, decision))
            continue
        for choice in reversed(question.choice_keys):
            stack.append({**added, question.key: choice})
    return found


def verdict_key(decision):
    return decision.verdict.key if decision.verdict else None


def leaves_of(version, base, edits):
    """The completions of the edited answers, or none when an edited question is on the path in
    none of them (the edit would change nothing)."""
    leaves = completions(version, {**base, **edits})
    if not all(any(key in d.answers for _, d in leaves) for key in edits):
        return []
    return leaves


def settled(version, current, edits, leaves, max_extra):
    """For each other verdict, the first of the fewest answers to new questions that give it in
    every completion: {verdict: (the edits with those answers, the questions still open)}."""
    position = {q.key: i for i, q in enumerate(version.questions)}
    new = sorted(
        {k for added, _ in leaves for k in added if version.question(k).actionable},
        key=position.get,
    )
    found = {}
    for size in range(min(len(new), max_extra) + 1):
        for keys in itertools.combinations(new, size):
            options = [version.question(k).choice_keys for k in keys]
            for choices in itertools.product(*options):
                fixed = dict(zip(keys, choices, strict=True))
                consistent = [
                    (added, d)
                    for added, d in leaves
                    if all(added.get(k, c) == c for k, c in fixed.items())
                ]
                if not consistent or not all(any(k in a for a, _ in consistent) for k in fixed):
                    continue
                verdicts = {verdict_key(d) for _, d in consistent}
                if len(verdicts) != 1:
                    continue
                (verdict,) = verdicts
                if verdict in (None, current) or verdict in found:
                    continue
                more = {k for added, _ in consistent for k in added} - set(fixed)
                found[verdict] = ({**edits, **fixed}, tuple(sorted(more, key=position.get)))
    return found


def reference_pool(version, answers, limit):
    """Every change the semantics allows, as {(frozenset of edits, verdict): more questions}."""
    decision = engine.evaluate(version, answers)
    base, current = dict(decision.answers), verdict_key(decision)
    pool, changing = {}, set()
    singles = [
        (k, c)
        for k, a in base.items()
        if version.question(k).actionable
        for c in version.question(k).choice_keys
        if c != a
    ]
    for key, choice in singles:
        leaves = leaves_of(version, base, {key: choice})
        found = settled(version, current, {key: choice}, leaves, whatif.MAX_EDITS - 1)
        for verdict, (edits, more) in found.items():
            pool[frozenset(edits.items()), verdict] = more
            if len(edits) == 1:
                changing.add((key, choice))
    single_groups = {(next(iter(e)), v, m) for (e, v), m in pool.items() if len(e) == 1}
    if len({(k, v, m) for ((k, _), v, m) in single_groups}) < limit:
        for first, second in itertools.combinations(singles, 2):
            if first[0] == second[0] or first in changing or second in changing:
                continue
            leaves = leaves_of(version, base, dict((first, second)))
            verdicts = {verdict_key(d) for _, d in leaves}
            if len(verdicts) == 1 and not verdicts & {None, current}:
                more = {k for added, _ in leaves for k in added}
                position = {q.key: i for i, q in enumerate(version.questions)}
                pool[frozenset((first, second)), verdicts.pop()] = tuple(
                    sorted(more, key=position.get)
                )
    return current, pool


def members(change):
    """Every combination of the change's edits and alternatives."""
    options = [
        [edit.to_choice] + [a.to_choice for a in change.alternatives if a.question == edit.question]
        for edit in change.edits
    ]
    for choices in itertools.product(*options):
        yield frozenset((e.question, c) for e, c in zip(change.edits, choices, strict=True))


def check_against_reference(version, answers, changes, limit=3):
    where = analysis.describe(answers)
    current, pool = reference_pool(version, answers, limit)
    strictness = {o.key: i for i, o in enumerate(version.outcomes_of("verdict"))}
    position = {q.key: i for i, q in enumerate(version.questions)}

    def full_key(edits, verdict):
        ordered = sorted(edits, key=lambda e: position[e[0]])
        return (
            len(ordered),
            -strictness[verdict],
            tuple(position[k] for k, _ in ordered),
            tuple(version.question(k).choice_keys.index(c) for k, c in ordered),
        )

    assert len(changes) <= limit, where
    keys = [full_key(keys_of(c).items(), c.verdict.key) for c in changes]
    assert keys == sorted(keys), f"not smallest first for {where}"
    covered = set()
    for change in changes:
        assert change.verdict.key != current, f"a change keeps the verdict for {where}"
        assert change.sentence.endswith(f"{change.verdict.title.rstrip(' .')}.")
        for edit in change.edits:
            assert f"“{edit.question_text}” answered “{edit.to_label}”" in change.sentence
        for member in members(change):
            assert member not in covered, f"{sorted(member)} reported twice for {where}"
            covered.add(member)
            assert pool.get((member, change.verdict.key)) == change.more_questions, (
                f"{sorted(member)} -> {change.verdict.key} is no change for {where}"
            )
            # It really gives the verdict, whatever the questions it leaves open are answered.
            leaves = leaves_of(version, dict(engine.walk(version, answers).answers), dict(member))
            assert leaves and {verdict_key(d) for _, d in leaves} == {change.verdict.key}
    # Nothing smaller or less strict was left out.
    last = keys[-1] if len(changes) == limit else None
    for (edits, verdict), _ in pool.items():
        if edits in covered:
            continue
        assert last is not None, f"{sorted(edits)} -> {verdict} missed for {where}"
        assert full_key(edits, verdict) > last, f"{sorted(edits)} -> {verdict} missed for {where}"


def check_changes_by_question(version, answers):
    decision = engine.evaluate(version, answers)
    base, current = dict(decision.answers), verdict_key(decision)
    expected: dict[str, list] = {key: [] for key in base}
    strictness = {o.key: i for i, o in enumerate(version.outcomes_of("verdict"))}
    for key, answer in base.items():
        for choice in version.question(key).choice_keys:
            if choice == answer or not version.question(key).actionable:
                continue
            leaves = leaves_of(version, base, {key: choice})
            verdicts = {verdict_key(d) for _, d in leaves} - {None}
            if verdicts and verdicts != {current}:
                expected[key].append((choice, tuple(sorted(verdicts, key=strictness.get))))
    assert whatif.changes_by_question(version, answers) == expected, analysis.describe(answers)


# --- random small versions, exhaustively -------------------------------------------------------


@pytest.mark.parametrize("seed", range(80))
def test_random_versions_agree_with_the_reference(seed):
    version = random_version(random.Random(seed))
    for answers in analysis.reachable_answer_sets(version):
        for limit in (1, 3):
            changes = whatif.what_would_change(version, answers, limit=limit)
            check_against_reference(version, answers, changes, limit)
            assert changes == whatif.what_would_change(version, answers, limit=limit, prune=False)
        check_changes_by_question(version, answers)


# --- the seeded policy ---------------------------------------------------------------------------


def seeded_params():
    return [pytest.param(key, id=f"{key[0]}@{key[1]}") for key in seeded_versions()]


def sample(version, key, every):
    """Every reachable answer set of the newest version; a deterministic sample of the others."""
    answer_sets = list(analysis.reachable_answer_sets(version))
    return answer_sets if key == NEWEST else answer_sets[::every]


@pytest.mark.parametrize("key", seeded_params())
def test_seeded_changes_agree_with_the_reference(key):
    version = seeded_versions()[key]
    for answers in sample(version, key, every=7):
        check_against_reference(version, answers, whatif.what_would_change(version, answers))


@pytest.mark.parametrize("key", seeded_params())
def test_seeded_changes_by_question_agree_with_the_reference(key):
    version = seeded_versions()[key]
    for answers in sample(version, key, every=7):
        check_changes_by_question(version, answers)


@pytest.mark.parametrize("key", seeded_params())
def test_the_filter_and_the_naive_engine_change_nothing(key):
    version = seeded_versions()[key]
    for answers in list(analysis.reachable_answer_sets(version))[::23]:
        changes = whatif.what_would_change(version, answers)
        assert changes == whatif.what_would_change(version, answers, prune=False)
        assert changes == whatif.what_would_change(version, answers, evaluate=engine.evaluate_naive)


def test_the_seeded_example_names_the_smallest_ways_out():
    version = seeded_versions()[NEWEST]
    answers = {
        "plan": "enterprise",
        "tool": "claude_code",
        "audience": "my_organization",
        "phi": "yes",
        "baa": "no",
        "zdr": "no",
        "surface": "local",
    }
    assert engine.evaluate(version, answers).verdict.key == "not_allowed"
    changes = whatif.what_would_change(version, answers)
    # Handling PHI is a circumstance (phi is not actionable in the seed): never suggested.
    assert [(keys_of(c), c.verdict.key) for c in changes] == [
        ({"plan": "bedrock"}, "allowed_with_conditions"),
        ({"baa": "yes", "zdr": "yes"}, "allowed_with_conditions"),
    ]
    assert [a.to_choice for a in changes[0].alternatives] == ["vertex", "foundry"]
    assert changes[1].sentence.startswith(
        "With “Has your organization executed a Business Associate Agreement (BAA) with "
        "Anthropic?” answered “Yes” and “Has Anthropic enabled Zero Data Retention (ZDR)"
    )


@pytest.mark.parametrize("key", seeded_params())
def test_circumstances_are_never_suggested_as_changes(key):
    version = seeded_versions()[key]
    fixed = {q.key for q in version.questions if not q.actionable}
    assert {"audience", "phi"} <= fixed
    for answers in list(analysis.reachable_answer_sets(version))[::11]:
        for change in whatif.what_would_change(version, answers):
            assert not {e.question for e in (*change.edits, *change.alternatives)} & fixed


def test_the_preferred_change_keeps_the_plan_and_tool_when_a_detail_will_do():
    version = seeded_versions()[NEWEST]
    hospital = {
        "plan": "enterprise",
        "tool": "claude_code",
        "audience": "my_organization",
        "phi": "yes",
        "baa": "yes",
        "zdr": "yes",
        "surface": "cloud",
    }
    saas = {
        "plan": "console",
        "tool": "own_app",
        "audience": "customers",
        "end_user_credentials": "users_claude_accounts",
        "phi": "no",
    }

    assert keys_of(whatif.preferred_changes(version, hospital)[0]) == {"surface": "local"}
    first, second = whatif.preferred_changes(version, saas)[:2]
    assert {keys_of(first)["end_user_credentials"], keys_of(second)["end_user_credentials"]} == {
        "our_account",
        "users_api_keys",
    }


def test_a_costlier_question_is_changed_last_among_equally_few_edits():
    version = make_version(PET_RULES)
    answers = {"pet": "dog", "walks": "no", "indoors": "yes"}
    # Equal costs: the later question (a detail) comes first, keeping the pet.
    assert [keys_of(c) for c in whatif.preferred_changes(version, answers)][:2] == [
        {"walks": "yes"},
        {"pet": "cat"},
    ]
    walks_matter = dataclasses.replace(
        version,
        questions=tuple(
            dataclasses.replace(q, change_cost=3) if q.key == "walks" else q
            for q in version.questions
        ),
    )
    assert [keys_of(c) for c in whatif.preferred_changes(walks_matter, answers)] == [
        {"pet": "cat"},
        {"pet": "fish"},
        {"walks": "yes"},
    ]


def test_the_preferred_change_for_a_subscription_in_another_tool_keeps_the_tool():
    version = seeded_versions()[NEWEST]
    opencode_on_max = {
        "plan": "max",
        "tool": "third_party_tool",
        "audience": "just_me",
        "phi": "no",
    }
    assert engine.evaluate(version, opencode_on_max).verdict.key == "not_allowed"
    first = whatif.preferred_changes(version, opencode_on_max)[0]
    assert set(keys_of(first)) == {"plan"}
    assert first.verdict.key == "allowed"
    changed_tool = [
        c for c in whatif.preferred_changes(version, opencode_on_max) if "tool" in keys_of(c)
    ]
    assert changed_tool, "changing the tool is still offered, after the plan"
