"""Properties of the engine and the static checks on random policies (hypothesis).

The strategy builds whole `engine.Version`s: questions with choices and "shown when" conditions
(mostly over earlier questions, now and then over a later one, which can never hold), outcomes in
the four tables, random hit policies, and rules with random conditions, priorities and clauses.
Every property is checked against a reading of the semantics written here from scratch, so that
a bug shared by the compiled engine and the naive interpreter (which share the walk and the
hit-policy step) still shows.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Iterator, Mapping

from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from policies import analysis, engine
from policies.engine import (
    Choice,
    Clause,
    Conjunction,
    HitPolicy,
    Outcome,
    Question,
    Rule,
    Version,
)

# Small enough to enumerate every answer set of a version (at most 4 ** 5 combinations).
MAX_QUESTIONS = 5
MAX_CHOICES = 3
PROPERTY_SETTINGS = settings(
    max_examples=75,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


# --- the strategy -----------------------------------------------------------------------------


@st.composite
def conjunctions(draw: st.DrawFn, questions: list[Question], *, min_tests: int) -> Conjunction:
    """An AND of "question in {choices}" over some of `questions` (each choice set non-empty)."""
    if not questions:
        return ()
    tested = draw(
        st.lists(
            st.sampled_from(questions),
            min_size=min(min_tests, len(questions)),
            max_size=min(3, len(questions)),
            unique_by=lambda q: q.key,
        )
    )
    return engine.conjunction(
        {
            q.key: draw(
                st.lists(st.sampled_from(q.choice_keys), min_size=1, unique=True).map(sorted)
            )
            for q in tested
        }
    )


@st.composite
def versions(draw: st.DrawFn) -> Version:
    count = draw(st.integers(1, MAX_QUESTIONS))
    sizes = [draw(st.integers(2, MAX_CHOICES)) for _ in range(count)]
    bare = [
        Question(f"q{i}", f"Q{i}?", tuple(Choice(f"c{j}", f"C{j}") for j in range(size)))
        for i, size in enumerate(sizes)
    ]
    questions = []
    for i, question in enumerate(bare):
        shown_when: tuple[Conjunction, ...] = ()
        if i and draw(st.booleans()):
            # Mostly earlier questions; sometimes any question, which the walk must treat as
            # never holding (it is not answered yet when this one is reached).
            pool = bare[:i] if draw(st.integers(0, 4)) else bare
            shown_when = tuple(
                draw(st.lists(conjunctions(pool, min_tests=1), min_size=1, max_size=2))
            )
        questions.append(Question(question.key, question.text, question.choices, "", shown_when))

    outcomes = []
    for table in engine.TABLES:
        for j in range(draw(st.integers(1, 3))):
            outcomes.append(Outcome(table, f"{table[0]}{j}", f"{table} {j}", f"Text {j}."))
    clauses = tuple(
        Clause(f"k{j}", f"Quote {j}.", f"https://example.com/{j}", "Source", "1") for j in range(3)
    )
    rules = []
    for i in range(draw(st.integers(0, 12))):
        outcome = draw(st.sampled_from(outcomes))
        rules.append(
            Rule(
                key=f"r{i}",
                table=outcome.table,
                outcome=outcome.key,
                conditions=draw(conjunctions(questions, min_tests=0)),
                reason=draw(st.sampled_from(["", f"Reason {i}.", "Shared reason."])),
                clauses=tuple(
                    draw(st.lists(st.sampled_from([c.key for c in clauses]), unique=True))
                ),
                priority=draw(st.integers(0, 3)),
            )
        )
    hit_policies = {table: draw(st.sampled_from(list(HitPolicy))) for table in engine.TABLES}
    return Version(
        policy="random",
        version="2025-01-01",
        questions=tuple(questions),
        outcomes=tuple(outcomes),
        rules=tuple(rules),
        clauses=clauses,
        hit_policies=hit_policies,
    )


def answer_sets(version: Version) -> st.SearchStrategy[dict[str, str]]:
    """Any valid answers: each question answered with one of its choices or left out, so
    partial, complete and off-the-path answers all come up."""
    return st.fixed_dictionaries(
        {},
        optional={q.key: st.sampled_from(q.choice_keys) for q in version.questions},
    )


def every_combination(version: Version) -> Iterator[dict[str, str]]:
    options = [(None, *q.choice_keys) for q in version.questions]
    for combination in itertools.product(*options):
        yield {
            q.key: c for q, c in zip(version.questions, combination, strict=True) if c is not None
        }


# --- a reference written from the semantics in engine.py's docstring ---------------------------


def on_path(version: Version, answers: Mapping[str, str]) -> tuple[dict[str, str], str | None]:
    """The answers on the path and the first question on it left unanswered (None: complete).
    Stops at that question, which is enough to tell complete answers from incomplete ones."""
    path: dict[str, str] = {}
    for question in version.questions:
        shown = not question.shown_when or any(
            all(path.get(key) in choices for key, choices in conj) for conj in question.shown_when
        )
        if not shown:
            continue
        if question.key not in answers:
            return path, question.key
        path[question.key] = answers[question.key]
    return path, None


def reference_tables(version: Version, path: Mapping[str, str]) -> dict[str, list[tuple]]:
    """Per table: (outcome, rules that gave it) in the order the decision lists them."""
    matched = [r for r in version.rules if all(path.get(k) in c for k, c in r.conditions)]
    result: dict[str, list[tuple]] = {}
    for table in engine.TABLES:
        rules = [r for r in matched if r.table == table]
        policy = version.hit_policies[table]
        if policy is HitPolicy.FIRST:
            # Lowest priority number; ties go to the rule stored first.
            first = min(rules, key=lambda r: r.priority, default=None)
            result[table] = [] if first is None else [(first.outcome, (first.key,))]
            continue
        items = []
        for outcome in version.outcomes_of(table):
            giving = [r for r in rules if r.outcome == outcome.key]
            if giving:
                by_priority = sorted(giving, key=lambda r: r.priority)
                items.append((outcome.key, tuple(r.key for r in by_priority)))
        # A decision has one verdict, whatever the table's hit policy: the first item.
        one = policy is HitPolicy.PRIORITY or table == engine.VERDICT
        result[table] = items[:1] if one else items
    return result


def decision_tables(decision: engine.Decision) -> dict[str, list[tuple]]:
    verdict = [decision.verdict] if decision.verdict else []
    return {
        engine.VERDICT: [(item.key, item.rules) for item in verdict],
        **{
            table: [(item.key, item.rules) for item in items]
            for table, items in decision.lists.items()
        },
    }


def reachable_complete(version: Version) -> list[dict[str, str]]:
    """Brute force: every combination whose answers are exactly the questions on its path."""
    found = []
    for answers in every_combination(version):
        path, missing = on_path(version, answers)
        if missing is None and path == answers:
            found.append(answers)
    return found


def as_set(answer_sets: Iterable[Mapping[str, str]]) -> set[frozenset[tuple[str, str]]]:
    return {frozenset(answers.items()) for answers in answer_sets}


# --- properties ---------------------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(st.data())
def test_compiled_engine_equals_naive_interpreter_on_any_answers(data):
    version = data.draw(versions())
    # hypothesis's own report leaves a Version out (its cached fields are not init fields).
    note(repr(version))
    for _ in range(10):
        answers = data.draw(answer_sets(version))
        compiled = engine.evaluate(version, answers)
        assert compiled == engine.evaluate_naive(version, answers), answers
        # A second call is answered from the decision memo and must not differ.
        assert engine.evaluate(version, answers) == compiled


@PROPERTY_SETTINGS
@given(versions())
def test_compiled_engine_follows_the_reference_semantics_on_every_answer_set(version):
    note(repr(version))
    for answers in every_combination(version):
        decision = engine.evaluate(version, answers)
        path, missing = on_path(version, answers)
        assert not decision.errors
        assert dict(decision.answers).items() >= path.items()
        if missing is not None:
            assert not decision.complete
            assert decision.next_question is not None
            assert decision.next_question.key == missing
            assert decision.verdict is None
            continue
        assert decision.complete
        assert dict(decision.answers) == path
        assert list(decision.answers) == [q.key for q in version.questions if q.key in path]
        assert set(decision.ignored) == set(answers) - set(path)
        assert decision_tables(decision) == reference_tables(version, path), answers
        assert decision == engine.evaluate_naive(version, answers)


@PROPERTY_SETTINGS
@given(versions())
def test_reachable_answer_sets_are_the_brute_force_ones(version):
    note(repr(version))
    listed = list(analysis.reachable_answer_sets(version))
    assert len(listed) == len(as_set(listed))  # no duplicates
    assert as_set(listed) == as_set(reachable_complete(version))


@PROPERTY_SETTINGS
@given(versions())
def test_analysis_gaps_are_the_brute_force_gaps(version):
    note(repr(version))
    expected = as_set(
        answers
        for answers in reachable_complete(version)
        if engine.evaluate(version, answers).verdict is None
    )
    found = analysis.gaps(version)
    assert len(found) == len(as_set(found))  # gap regions do not overlap
    assert as_set(found) == expected
    findings = analysis.check(version)
    assert any(f.code == "gap" for f in findings) == bool(expected)
    for finding in findings:
        if finding.code == "gap" and finding.example:
            assert frozenset(finding.example.items()) in expected


@PROPERTY_SETTINGS
@given(versions())
def test_unreachable_rules_and_questions_are_the_brute_force_ones(version):
    note(repr(version))
    reachable = reachable_complete(version)
    never_matching = {
        rule.key for rule in version.rules if not any(rule.matches(a) for a in reachable)
    }
    never_asked = {q.key for q in version.questions if not any(q.key in a for a in reachable)}
    findings = analysis.check(version)
    assert {f.subject for f in findings if f.code == "unreachable_rule"} == never_matching
    assert {f.subject for f in findings if f.code == "unreachable_question"} == never_asked


# --- junk input: errors, never exceptions ------------------------------------------------------

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True)
    | st.text(max_size=8)
    | st.binary(max_size=4)
    | st.sampled_from(["q0", "q1", "c0", "c1", "", "answers", "__class__"])
)
JUNK = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.tuples(inner, inner)
        | st.dictionaries(SCALARS.filter(lambda v: v == v), inner, max_size=4)
        | st.frozensets(st.integers(), max_size=2)
    ),
    max_leaves=10,
)
KEYS = st.sampled_from(["q0", "q1", "q2", "q9", "", "Q0"]) | st.integers() | st.none()
VALUES = st.sampled_from(["c0", "c1", "c2", "c9", "C0", ""]) | JUNK


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(version=versions(), answers=JUNK | st.dictionaries(KEYS, VALUES, max_size=5))
def test_junk_answers_give_errors_not_exceptions(version, answers):
    note(repr(version))
    errors = engine.validate(version, answers)
    for evaluate in (engine.evaluate, engine.evaluate_naive):
        decision = evaluate(version, answers)
        assert bool(decision.errors) == bool(errors)
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in errors.items())
        if decision.errors:
            assert not decision.complete
            assert decision.verdict is None
            assert decision.next_question is None
    if not errors:  # junk that happens to be valid answers: the other entry points take it too
        engine.walk(version, answers)
        engine.next_question(version, answers)


@settings(max_examples=75, deadline=None)
@given(version=versions(), value=JUNK)
def test_an_answer_that_is_not_one_of_the_choices_is_an_error_naming_the_question(version, value):
    note(repr(version))
    key = version.questions[0].key
    decision = engine.evaluate(version, {key: value})
    if isinstance(value, str) and value in version.questions[0].choice_keys:
        assert not decision.errors
    else:
        assert key in decision.errors
        message = decision.errors[key]
        assert "must be a string" in message or "is not a choice" in message


def test_nan_keys_and_values_are_reported_like_any_other_junk():
    version = Version(
        "p",
        "1",
        (Question("q0", "Q?", (Choice("c0", "C0"), Choice("c1", "C1"))),),
        (Outcome("verdict", "v", "V"),),
        (Rule("r", "verdict", "v", (), "", ()),),
    )
    junk: dict = {math.nan: "c0", "q0": math.nan}
    decision = engine.evaluate(version, junk)
    assert set(decision.errors) == {"nan", "q0"}
