"""The policy engine: typed decision tables over a question flow, evaluated without I/O.

Nothing here imports Django or knows about any particular policy. `records.py` builds a `Version`
from the database; tests build one by hand. A `Version` precomputes bitmasks when it is created, so
`evaluate` is a handful of integer ANDs per question plus the work of assembling the decision.

Semantics, in brief:
- Questions are asked in order. A question is on the path when its `shown_when` holds over the
  answers on the path before it (an OR of ANDs of "question in {choices}"; empty means always).
- A rule's conditions are an AND of "question in {choices}"; a question that is not answered on
  the path satisfies no condition.
- Each output table has a hit policy: `priority` returns the single matching outcome that comes
  first in the table's outcome order (for verdicts: strictest first), `first` the outcome of the
  matching rule with the lowest priority number, `collect` every matching outcome, deduplicated,
  in outcome order.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TypeVar

VERDICT = "verdict"
AUTH_METHODS = "auth_methods"
TERMS = "terms"
STEPS = "steps"
TABLES: tuple[str, ...] = (VERDICT, AUTH_METHODS, TERMS, STEPS)
LIST_TABLES: tuple[str, ...] = (AUTH_METHODS, TERMS, STEPS)


class HitPolicy(StrEnum):
    PRIORITY = "priority"
    FIRST = "first"
    COLLECT = "collect"


DEFAULT_HIT_POLICIES: Mapping[str, HitPolicy] = {
    VERDICT: HitPolicy.PRIORITY,
    AUTH_METHODS: HitPolicy.COLLECT,
    TERMS: HitPolicy.COLLECT,
    STEPS: HitPolicy.COLLECT,
}

Dated = TypeVar("Dated")


def in_effect(
    versions: Iterable[Dated], day: dt.date, *, effective_date: Callable[[Dated], dt.date | None]
) -> Dated | None:
    """The one rule for which version applies on `day`: of the versions with an effective date on
    or before it, the latest; None when none has taken effect. Ties go to the first given."""
    best: Dated | None = None
    best_day: dt.date | None = None
    for version in versions:
        start = effective_date(version)
        if start is not None and start <= day and (best_day is None or start > best_day):
            best, best_day = version, start
    return best


# An AND of "question in {choices}" tests, sorted by question key so equal conditions compare equal.
Conjunction = tuple[tuple[str, frozenset[str]], ...]


def conjunction(tests: Mapping[str, Iterable[str]]) -> Conjunction:
    return tuple(sorted((key, frozenset(choices)) for key, choices in tests.items()))


QUOTE = "quote"
REFERENCE = "reference"


@dataclass(frozen=True)
class Clause:
    key: str
    quote: str
    url: str
    source: str = ""
    version: str = ""  # the date of the snapshot quoted
    # "quote": the page's own words, checked against its snapshot; "reference": a link to a
    # document whose text we do not hold (its `quote` is only a label).
    kind: str = QUOTE
    later_statement: bool = False  # quoted from a text dated after the version took effect
    later_statement_reason: str = ""
    document: str = ""  # the key of the source document, "" when none is named
    title: str = ""  # the source document's title


@dataclass(frozen=True)
class Choice:
    key: str
    label: str
    help: str = ""
    # Sensitive answers (health data, say) make a saved link private by default.
    sensitive: bool = False


@dataclass(frozen=True)
class Question:
    key: str
    text: str
    choices: tuple[Choice, ...]
    help: str = ""
    # An OR of conjunctions; empty means the question is always asked.
    shown_when: tuple[Conjunction, ...] = ()
    # A choice the person can make (a plan, a tool), not a circumstance (who the users are):
    # only these are varied by "what would change this".
    actionable: bool = True
    # What the person gives up by changing this answer (1 for a detail; more for what they came
    # to do, such as the tool they use): among equally few edits, "what would change this" shows
    # the changes of lowest total cost first, so it keeps the tool where it can.
    change_cost: int = 1
    # The short message for an empty answer ("Choose how you get access"); empty: derived.
    error: str = ""

    @property
    def choice_keys(self) -> tuple[str, ...]:
        return tuple(choice.key for choice in self.choices)

    def choice(self, key: str) -> Choice | None:
        return next((choice for choice in self.choices if choice.key == key), None)


@dataclass(frozen=True)
class Outcome:
    table: str
    key: str
    title: str
    text: str = ""
    detail: str = ""
    # What to do, in one sentence: on a list item, its part of the line under the verdict; on a
    # verdict, the words that lead that line in.
    action: str = ""


@dataclass(frozen=True)
class Rule:
    key: str
    table: str
    outcome: str
    conditions: Conjunction = ()
    reason: str = ""
    clauses: tuple[str, ...] = ()
    priority: int = 0

    def matches(self, answers: Mapping[str, str]) -> bool:
        return all(answers.get(key) in choices for key, choices in self.conditions)


@dataclass(frozen=True)
class Item:
    """One outcome in a decision, with the rules' reasons and the clauses they cite."""

    key: str
    title: str
    text: str
    detail: str
    reasons: tuple[str, ...]
    clauses: tuple[Clause, ...]
    rules: tuple[str, ...]
    action: str = ""


@dataclass(frozen=True)
class Decision:
    answers: Mapping[str, str]  # the answers on the path, in question order
    ignored: tuple[str, ...]  # answered questions that the path does not reach
    errors: Mapping[str, str]  # question key (or "answers") -> message; empty when valid
    next_question: Question | None
    verdict: Item | None
    auth_methods: tuple[Item, ...] = ()
    terms: tuple[Item, ...] = ()
    steps: tuple[Item, ...] = ()

    @property
    def complete(self) -> bool:
        return not self.errors and self.next_question is None

    @property
    def lists(self) -> dict[str, tuple[Item, ...]]:
        return {AUTH_METHODS: self.auth_methods, TERMS: self.terms, STEPS: self.steps}

    @property
    def fired_rules(self) -> tuple[str, ...]:
        items = ([self.verdict] if self.verdict else []) + [
            item for items in self.lists.values() for item in items
        ]
        return tuple(rule for item in items for rule in item.rules)


class PolicyError(ValueError):
    """A version whose records contradict each other (a dangling reference, a duplicate id)."""


@dataclass(frozen=True)
class Version:
    policy: str
    version: str
    questions: tuple[Question, ...]
    outcomes: tuple[Outcome, ...]
    rules: tuple[Rule, ...]
    clauses: tuple[Clause, ...] = ()
    hit_policies: Mapping[str, HitPolicy] = field(default_factory=lambda: DEFAULT_HIT_POLICIES)

    # Precomputed lookups, filled in by __post_init__ (the dataclass is frozen, hence setattr).
    _questions: dict[str, Question] = field(init=False, repr=False, compare=False)
    _choice_sets: dict[str, frozenset[str]] = field(init=False, repr=False, compare=False)
    _outcomes: dict[tuple[str, str], Outcome] = field(init=False, repr=False, compare=False)
    _clauses: dict[str, Clause] = field(init=False, repr=False, compare=False)
    _compiled: _CompiledRules = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "_questions", _unique_by_key(self.questions, "question"))
        set_(self, "_choice_sets", {q.key: frozenset(q.choice_keys) for q in self.questions})
        set_(self, "_outcomes", {})
        for outcome in self.outcomes:
            if (outcome.table, outcome.key) in self._outcomes:
                raise PolicyError(f"Duplicate outcome {outcome.table}.{outcome.key}")
            if outcome.table not in TABLES:
                raise PolicyError(f"Outcome {outcome.key} has unknown table {outcome.table!r}")
            self._outcomes[outcome.table, outcome.key] = outcome
        set_(self, "_clauses", _unique_by_key(self.clauses, "clause"))
        self._check_references()
        set_(self, "_compiled", _CompiledRules(self))

    def _check_references(self) -> None:
        for question in self.questions:
            if len(set(question.choice_keys)) != len(question.choices):
                raise PolicyError(f"Question {question.key} repeats a choice")
            for conj in question.shown_when:
                self._check_conjunction(conj, f"question {question.key}")
        seen_rules: set[str] = set()
        for rule in self.rules:
            if rule.key in seen_rules:
                raise PolicyError(f"Duplicate rule {rule.key}")
            seen_rules.add(rule.key)
            if (rule.table, rule.outcome) not in self._outcomes:
                raise PolicyError(f"Rule {rule.key} names unknown outcome {rule.outcome}")
            self._check_conjunction(rule.conditions, f"rule {rule.key}")
            for clause in rule.clauses:
                if clause not in self._clauses:
                    raise PolicyError(f"Rule {rule.key} cites unknown clause {clause}")

    def _check_conjunction(self, conj: Conjunction, where: str) -> None:
        for key, choices in conj:
            if key not in self._choice_sets:
                raise PolicyError(f"The condition of {where} names unknown question {key}")
            unknown = choices - self._choice_sets[key]
            if unknown:
                raise PolicyError(
                    f"The condition of {where} names unknown choices of {key}: "
                    + ", ".join(sorted(unknown))
                )

    def question(self, key: str) -> Question | None:
        return self._questions.get(key)

    def outcome(self, table: str, key: str) -> Outcome | None:
        return self._outcomes.get((table, key))

    def clause(self, key: str) -> Clause | None:
        return self._clauses.get(key)

    def outcomes_of(self, table: str) -> tuple[Outcome, ...]:
        return tuple(outcome for outcome in self.outcomes if outcome.table == table)


def conditions_in_order(version: Version, conj: Conjunction) -> dict[str, list[str]]:
    """A conjunction as it is stored and written (YAML, the API): question ids mapped to choice
    ids, in the question's own choice order."""
    written: dict[str, list[str]] = {}
    for key, choices in conj:
        question = version.question(key)
        order = question.choice_keys if question else ()
        written[key] = [c for c in order if c in choices] + sorted(choices - set(order))
    return written


def _unique_by_key(records: Iterable, kind: str) -> dict:
    by_key: dict = {}
    for record in records:
        if record.key in by_key:
            raise PolicyError(f"Duplicate {kind} {record.key}")
        by_key[record.key] = record
    return by_key


class _CompiledRules:
    """Bitmask form of a version's rules: one bit per rule, one mask per (question, choice).

    `accepts[q][c]` has the bits of the rules that allow answer c to question q (or do not test q);
    `free[q]` has the bits of the rules that do not test q, for when q is not on the path. ANDing
    one mask per question leaves exactly the rules whose every condition holds.
    """

    def __init__(self, version: Version) -> None:
        outcome_order = {(o.table, o.key): i for i, o in enumerate(version.outcomes)}
        # Rules are indexed in (table, priority) order so that the lowest set bit of a table's
        # mask is the `first` hit.
        rules = sorted(version.rules, key=lambda r: (TABLES.index(r.table), r.priority))
        self.rules = rules
        self.all_rules = (1 << len(rules)) - 1
        self.table_masks = {
            table: sum(1 << i for i, r in enumerate(rules) if r.table == table) for table in TABLES
        }
        self.free: dict[str, int] = {}
        self.accepts: dict[str, dict[str, int]] = {}
        for question in version.questions:
            tested = {i: dict(r.conditions).get(question.key) for i, r in enumerate(rules)}
            free = sum(1 << i for i, choices in tested.items() if choices is None)
            self.free[question.key] = free
            self.accepts[question.key] = {
                choice: free
                | sum(1 << i for i, ch in tested.items() if ch is not None and choice in ch)
                for choice in question.choice_keys
            }
        self.outcome_rank = [outcome_order[r.table, r.outcome] for r in rules]
        # Per table, per outcome in outcome order: the bits of the rules that produce it.
        self.outcome_masks = [
            [
                sum(1 << i for i, r in enumerate(rules) if (r.table, r.outcome) == (o.table, o.key))
                for o in version.outcomes
                if o.table == table
            ]
            for table in TABLES
        ]
        self.hit_policies = [
            version.hit_policies.get(table, DEFAULT_HIT_POLICIES[table]) for table in TABLES
        ]
        self.outcomes = version.outcomes
        self.version = version
        # Most outcomes come from one rule; their Item is built once here and shared.
        self.single_items = [
            _item(version, version.outcome(r.table, r.outcome), [r]) for r in rules
        ]
        # A version never changes, so a decision depends only on which rules matched: the
        # assembled lists are kept per match mask, up to a bound that keeps memory flat.
        self.assembled: dict[int, Assembled] = {}
        self.merged_items: dict[int, Item] = {}
        # The longest remaining path per answers so far (`longest_remaining`).
        self.longest: dict[tuple[tuple[str, str], ...], int] = {}


def _item(version: Version, outcome: Outcome | None, rules: list[Rule]) -> Item:
    assert outcome is not None  # references are checked when the Version is built
    clauses: dict[str, Clause] = {}
    for rule in rules:
        for key in rule.clauses:
            clauses.setdefault(key, version._clauses[key])
    return Item(
        key=outcome.key,
        title=outcome.title,
        text=outcome.text,
        detail=outcome.detail,
        reasons=tuple(dict.fromkeys(rule.reason for rule in rules if rule.reason)),
        clauses=tuple(clauses.values()),
        rules=tuple(rule.key for rule in rules),
        action=outcome.action,
    )


# --- validation and the question path ------------------------------------------------------------


def validate(version: Version, answers: object) -> dict[str, str]:
    """Errors keyed by question, each naming what is allowed. Empty when the answers are valid."""
    if not isinstance(answers, Mapping):
        return {"answers": "Answers must be an object mapping question ids to choice ids."}
    errors: dict[str, str] = {}
    for key, value in answers.items():
        question = version._questions.get(key) if isinstance(key, str) else None
        if question is None:
            errors[str(key)] = (
                f"Unknown question {key!r}. Questions are: "
                + ", ".join(q.key for q in version.questions)
                + "."
            )
        elif not isinstance(value, str):
            errors[key] = (
                f"The answer to {key!r} must be a string, one of: "
                + ", ".join(question.choice_keys)
                + "."
            )
        elif value not in version._choice_sets[key]:
            errors[key] = (
                f"{value!r} is not a choice for {key!r}. Choose one of: "
                + ", ".join(question.choice_keys)
                + "."
            )
    return errors


def still_valid(version: Version, answers: Mapping[str, object]) -> dict[str, str]:
    """The answers that are valid for this version: for carrying answers given under another
    version (a re-check) into this one, leaving out questions or choices it no longer has."""
    return {
        key: value
        for key, value in answers.items()
        if isinstance(value, str) and value in version._choice_sets.get(key, ())
    }


def _holds(
    shown_when: tuple[Conjunction, ...], answers: Mapping[str, str], open_: set[str]
) -> bool | None:
    """Three-valued: True, False, or None when it depends on a question not yet answered."""
    if not shown_when:
        return True
    result: bool | None = False
    for conj in shown_when:
        value: bool | None = True
        for key, choices in conj:
            if key in answers:
                if answers[key] not in choices:
                    value = False
                    break
            elif key in open_:
                value = None
            else:
                value = False
                break
        if value:
            return True
        if value is None:
            result = None
    return result


@dataclass(frozen=True)
class Path:
    answers: dict[str, str]  # answers certainly on the path, in question order
    ignored: tuple[str, ...]  # answered but certainly off the path
    next_question: Question | None  # the first question on the path left unanswered


def walk(version: Version, answers: Mapping[str, str]) -> Path:
    """Follow the question flow. An answer is ignored only when its question is certainly off the
    path; answers after the first gap are kept, since filling the gap may put them on the path."""
    known, ignored, next_question, _ = _walk(version, answers)
    return Path(known, ignored, next_question)


def _walk(
    version: Version, answers: Mapping[str, str]
) -> tuple[dict[str, str], tuple[str, ...], Question | None, int]:
    """The walk, plus the mask of rules whose conditions the answers on the path meet (ANDed in
    as it goes, so evaluation needs no second pass over the questions)."""
    compiled = version._compiled
    accepts, free = compiled.accepts, compiled.free
    mask = compiled.all_rules
    known: dict[str, str] = {}  # answers certainly on the path
    ignored: list[str] = []
    next_question: Question | None = None
    open_: set[str] = set()  # questions whose place on the path, or answer, is not settled yet
    for question in version.questions:
        key = question.key
        shown_when = question.shown_when
        shown: bool | None
        if not shown_when:
            shown = True
        elif open_:
            shown = _holds(shown_when, known, open_)
        else:
            # Nothing is pending, so two-valued logic suffices; this is the hot path.
            shown = False
            for conj in shown_when:
                for test_key, choices in conj:
                    if known.get(test_key) not in choices:
                        break
                else:
                    shown = True
                    break
        if shown and key in answers:
            answer = known[key] = answers[key]
            mask &= accepts[key][answer]
            continue
        mask &= free[key]
        if shown is False:
            if key in answers:
                ignored.append(key)
        else:
            open_.add(key)
            if shown and next_question is None:
                next_question = question
    return known, tuple(ignored), next_question, mask


def next_question(version: Version, answers: Mapping[str, str]) -> Question | None:
    return walk(version, answers).next_question


def path_questions(version: Version, answers: Mapping[str, str]) -> tuple[Question, ...]:
    """The questions answered on the path, in order (for a check-your-answers page)."""
    on_path = walk(version, answers).answers
    return tuple(q for q in version.questions if q.key in on_path)


def sensitive_answers(
    version: Version, answers: Mapping[str, str]
) -> tuple[tuple[Question, Choice], ...]:
    """The answers on the path whose choice is marked sensitive, in question order."""
    found = []
    for question in path_questions(version, answers):
        choice = question.choice(answers[question.key])
        if choice is not None and choice.sensitive:
            found.append((question, choice))
    return tuple(found)


def previous_question(version: Version, path: Path, key: str) -> Question | None:
    """The answered question on the path just before `key` (where Back leads), if any."""
    previous = None
    for question in version.questions:
        if question.key == key:
            break
        if question.key in path.answers:
            previous = question
    return previous


def following_question(version: Version, path: Path, key: str) -> Question | None:
    """The question after `key` on the path, answered or not; None once nothing is left. Walking
    back through answered questions and continuing goes forward one question at a time."""
    keys = [q.key for q in version.questions]
    for candidate in version.questions[keys.index(key) + 1 :]:
        if candidate.key in path.answers or candidate == path.next_question:
            return candidate
    return path.next_question


def position(version: Version, path: Path, key: str) -> tuple[int, int]:
    """(number of `key` on the path, at most how many questions in all) for "Question 3 of at
    most 6". The most is the longest path the answers before `key` still allow, so it is never
    less than the questions that will be asked, some answers reach it exactly, and it can only
    stay or shrink as answers come in."""
    before: dict[str, str] = {}
    for question in version.questions:
        if question.key == key:
            break
        if question.key in path.answers:
            before[question.key] = path.answers[question.key]
    number = 1 + len(before)
    return number, len(before) + max(1, longest_remaining(version, before))


def longest_remaining(version: Version, answers: Mapping[str, str]) -> int:
    """How many more questions the longest way through the flow asks after `answers` (answers on
    the path). Depth first over the choices of each next question, memoized per version: the
    reachable prefixes are few (some thousands for the seeded policy)."""
    memo = version._compiled.longest
    start = tuple(answers.items())
    if start in memo:
        return memo[start]

    def longest(current: dict[str, str]) -> int:
        key = tuple(current.items())
        found = memo.get(key)
        if found is None:
            question = next_question(version, current)
            found = (
                0
                if question is None
                else 1 + max(longest({**current, question.key: c.key}) for c in question.choices)
            )
            if len(memo) < LONGEST_MEMO_LIMIT:
                memo[key] = found
        return found

    return longest(dict(answers))


LONGEST_MEMO_LIMIT = 65536


def _may_be_asked(question: Question, answers: Mapping[str, str]) -> bool:
    if not question.shown_when:
        return True
    return any(
        all(answers[k] in choices for k, choices in conj if k in answers)
        for conj in question.shown_when
    )


# --- evaluation ---------------------------------------------------------------------------------


def evaluate(version: Version, answers: Mapping[str, str]) -> Decision:
    if not _plainly_valid(version, answers):
        errors = validate(version, answers)
        if errors:
            return Decision({}, (), errors, None, None)
    known, ignored, next_question, matched = _walk(version, answers)
    if next_question is not None:
        return Decision(known, ignored, {}, next_question, None)
    return _decide(version, known, ignored, matched, memo=True)


def _plainly_valid(version: Version, answers: object) -> bool:
    """The common case, checked quickly; anything else goes through `validate` for messages."""
    if type(answers) is not dict:
        return False
    choice_sets = version._choice_sets
    try:
        for key, value in answers.items():
            if type(value) is not str or value not in choice_sets[key]:
                return False
    except (KeyError, TypeError):
        return False
    return True


def evaluate_naive(version: Version, answers: Mapping[str, str]) -> Decision:
    """The reference interpreter: every rule checked one by one, nothing memoized. Tests and
    benchmarks compare the compiled path against it; it shares validation, the question walk and
    the hit-policy step."""
    errors = validate(version, answers)
    if errors:
        return Decision({}, (), errors, None, None)
    path = walk(version, answers)
    if path.next_question is not None:
        return Decision(path.answers, path.ignored, {}, path.next_question, None)
    rules = version._compiled.rules
    mask = sum(1 << i for i, rule in enumerate(rules) if rule.matches(path.answers))
    return _decide(version, path.answers, path.ignored, mask, memo=False)


Assembled = tuple[Item | None, tuple[Item, ...], tuple[Item, ...], tuple[Item, ...]]
MEMO_LIMIT = 4096


def _assemble(compiled: _CompiledRules, matched: int) -> Assembled:
    """Apply each table's hit policy to the matched rules (bit i set = rule i matched)."""
    results: list[tuple[Item, ...]] = []
    for table, outcome_masks in enumerate(compiled.outcome_masks):
        policy = compiled.hit_policies[table]
        if policy is HitPolicy.FIRST:
            hits = matched & compiled.table_masks[TABLES[table]]
            first = (hits & -hits).bit_length() - 1
            results.append((compiled.single_items[first],) if hits else ())
            continue
        items = []
        for outcome_mask in outcome_masks:  # in outcome order
            hits = matched & outcome_mask
            if hits:
                items.append(_group_item(compiled, hits))
                if policy is HitPolicy.PRIORITY:
                    break
        results.append(tuple(items))
    verdicts = results[0]
    return (verdicts[0] if verdicts else None, results[1], results[2], results[3])


def _group_item(compiled: _CompiledRules, hits: int) -> Item:
    """One item per outcome, merging the reasons and clauses of the rules that produced it."""
    if not hits & (hits - 1):  # a single rule
        return compiled.single_items[hits.bit_length() - 1]
    item = compiled.merged_items.get(hits)
    if item is None:
        indexes = [i for i in range(hits.bit_length()) if hits >> i & 1]
        outcome = compiled.outcomes[compiled.outcome_rank[indexes[0]]]
        item = _item(compiled.version, outcome, [compiled.rules[i] for i in indexes])
        if len(compiled.merged_items) < MEMO_LIMIT:
            compiled.merged_items[hits] = item
    return item


def _decide(
    version: Version,
    answers: dict[str, str],
    ignored: tuple[str, ...],
    matched: int,
    *,
    memo: bool,
) -> Decision:
    compiled = version._compiled
    assembled = compiled.assembled.get(matched) if memo else None
    if assembled is None:
        assembled = _assemble(compiled, matched)
        if memo and len(compiled.assembled) < MEMO_LIMIT:
            compiled.assembled[matched] = assembled
    verdict, auth_methods, terms, steps = assembled
    return Decision(answers, ignored, {}, None, verdict, auth_methods, terms, steps)
