"""Static checks on hand-built versions (no database), against brute force on random ones."""

import functools
import random
import re
from dataclasses import replace

import pytest

from policies import analysis, engine
from policies.engine import (
    Choice,
    Clause,
    HitPolicy,
    Outcome,
    Question,
    Rule,
    Version,
    conjunction,
)
from policies.loading import read_document, seed_files, to_engine

FIRST = {**engine.DEFAULT_HIT_POLICIES, engine.VERDICT: HitPolicy.FIRST}


def yes_no(key, shown_when=()):
    return Question(key, f"{key}?", (Choice("yes", "Yes"), Choice("no", "No")), "", shown_when)


QUESTIONS = (
    Question(
        "pet", "Which pet?", (Choice("cat", "Cat"), Choice("dog", "Dog"), Choice("fish", "Fish"))
    ),
    yes_no("walks", (conjunction({"pet": ["dog"]}),)),
    yes_no("indoors"),
)
OUTCOMES = (
    Outcome("verdict", "no", "No", "You may not."),
    Outcome("verdict", "maybe", "Maybe", "Perhaps."),
    Outcome("verdict", "yes", "Yes", "You may."),
    Outcome("steps", "leash", "Leash", "Use a leash."),
)
CLAUSES = (
    Clause("act", "The act says.", "https://example.com/act", "Act", "1"),
    Clause("guide", "The guide says.", "https://example.com/guide", "Guide", "2"),
    Clause("security-trust", "Trust us.", "https://example.com/trust", "Trust", "1"),
)
# A version with nothing to report: every answer set gets a verdict, and everything is used.
CLEAN_RULES = (
    Rule("default", "verdict", "yes", (), "Pets are fine.", ("act",)),
    Rule("fish", "verdict", "no", conjunction({"pet": ["fish"]}), "No fish.", ("act",)),
    Rule("lazy", "verdict", "maybe", conjunction({"walks": ["no"]}), "Walk it.", ("guide",)),
    Rule("leash", "steps", "leash", conjunction({"pet": ["dog"]}), "Dogs need one.", ("act",)),
)


def make_version(
    rules=CLEAN_RULES, *, questions=QUESTIONS, outcomes=OUTCOMES, clauses=CLAUSES, **kwargs
):
    return Version("pets", "2025-01-01", questions, outcomes, tuple(rules), clauses, **kwargs)


def rule(key, outcome, table="verdict", clauses=("act",), priority=0, **tests):
    return Rule(key, table, outcome, conjunction(tests), f"Because {key}.", clauses, priority)


def codes(findings):
    return sorted({f.code for f in findings})


def only(findings, code):
    return [f for f in findings if f.code == code]


def test_a_clean_version_has_no_findings():
    assert analysis.check(make_version()) == []


def test_it_finds_gaps_with_examples_that_get_no_verdict():
    version = make_version([r for r in CLEAN_RULES if r.key != "default"])

    gaps = only(analysis.check(version), "gap")

    # No rule decides for cats, nor for dogs that are walked: two regions of two answer sets.
    assert [(g.severity, g.subject) for g in gaps] == [("error", "verdict")] * 2
    assert {g.message for g in gaps} == {
        "No verdict rule matches 2 reachable answer sets where pet is cat.",
        "No verdict rule matches 2 reachable answer sets where pet is dog and walks is yes.",
    }
    for gap in gaps:
        decision = engine.evaluate(version, dict(gap.example))
        assert decision.complete
        assert decision.verdict is None


def test_it_lists_at_most_five_gap_regions_and_counts_the_rest():
    many = tuple(Choice(f"c{i}", f"C{i}") for i in range(8))
    questions = (Question("n", "N?", many), Question("m", "M?", many))
    rules = [rule(f"same-{i}", "yes", n=[f"c{i}"], m=[f"c{i}"]) for i in range(8)]
    version = make_version(rules, questions=questions, outcomes=OUTCOMES[2:3], clauses=CLAUSES[:1])

    gaps = only(analysis.check(version), "gap")

    assert len(gaps) == analysis.GAP_REGIONS_SHOWN + 1
    assert all(engine.evaluate(version, dict(g.example)).verdict is None for g in gaps[:-1])
    assert gaps[-1].message.startswith("3 more regions without a verdict (21 answer sets)")
    assert "n is c0 and m is not c0" in gaps[0].message


def test_the_first_hit_policy_reports_equal_priorities_that_disagree():
    rules = [rule("default", "yes", priority=5), *CLEAN_RULES[1:], rule("dogs", "no", pet=["dog"])]
    version = make_version(rules, hit_policies=FIRST)

    (conflict,) = only(analysis.check(version), "conflict")

    # lazy (maybe) and dogs (no) both match an unwalked dog, both with priority 0.
    assert (conflict.subject, conflict.related) == ("lazy", ("dogs",))
    assert conflict.example == {"pet": "dog", "walks": "no", "indoors": "yes"}
    assert conflict.severity == "error"


def test_the_same_rules_under_the_priority_hit_policy_do_not_conflict():
    rules = [rule("default", "yes", priority=5), *CLEAN_RULES[1:], rule("dogs", "no", pet=["dog"])]
    assert only(analysis.check(make_version(rules)), "conflict") == []


def test_the_first_hit_policy_has_no_conflict_when_a_lower_priority_rule_decides():
    rules = [
        rule("default", "yes", priority=5),
        rule("cat-indoors", "yes", pet=["cat"], indoors=["yes"]),
        rule("indoor", "maybe", indoors=["yes"], priority=1),
        rule("cats-out", "no", pet=["cat"], priority=1),
    ]
    conflicts = only(analysis.check(make_version(rules, hit_policies=FIRST)), "conflict")
    # indoor and cats-out disagree at pet=cat, indoors=yes, but cat-indoors comes first there.
    assert conflicts == []


def test_it_finds_a_conflict_between_equal_priorities_where_nothing_earlier_matches():
    rules = [
        rule("default", "yes", priority=5),
        rule("indoor", "maybe", indoors=["yes"], priority=1),
        rule("cats", "no", pet=["cat"], priority=1),
    ]
    version = make_version(rules, hit_policies=FIRST)

    (conflict,) = only(analysis.check(version), "conflict")

    assert {conflict.subject, *conflict.related} == {"indoor", "cats"}
    assert conflict.example == {"pet": "cat", "indoors": "yes"}
    assert "priority 1" in conflict.message


def test_the_priority_hit_policy_has_no_conflicts():
    rules = [*CLEAN_RULES, rule("cats", "maybe", pet=["cat"])]
    assert only(analysis.check(make_version(rules)), "conflict") == []


def test_it_finds_a_rule_that_nothing_reaches_and_the_dead_condition_behind_it():
    # walks is asked only for dogs, so a rule about walked cats never applies.
    version = make_version([*CLEAN_RULES, rule("walked-cat", "no", pet=["cat"], walks=["yes"])])

    findings = analysis.check(version)

    assert [f.subject for f in only(findings, "unreachable_rule")] == ["walked-cat"]
    (dead,) = only(findings, "dead_condition")
    assert dead.subject == "walked-cat"
    assert dead.related == ("walks",)
    assert dead.example == {"pet": "cat", "indoors": "yes"}
    assert "walks is never asked" in dead.message


def test_it_finds_a_verdict_rule_that_a_stricter_one_always_beats():
    version = make_version([*CLEAN_RULES, rule("fish-maybe", "maybe", pet=["fish"])])

    (shadowed,) = only(analysis.check(version), "shadowed_rule")

    assert shadowed.subject == "fish-maybe"
    assert shadowed.related == ("fish",)
    assert shadowed.example["pet"] == "fish"
    assert "a stricter outcome wins; in the example, fish (no) does." in shadowed.message


def test_a_rule_that_decides_somewhere_is_not_shadowed():
    # "lazy" (maybe) loses to "fish" nowhere and beats "default" (yes) for unwalked dogs.
    assert only(analysis.check(make_version()), "shadowed_rule") == []


def test_under_the_first_hit_policy_an_earlier_rule_shadows():
    rules = [
        rule("default", "yes", priority=5),
        rule("all-fish", "no", pet=["fish"], priority=1),
        rule("indoor-fish", "maybe", pet=["fish"], indoors=["yes"], priority=2),
        *CLEAN_RULES[2:],
    ]
    (shadowed,) = only(analysis.check(make_version(rules, hit_policies=FIRST)), "shadowed_rule")
    assert shadowed.subject == "indoor-fish"
    assert shadowed.related == ("all-fish",)


def test_it_finds_a_question_that_is_never_asked():
    questions = (*QUESTIONS, yes_no("groomed", (conjunction({"pet": ["cat"], "walks": ["yes"]}),)))
    findings = analysis.check(make_version(questions=questions))

    assert [f.subject for f in only(findings, "unreachable_question")] == ["groomed"]
    (dead,) = only(findings, "dead_condition")
    assert (dead.subject, dead.related) == ("groomed", ("walks",))
    assert "'shown when' of question groomed" in dead.message


def test_a_shown_when_on_a_later_question_is_dead():
    questions = (
        QUESTIONS[0],
        yes_no("early", (conjunction({"indoors": ["yes"]}),)),
        *QUESTIONS[1:],
    )
    findings = analysis.check(make_version(questions=questions))

    assert [f.subject for f in only(findings, "unreachable_question")] == ["early"]
    (dead,) = only(findings, "dead_condition")
    assert (dead.subject, dead.related) == ("early", ("indoors",))
    assert dead.message == (
        "Question early is shown when indoors is yes, but indoors is asked later, so that "
        "alternative never holds."
    )


def test_it_finds_outcomes_without_text_or_without_a_rule():
    outcomes = (*OUTCOMES, Outcome("steps", "tank", "Tank", ""))
    findings = analysis.check(make_version(outcomes=outcomes))

    assert [(f.code, f.subject) for f in findings] == [
        ("outcome_without_text", "tank"),
        ("unused_outcome", "tank"),
    ]
    assert all(f.severity == "warning" for f in findings)


def test_it_finds_clauses_that_no_rule_cites_except_standing_security_ones():
    clauses = (*CLAUSES, Clause("spare", "Unused.", "https://example.com/spare"))
    findings = analysis.check(make_version(clauses=clauses))
    assert [(f.code, f.subject) for f in findings] == [("uncited_clause", "spare")]


def test_a_rule_without_a_clause_is_an_error():
    findings = analysis.check(make_version([*CLEAN_RULES, rule("bare", "yes", clauses=())]))
    (bare,) = only(findings, "rule_without_clause")
    assert bare.subject == "bare"
    assert bare.severity == "error"
    assert analysis.has_errors(findings)


def test_errors_come_before_warnings():
    rules = [r for r in CLEAN_RULES if r.key != "default"]
    rules.append(rule("walked-cat", "no", pet=["cat"], walks=["yes"]))
    findings = analysis.check(make_version(rules))
    severities = [f.severity for f in findings]
    assert severities == sorted(severities)  # "error" < "warning"
    assert {"gap", "unreachable_rule"} <= set(codes(findings))


def test_a_finding_reads_as_one_line_with_its_example():
    version = make_version([*CLEAN_RULES, rule("fish-maybe", "maybe", pet=["fish"])])
    (shadowed,) = only(analysis.check(version), "shadowed_rule")
    assert str(shadowed).startswith("warning shadowed_rule fish-maybe: Rule fish-maybe (maybe) ")
    assert str(shadowed).endswith("(for example pet=fish, indoors=yes)")


# --- the seeded policy ----------------------------------------------------------------------------


@functools.cache
def seeded_versions():
    return [
        to_engine(document.slug, version)
        for document in map(read_document, seed_files())
        for version in document.versions
    ]


@pytest.mark.parametrize("index", range(4))
def test_the_seeded_policy_has_no_errors(index):
    version = seeded_versions()[index]
    findings = analysis.check(version)
    assert not analysis.has_errors(findings), [str(f) for f in findings]


def test_the_reachable_region_holds_exactly_the_reachable_answer_sets_of_the_seed():
    for version in seeded_versions():
        region = analysis.reachable_region(version)
        expected = list(analysis.reachable_answer_sets(version))
        assert sum(analysis.cube_size(c) for c in region) == len(expected)
        space = analysis._Space(version)
        found = [a for cube in region for a in space.answer_sets(cube)]
        assert sorted(map(key, found)) == sorted(map(key, expected))


# --- brute force on random small policies ---------------------------------------------------------


def key(answers):
    return tuple(sorted(answers.items()))


def random_version(rng: random.Random) -> Version:
    questions: list[Question] = []
    for i in range(rng.randint(1, 4)):
        choices = tuple(Choice(f"c{j}", f"C{j}") for j in range(rng.randint(2, 3)))
        shown_when: tuple[engine.Conjunction, ...] = ()
        if questions and rng.random() < 0.6:
            alternatives = []
            for _ in range(rng.randint(1, 2)):
                tests = {}
                for earlier in rng.sample(questions, rng.randint(1, min(2, len(questions)))):
                    tests[earlier.key] = rng.sample(
                        earlier.choice_keys, rng.randint(1, len(earlier.choices))
                    )
                alternatives.append(conjunction(tests))
            shown_when = tuple(alternatives)
        questions.append(Question(f"q{i}", f"Q{i}?", choices, "", shown_when))
    if rng.random() < 0.2:
        # A test on a question asked later (or on itself) never holds; the engine allows it.
        at = rng.randrange(len(questions))
        later = rng.choice(questions[at:])
        question = questions[at]
        alternative = conjunction({later.key: [later.choice_keys[0]]})
        questions[at] = replace(question, shown_when=(*question.shown_when, alternative))
    outcomes = [Outcome("verdict", f"v{i}", f"V{i}", "Text.") for i in range(3)]
    outcomes += [Outcome("steps", f"s{i}", f"S{i}", "Text.") for i in range(2)]
    first = rng.random() < 0.4
    rules = []
    for i in range(rng.randint(1, 10)):
        outcome = rng.choice(outcomes)
        tests = {}
        for q in rng.sample(questions, rng.randint(0, len(questions))):
            tests[q.key] = rng.sample(q.choice_keys, rng.randint(1, len(q.choices)))
        priority = rng.randint(0, 2) if first else 0
        rules.append(
            Rule(f"r{i}", outcome.table, outcome.key, conjunction(tests), "", ("act",), priority)
        )
    return Version(
        "random",
        "1",
        tuple(questions),
        tuple(outcomes),
        tuple(rules),
        (Clause("act", "q", "https://example.com", "Act", "1"),),
        FIRST if first else engine.DEFAULT_HIT_POLICIES,
    )


def brute_force(version):
    """Every finding that depends on reachability, by enumerating the reachable answer sets."""
    answer_sets = list(analysis.reachable_answer_sets(version))
    decisions = [engine.evaluate(version, a) for a in answer_sets]
    matches = {r.key: [r.matches(a) for a in answer_sets] for r in version.rules}
    verdict_rules = [r for r in version.rules if r.table == engine.VERDICT]
    first = version.hit_policies[engine.VERDICT] is HitPolicy.FIRST
    conflicts = set()
    if first:
        order = version._compiled.rules
        for a in answer_sets:
            hits = [r for r in order if r.table == engine.VERDICT and r.matches(a)]
            top = [r for r in hits if r.priority == hits[0].priority] if hits else []
            for i, x in enumerate(top):
                conflicts |= {(x.key, y.key) for y in top[i + 1 :] if y.outcome != x.outcome}
    dead = set()
    for r in version.rules:
        for q, _ in r.conditions:
            rest = [a for a in answer_sets if all(a.get(k) in c for k, c in r.conditions if k != q)]
            if rest and all(q not in a for a in rest):
                dead.add((r.key, q))
    order = [q.key for q in version.questions]
    for i, question in enumerate(version.questions):
        for conj in question.shown_when:
            too_late = {(question.key, q) for q, _ in conj if order.index(q) >= i}
            dead |= too_late
            for q, _ in () if too_late else conj:
                rest = [a for a in answer_sets if all(a.get(k) in c for k, c in conj if k != q)]
                if rest and all(q not in a for a in rest):
                    dead.add((question.key, q))
    return {
        "gaps": {key(a) for a, d in zip(answer_sets, decisions, strict=True) if d.verdict is None},
        "unreachable_rule": {k for k, m in matches.items() if not any(m)},
        "shadowed_rule": {
            r.key
            for r in verdict_rules
            if any(matches[r.key])
            and not any(d.verdict and r.key in d.verdict.rules for d in decisions)
        },
        "conflict": conflicts,
        "unreachable_question": {
            q.key for q in version.questions if not any(q.key in a for a in answer_sets)
        },
        "dead_condition": dead,
    }


@pytest.mark.parametrize("seed", range(150))
def test_the_checks_agree_with_brute_force(seed):
    version = random_version(random.Random(seed))
    expected = brute_force(version)
    findings = analysis.check(version)

    assert {key(a) for a in analysis.gaps(version)} == expected["gaps"]
    assert sum(analysis.cube_size(c) for c in analysis.gap_regions(version)) == len(
        expected["gaps"]
    )
    assert bool(only(findings, "gap")) == bool(expected["gaps"])
    for code in ("unreachable_rule", "shadowed_rule", "unreachable_question"):
        assert {f.subject for f in only(findings, code)} == expected[code], code
    conflicts = {(f.subject, f.related[0]) for f in only(findings, "conflict") if f.related}
    if len(expected["conflict"]) <= analysis.CONFLICTS_SHOWN:
        assert conflicts == expected["conflict"]
    else:
        assert conflicts < expected["conflict"]
    dead = {(f.subject, f.related[0]) for f in only(findings, "dead_condition")}
    assert dead == expected["dead_condition"]


@pytest.mark.parametrize("seed", range(150))
def test_every_example_is_a_reachable_answer_set_that_shows_the_finding(seed):
    version = random_version(random.Random(seed))
    for finding in analysis.check(version):
        if not finding.example:
            continue
        decision = engine.evaluate(version, dict(finding.example))
        assert decision.complete, finding
        assert dict(decision.answers) == dict(finding.example), finding
        if finding.code == "gap":
            assert decision.verdict is None
        elif finding.code == "conflict":
            matching = {r.key for r in version.rules if r.matches(finding.example)}
            assert {finding.subject, *finding.related} <= matching
        elif finding.code == "shadowed_rule":
            assert decision.verdict is not None
            assert finding.subject not in decision.verdict.rules
            assert set(finding.related) & set(decision.verdict.rules)


def test_a_big_policy_is_checked_without_enumerating_its_answer_sets():
    # 3^18 (about 387 million) answer sets: enumeration is out of the question.
    choices = (Choice("a", "A"), Choice("b", "B"), Choice("c", "C"))
    questions = tuple(Question(f"q{i}", "?", choices) for i in range(18))
    rules = [rule(f"r{i}", "yes", **{f"q{i}": ["a", "b"]}) for i in range(18)]
    version = make_version(rules, questions=questions, outcomes=OUTCOMES[2:3], clauses=CLAUSES[:1])

    (gap,) = only(analysis.check(version), "gap")

    assert gap.message.startswith("No verdict rule matches 1 reachable answer set where")
    assert gap.example == {f"q{i}": "c" for i in range(18)}
    assert re.search(r"q17 is c\.", gap.message)


def test_a_gap_search_that_hits_its_bound_says_so(monkeypatch):
    many = tuple(Choice(f"c{i}", f"C{i}") for i in range(8))
    questions = (Question("n", "N?", many), Question("m", "M?", many))
    rules = [rule(f"same-{i}", "yes", n=[f"c{i}"], m=[f"c{i}"]) for i in range(8)]
    version = make_version(rules, questions=questions, outcomes=OUTCOMES[2:3], clauses=CLAUSES[:1])
    monkeypatch.setattr(analysis, "GAP_PIECE_LIMIT", 3)

    gaps = only(analysis.check(version), "gap")

    assert "The search stopped after 3 pieces" in gaps[-1].message
    assert all(engine.evaluate(version, dict(g.example)).verdict is None for g in gaps[:-1])
