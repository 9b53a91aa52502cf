"""A version's decision tables as grids for the admin, with the checks' findings on their rows.

One grid per table (verdict, sign-in, terms, steps): a row per rule in priority order, a cell per
question saying which choices the rule accepts ("any" when it does not test the question, "not X"
when that is shorter), then the outcome, the reason and the clauses. Each finding of the static
checks is turned into a fix, worded for the admin and pointing at the rows it concerns, and
attached to them. Pure: engine values in, frozen values out; the admin supplies the URLs.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from . import analysis, engine

TABLE_LABELS: Mapping[str, str] = {
    engine.VERDICT: "Verdict",
    engine.AUTH_METHODS: "Sign-in",
    engine.TERMS: "Terms",
    engine.STEPS: "Steps",
}

HIT_POLICY_WORDS: Mapping[engine.HitPolicy, str] = {
    engine.HitPolicy.PRIORITY: "priority: of the rows that match, the one whose outcome comes "
    "first in the outcome order (the strictest) decides",
    engine.HitPolicy.FIRST: "first: of the rows that match, the first one decides",
    engine.HitPolicy.COLLECT: "collect: every row that matches adds its outcome",
}


@dataclass(frozen=True)
class Cell:
    question: str
    text: str  # "any", "pro, max" or "not free"
    tested: bool
    choices: frozenset[str]
    mark: str = ""  # while simulating: "hit" or "miss" for a tested, answered question


@dataclass(frozen=True)
class Fix:
    """A finding as the admin reads it on a row: what is wrong and what to do, with links."""

    severity: str
    code: str
    text: str
    rules: tuple[str, ...]  # the rules the fix names, for links; the first is the one to edit
    question: str = ""  # the cell to edit, when the fix is about one condition


@dataclass(frozen=True)
class Row:
    number: int  # 1-based position in its table, as the fixes name it ("rule 12")
    key: str
    table: str
    priority: int
    outcome: str
    outcome_title: str
    reason: str
    clauses: tuple[str, ...]
    cells: tuple[Cell, ...]
    fixes: tuple[Fix, ...]
    state: str = ""  # while simulating: "fired", or "matched-lost" (matched, lost to the policy)

    @property
    def has_error(self) -> bool:
        return any(fix.severity == analysis.ERROR for fix in self.fixes)


@dataclass(frozen=True)
class Grid:
    table: str
    label: str
    hit_policy: engine.HitPolicy
    hit_policy_words: str
    rows: tuple[Row, ...]
    fixes: tuple[Fix, ...]  # about the table as a whole (gaps)


def cell_text(question: engine.Question, choices: frozenset[str] | None) -> str:
    """The choices a rule accepts for one question, in the question's order, or "any" when the
    rule does not test it; "not X" when naming what it leaves out is shorter."""
    if choices is None:
        return "any"
    accepted = [key for key in question.choice_keys if key in choices]
    left_out = [key for key in question.choice_keys if key not in choices]
    if left_out and len(left_out) < len(accepted):
        return "not " + ", ".join(left_out)
    return ", ".join(accepted) if left_out else "answered (any choice)"


def ordered_rules(version: engine.Version, table: str) -> list[engine.Rule]:
    return sorted(
        (rule for rule in version.rules if rule.table == table),
        key=lambda rule: (rule.priority, rule.key),
    )


def positions(version: engine.Version) -> dict[str, tuple[str, int]]:
    """Each rule's table and 1-based position in it."""
    return {
        rule.key: (table, number)
        for table in engine.TABLES
        for number, rule in enumerate(ordered_rules(version, table), start=1)
    }


def grids(
    version: engine.Version,
    findings: Iterable[analysis.Finding],
    answers: Mapping[str, str] | None = None,
) -> list[Grid]:
    """The grids, with the fixes on their rows; given `answers` (a simulation), each row says
    whether it fired or matched and lost, and each tested cell whether the answer meets it."""
    where = positions(version)
    fired: set[str] = set()
    lost: set[str] = set()
    path: Mapping[str, str] = {}
    if answers is not None:
        decision, fired, lost = simulate_rows(version, answers)
        path = decision.answers
    fixes = [fix_for(finding, where) for finding in findings]
    by_rule: dict[str, list[Fix]] = {}
    by_table: dict[str, list[Fix]] = {}
    for fix in fixes:
        if fix.rules and fix.rules[0] in where:
            by_rule.setdefault(fix.rules[0], []).append(fix)
        elif fix.code == "gap" or fix.code == "conflict":
            by_table.setdefault(engine.VERDICT if fix.code == "gap" else "", []).append(fix)
    result = []
    for table in engine.TABLES:
        rows = []
        for number, rule in enumerate(ordered_rules(version, table), start=1):
            tests = dict(rule.conditions)
            outcome = version.outcome(rule.table, rule.outcome)
            rows.append(
                Row(
                    number=number,
                    key=rule.key,
                    table=table,
                    priority=rule.priority,
                    outcome=rule.outcome,
                    outcome_title=outcome.title if outcome else rule.outcome,
                    reason=rule.reason,
                    clauses=rule.clauses,
                    cells=tuple(
                        Cell(
                            question=q.key,
                            text=cell_text(q, tests.get(q.key)),
                            tested=q.key in tests,
                            choices=tests.get(q.key, frozenset()),
                            mark=_mark(tests.get(q.key), path.get(q.key)),
                        )
                        for q in version.questions
                    ),
                    fixes=tuple(by_rule.get(rule.key, ())),
                    state="fired"
                    if rule.key in fired
                    else "matched-lost"
                    if rule.key in lost
                    else "",
                )
            )
        policy = version.hit_policies[table]
        result.append(
            Grid(
                table=table,
                label=TABLE_LABELS[table],
                hit_policy=policy,
                hit_policy_words=HIT_POLICY_WORDS[policy],
                rows=tuple(rows),
                fixes=tuple(by_table.get(table, ())),
            )
        )
    return result


def _mark(choices: frozenset[str] | None, answer: str | None) -> str:
    if choices is None or answer is None:
        return ""
    return "hit" if answer in choices else "miss"


def _name(key: str, where: Mapping[str, tuple[str, int]]) -> str:
    if key not in where:
        return key
    table, number = where[key]
    return f"{TABLE_LABELS[table].lower()} rule {number} ({key})"


def fix_for(finding: analysis.Finding, where: Mapping[str, tuple[str, int]]) -> Fix:
    """A finding worded as a fix: what is wrong, then what to do about it."""
    code, subject = finding.code, finding.subject
    this = _name(subject, where)
    others = [key for key in finding.related if key in where]
    if code == "unreachable_rule":
        text = (
            f"{this.capitalize()} is never reached: no answer set the questions can produce "
            f"matches it. Edit its conditions or delete {this}."
        )
    elif code == "shadowed_rule":
        winners = ", ".join(_name(key, where) for key in others) or "another rule"
        text = (
            f"{this.capitalize()} never decides: {winners} catches every answer set it matches "
            f"(for example {finding.example_text}). Edit or delete {this}."
        )
    elif code == "conflict":
        other = _name(others[0], where) if others else "another rule"
        text = (
            f"{this.capitalize()} and {other} both match (for example {finding.example_text}) "
            "with the same priority, so storage order decides. Move one of them up, or narrow "
            "a condition."
        )
    elif code == "situation_disagrees" and len(finding.related) == 2:
        was, now = finding.related
        text = (
            f"{this.capitalize()} is unchanged but now fires where the verdict changed from "
            f"{was} to {now} (for example {finding.example_text}): its reason was written for "
            f"{was}. Check that {this} still fits, then edit it or the verdict rule."
        )
        return Fix(finding.severity, code, text, (subject,))
    elif code == "rule_without_clause":
        text = f"{this.capitalize()} cites no clause. Edit {this} and tick the clauses it rests on."
    elif code == "dead_condition" and subject in where:
        question = finding.related[0] if finding.related else ""
        text = (
            f"The {question} cell of {this} can never hold: {question} is never asked where the "
            f"rest of the row holds. Set the {question} cell of {this} to any, or change the "
            "other cells."
        )
        return Fix(finding.severity, code, text, (subject,), question)
    elif code == "gap":
        text = finding.message
        if finding.example:
            text += f" Add a verdict rule for answers such as {finding.example_text}."
        return Fix(finding.severity, code, text, ())
    else:
        return Fix(finding.severity, code, finding.message, ())
    return Fix(finding.severity, code, text, (subject, *others))


def simulate_rows(
    version: engine.Version, answers: Mapping[str, str]
) -> tuple[engine.Decision, set[str], set[str]]:
    """The decision for `answers`, the rules that decided it (fired) and those that matched but
    lost to the hit policy."""
    decision = engine.evaluate(version, answers)
    fired = set(decision.fired_rules)
    path = decision.answers
    matched = {rule.key for rule in version.rules if rule.matches(path)}
    return decision, fired, matched - fired


def condition_hits(rule: engine.Rule, answers: Mapping[str, str]) -> dict[str, bool]:
    """Per tested question, whether the answer meets the rule's cell."""
    return {key: answers.get(key) in choices for key, choices in rule.conditions}


SITUATION_LIMIT = 20_000  # reachable answer sets looked at for a situation


@dataclass(frozen=True)
class Sibling:
    rule: engine.Rule
    number: int
    together: int  # answer sets on which it fires along with the row


@dataclass(frozen=True)
class Situation:
    """A row and, per table, the rules that decide alongside it on the answer sets it fires on:
    the verdict, sign-in, terms and steps of one situation, to read and change together."""

    rule: engine.Rule
    fired_on: int  # reachable answer sets on which the row fires
    tables: tuple[tuple[str, tuple[Sibling, ...]], ...]
    complete: bool  # False when the answer sets were too many to look at them all


def situation(version: engine.Version, key: str) -> Situation:
    rule = next(r for r in version.rules if r.key == key)
    where = positions(version)
    counts: dict[str, int] = {}
    fired_on = 0
    sets = itertools.islice(analysis.reachable_answer_sets(version), SITUATION_LIMIT + 1)
    seen = 0
    for answers in sets:
        seen += 1
        if seen > SITUATION_LIMIT:
            break
        if not rule.matches(answers):
            continue
        fired = engine.evaluate(version, answers).fired_rules
        if key not in fired:
            continue
        fired_on += 1
        for other in set(fired):
            counts[other] = counts.get(other, 0) + 1
    by_key = {r.key: r for r in version.rules}
    tables = []
    for table in engine.TABLES:
        siblings = sorted(
            (
                Sibling(by_key[other], where[other][1], n)
                for other, n in counts.items()
                if by_key[other].table == table
            ),
            key=lambda sibling: sibling.number,
        )
        tables.append((table, tuple(siblings)))
    return Situation(rule, fired_on, tuple(tables), seen <= SITUATION_LIMIT)
