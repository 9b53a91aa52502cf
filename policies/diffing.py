"""What changed between two versions of a policy, and what the change does to people's answers.

Pure like the engine: it compares `engine.Version`s and never touches the database (the admin
passes saved answers in, so this module knows nothing of where they are stored).

- `diff(before, after)`: the questions, choices, outcomes, rules and clauses added, removed or
  changed, each change naming the fields that differ. Records are matched by id (a choice by its
  question and id, an outcome by its table and id).
- `impact(before, after)`: every answer set that either version's question flow can reach, keyed
  by the answers, evaluated by both versions. An answer set counts as compared when both versions
  reach a decision on it; it changes when the verdict or any item (auth method, terms, step)
  differs. An answer set that one version cannot decide as it stands (it asks a question the
  other does not, or lacks a choice) is not compared: the answer sets that refine it are. Those
  that only one version can decide at all are counted in `not_comparable`.
- `answers_impact(pairs, after)`: the same comparison for given answers, each evaluated by its
  own version before and by `after` (for saved results pinned to various versions).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from . import analysis, engine

ChangeKind = Literal["added", "removed", "changed"]
# The most reachable answer sets enumerated per version; past this the impact is a lower bound.
IMPACT_LIMIT = 20_000
EXAMPLES_SHOWN = 5


@dataclass(frozen=True)
class Change:
    kind: str  # question, choice, outcome, rule or clause
    key: str  # the id; "question.choice" for a choice, "table.outcome" for an outcome
    change: ChangeKind
    fields: tuple[str, ...] = ()  # for "changed": the fields that differ
    # For "changed": (field, old value, new value) in words, for "old → new" in the admin.
    values: tuple[tuple[str, str, str], ...] = field(default=(), compare=False)

    def __str__(self) -> str:
        text = f"{self.kind} {self.key} {self.change}"
        return f"{text}: {', '.join(self.fields)}" if self.fields else text


@dataclass(frozen=True)
class Summary:
    """What a decision gives, by outcome id: the verdict and each list table's items."""

    verdict: str | None
    items: tuple[tuple[str, tuple[str, ...]], ...]  # (table, outcome ids) for each list table

    @classmethod
    def of(cls, decision: engine.Decision) -> Summary:
        return cls(
            decision.verdict.key if decision.verdict else None,
            tuple(
                (table, tuple(item.key for item in items))
                for table, items in decision.lists.items()
            ),
        )


@dataclass(frozen=True)
class Difference:
    """One answer set whose decision differs between the versions."""

    answers: Mapping[str, str]
    before: Summary
    after: Summary

    @property
    def verdict_changed(self) -> bool:
        return self.before.verdict != self.after.verdict

    @property
    def answers_text(self) -> str:
        return analysis.describe(self.answers)

    @property
    def text(self) -> str:
        """The change in words: "verdict allowed → not_allowed; steps: + keep_phi_out"."""
        parts = []
        if self.verdict_changed:
            parts.append(
                f"verdict {self.before.verdict or 'none'} → {self.after.verdict or 'none'}"
            )
        after_items = dict(self.after.items)
        for table, before_keys in self.before.items:
            after_keys = after_items.get(table, ())
            added = [k for k in after_keys if k not in before_keys]
            removed = [k for k in before_keys if k not in after_keys]
            if added or removed:
                signed = [f"+ {k}" for k in added] + [f"- {k}" for k in removed]
                parts.append(f"{table}: {', '.join(signed)}")
        return "; ".join(parts)


@dataclass(frozen=True)
class Impact:
    compared: int = 0  # answer sets both versions decide
    changed: int = 0  # of those, the ones whose verdict or items differ
    verdict_changed: int = 0  # of those, the ones whose verdict differs
    not_comparable: int = 0  # answer sets only one of the versions can decide
    examples: tuple[Difference, ...] = field(default=())
    complete: bool = True  # False when a version had more than IMPACT_LIMIT answer sets
    # Every changed answer set, when asked for (`impact(..., every=True)`; the compare page).
    differences: tuple[Difference, ...] = field(default=(), compare=False)

    @property
    def items_changed(self) -> int:
        return self.changed - self.verdict_changed


# --- records ------------------------------------------------------------------------------------


def diff(before: engine.Version, after: engine.Version) -> list[Change]:
    """Every record added, removed or changed, by kind in the order questions, choices, outcomes,
    rules, clauses; within a kind, in the order of `after` (removed records last). A change of
    order counts as a change of `position` (for questions it decides which answers a condition
    can see; for verdict outcomes, which one is stricter)."""
    changes: list[Change] = []
    changes += _compare(
        "question",
        {q.key: q for q in before.questions},
        {q.key: q for q in after.questions},
        lambda q: {"text": q.text, "help": q.help, "shown when": q.shown_when},
    )
    # Choices are ordered within their question, outcomes within their table.
    groups = {
        f"{q.key}.{c.key}": q.key for v in (before, after) for q in v.questions for c in q.choices
    }
    changes += _compare(
        "choice",
        {f"{q.key}.{c.key}": c for q in before.questions for c in q.choices},
        {f"{q.key}.{c.key}": c for q in after.questions for c in q.choices},
        lambda c: {"label": c.label, "help": c.help},
        groups=groups,
    )
    groups = {f"{o.table}.{o.key}": o.table for v in (before, after) for o in v.outcomes}
    changes += _compare(
        "outcome",
        {f"{o.table}.{o.key}": o for o in before.outcomes},
        {f"{o.table}.{o.key}": o for o in after.outcomes},
        lambda o: {"title": o.title, "text": o.text, "detail": o.detail},
        groups=groups,
    )
    changes += _compare(
        "rule",
        {r.key: r for r in before.rules},
        {r.key: r for r in after.rules},
        lambda r: {
            "outcome": (r.table, r.outcome),
            "conditions": r.conditions,
            "reason": r.reason,
            "clauses": frozenset(r.clauses),
            "priority": r.priority,
        },
        ordered=False,  # rules are ordered by priority, which is compared as a field
    )
    changes += _compare(
        "clause",
        {c.key: c for c in before.clauses},
        {c.key: c for c in after.clauses},
        lambda c: {
            "quote": c.quote,
            "url": c.url,
            "source": c.source,
            "source version": c.version,
        },
        ordered=False,
    )
    return changes


def _compare(
    kind: str,
    before: dict[str, Any],
    after: dict[str, Any],
    fields_of: Callable[[Any], dict[str, object]],
    *,
    ordered: bool = True,
    groups: Mapping[str, str] | None = None,
) -> list[Change]:
    old_position = _positions(before, after, groups or {})
    new_position = _positions(after, before, groups or {})
    changes = []
    for key, record in after.items():
        if key not in before:
            changes.append(Change(kind, key, "added"))
            continue
        old, new = fields_of(before[key]), fields_of(record)
        differing = [name for name in new if old[name] != new[name]]
        values = [(name, shown(old[name]), shown(new[name])) for name in differing]
        if ordered and old_position[key] != new_position[key]:
            differing.append("position")
            values.append(("position", str(old_position[key] + 1), str(new_position[key] + 1)))
        if differing:
            changes.append(Change(kind, key, "changed", tuple(differing), tuple(values)))
    changes += [Change(kind, key, "removed") for key in before if key not in after]
    return changes


SHOWN_LIMIT = 400


def shown(value: object) -> str:
    """A field's value in words: conditions as "plan in free, pro; tool in …", sets sorted."""
    if isinstance(value, tuple) and all(
        isinstance(part, tuple) and len(part) == 2 and isinstance(part[1], frozenset)
        for part in value
    ):
        text = "; ".join(f"{key} in {', '.join(sorted(choices))}" for key, choices in value)
        text = text or "always"
    elif isinstance(value, frozenset):
        text = ", ".join(sorted(str(v) for v in value)) or "none"
    elif isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, str) for v in value):
        text = f"{value[0]}: {value[1]}"
    else:
        text = str(value)
    return text if len(text) <= SHOWN_LIMIT else text[: SHOWN_LIMIT - 1] + "…"


def _positions(
    records: dict[str, Any], other: dict[str, Any], groups: Mapping[str, str]
) -> dict[str, int]:
    """Each shared key's place among the shared keys of its group, so that an insertion or a
    removal elsewhere does not count as a move."""
    counters: dict[str, int] = {}
    positions = {}
    for key in records:
        if key in other:
            group = groups.get(key, "")
            positions[key] = counters.get(group, 0)
            counters[group] = positions[key] + 1
    return positions


# --- impact -------------------------------------------------------------------------------------


def _decide(version: engine.Version, answers: Mapping[str, str]) -> Summary | None:
    """The summary of the version's decision on the answers it understands; None when it cannot
    decide them as they stand."""
    decision = engine.evaluate(version, engine.still_valid(version, answers))
    return Summary.of(decision) if decision.complete else None


def _limited(version: engine.Version, limit: int) -> tuple[list[dict[str, str]], bool]:
    sets = list(itertools.islice(analysis.reachable_answer_sets(version), limit + 1))
    return sets[:limit], len(sets) <= limit


def impact(
    before: engine.Version,
    after: engine.Version,
    *,
    limit: int = IMPACT_LIMIT,
    every: bool = False,
) -> Impact:
    """How many reachable answer sets get another decision in `after` (see the module docstring);
    with `every`, each of them as well, in the order of `after`'s answer sets."""
    before_sets, before_complete = _limited(before, limit)
    after_sets, after_complete = _limited(after, limit)
    union: dict[frozenset[tuple[str, str]], dict[str, str]] = {}
    for answers in itertools.chain(after_sets, before_sets):
        union.setdefault(frozenset(answers.items()), answers)
    tally = _Tally(every=every)
    for answers in union.values():
        old, new = _decide(before, answers), _decide(after, answers)
        if old is None and new is None:
            continue
        if old is None or new is None:
            # One version needs more answers (its refinements are compared) or cannot take these
            # answers at all (a choice or question only the other has).
            if _undecidable(before if old is None else after, answers):
                tally.not_comparable += 1
            continue
        tally.add(answers, old, new)
    return tally.impact(complete=before_complete and after_complete)


def _undecidable(version: engine.Version, answers: Mapping[str, str]) -> bool:
    """True when no added answers would let the version decide: an answer on its path is one it
    does not accept."""
    valid = engine.still_valid(version, answers)
    path = engine.walk(version, valid)
    question = path.next_question
    return question is not None and question.key in answers


def answers_impact(
    pairs: Iterable[tuple[engine.Version, Mapping[str, object]]], after: engine.Version
) -> Impact:
    """For answer sets each decided by its own version (saved results), how many `after` would
    decide differently. Those `after` cannot decide without more answers count as not comparable."""
    tally = _Tally()
    for before, raw in pairs:
        answers = {k: v for k, v in raw.items() if isinstance(v, str)}
        old, new = _decide(before, answers), _decide(after, answers)
        if old is None:
            continue
        if new is None:
            tally.not_comparable += 1
            continue
        tally.add(answers, old, new)
    return tally.impact(complete=True)


class _Tally:
    def __init__(self, *, every: bool = False) -> None:
        self.compared = self.changed = self.verdict_changed = self.not_comparable = 0
        self.verdict_examples: list[Difference] = []
        self.item_examples: list[Difference] = []
        self.every: list[Difference] | None = [] if every else None

    def add(self, answers: Mapping[str, str], old: Summary, new: Summary) -> None:
        self.compared += 1
        if old == new:
            return
        self.changed += 1
        difference = Difference(dict(answers), old, new)
        if self.every is not None:
            self.every.append(difference)
        if difference.verdict_changed:
            self.verdict_changed += 1
            examples = self.verdict_examples
        else:
            examples = self.item_examples
        if len(examples) < EXAMPLES_SHOWN:
            examples.append(difference)

    def impact(self, *, complete: bool) -> Impact:
        examples = (self.verdict_examples + self.item_examples)[:EXAMPLES_SHOWN]
        return Impact(
            self.compared,
            self.changed,
            self.verdict_changed,
            self.not_comparable,
            tuple(examples),
            complete,
            tuple(self.every or ()),
        )


def changed_answer_sets(before: engine.Version, after: engine.Version) -> Iterator[Difference]:
    """Every compared answer set whose decision differs (for tests and the command line)."""
    seen: set[frozenset[tuple[str, str]]] = set()
    for answers in itertools.chain(
        analysis.reachable_answer_sets(after), analysis.reachable_answer_sets(before)
    ):
        key = frozenset(answers.items())
        if key in seen:
            continue
        seen.add(key)
        old, new = _decide(before, answers), _decide(after, answers)
        if old is not None and new is not None and old != new:
            yield Difference(answers, old, new)


# --- situations whose outputs disagree ------------------------------------------------------------

SITUATION_SHOWN = 10


def stale_siblings(
    before: engine.Version, after: engine.Version, *, limit: int = IMPACT_LIMIT
) -> list[analysis.Finding]:
    """Rules of the list tables (sign-in, terms, steps) that a draft kept as they were, but that
    now fire where the draft gives another verdict than its source did: their reasons were
    written for the old verdict, so the situation's outputs may disagree (a verdict made
    "allowed" while the sign-in rule still says the plan's own sign-in is refused). One warning
    per rule, with an example; a rule the draft changed counts as reviewed."""
    old_rules = set(before.rules)
    kept = {r.key for r in after.rules if r.table != engine.VERDICT and r in old_rules}
    # Where the verdict can have changed: where a verdict rule that differs matches, unless the
    # questions or the verdicts' order changed too (then anywhere). Saves that leave the verdict
    # table alone cost nothing here.
    old_verdicts = {r.key: r for r in before.rules if r.table == engine.VERDICT}
    new_verdicts = {r.key: r for r in after.rules if r.table == engine.VERDICT}
    changed = [r for k, r in new_verdicts.items() if old_verdicts.get(k) != r]
    changed += [r for k, r in old_verdicts.items() if new_verdicts.get(k) != r]
    anywhere = before.questions != after.questions or before.outcomes_of(
        engine.VERDICT
    ) != after.outcomes_of(engine.VERDICT)
    if not kept or (not changed and not anywhere):
        return []
    found: dict[str, tuple[str, str, dict[str, str], int]] = {}
    sets, _ = _limited(after, limit)
    for answers in sets:
        if not anywhere and not any(rule.matches(answers) for rule in changed):
            continue
        new = engine.evaluate(after, answers)
        if not new.complete or new.verdict is None:
            continue
        old = engine.evaluate(before, engine.still_valid(before, answers))
        if not old.complete or old.verdict is None or old.verdict.key == new.verdict.key:
            continue
        old_fired = set(old.fired_rules)
        for key in new.fired_rules:
            if key in kept and key in old_fired:
                if key in found:
                    was, now, example, n = found[key]
                    found[key] = (was, now, example, n + 1)
                else:
                    found[key] = (old.verdict.key, new.verdict.key, dict(new.answers), 1)
    findings = []
    for rule in after.rules:
        if rule.key not in found:
            continue
        was, now, example, n = found[rule.key]
        findings.append(
            analysis.Finding(
                analysis.WARNING,
                "situation_disagrees",
                rule.key,
                f"Rule {rule.key} ({rule.table}: {rule.outcome}) is unchanged but now fires "
                f"where the verdict changed from {was} to {now} ({n} answer set"
                f"{'' if n == 1 else 's'}): its reason was written for {was}. Check that it "
                "still fits the new verdict, and edit it or the verdict rule.",
                example,
                (was, now),  # the verdicts before and after, for the admin's wording
            )
        )
        if len(findings) >= SITUATION_SHOWN:
            break
    return findings
