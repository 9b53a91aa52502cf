"""Whether a version's clauses hold up against the dated snapshots of the pages they quote. Pure:
engine values and texts in, findings out; no Django.

Two questions, one module:

- `check` (on every save of a draft, before publishing, and in `check_policy`): a clause that is
  not a later statement must be found in the snapshot of its document in force on the version's
  effective date; a later statement must be found in its own snapshot (the one its `version`
  names) and be dated after the version. A reference has no quote to check. Errors block
  publishing; warnings say what a reader should know (a document with no snapshot, an outcome
  that rests only on later statements).
- `drift` (`check_sources`): each clause against the snapshot it rests on and every later
  snapshot of its document up to the next version's date (excluded), or, for the newest
  version, up to the latest snapshot. The first snapshot that no longer holds the quote is the
  finding's `since`.

Each page is normalised once (`Source` keeps `quotes.Page`s), so checking a version is one string
search per fragment.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from . import engine, quotes
from .analysis import ERROR, WARNING, Finding

PRIMARY = "primary"
SECONDARY = "secondary"
REFERENCE = "reference"

CHANGED = "changed"
MISSING = "missing"
NOT_IN_FORCE = "not_in_force"

# A passage at least this alike (by words) means the quote was reworded, not removed.
CLOSE_ENOUGH = 0.5


@dataclass(frozen=True)
class SnapshotText:
    date: dt.date
    page: quotes.Page


@dataclass(frozen=True)
class Source:
    """A document and its snapshots, oldest first."""

    key: str
    kind: str
    title: str
    snapshots: tuple[SnapshotText, ...] = ()

    @classmethod
    def of(cls, key: str, kind: str, title: str, texts: Iterable[tuple[dt.date, str]]) -> Source:
        return cls(
            key,
            kind,
            title,
            tuple(
                SnapshotText(day, quotes.prepare(text))
                for day, text in sorted(texts, key=lambda t: t[0])
            ),
        )

    def in_force(self, day: dt.date) -> SnapshotText | None:
        """The latest snapshot on or before `day`."""
        found = None
        for snapshot in self.snapshots:
            if snapshot.date <= day:
                found = snapshot
        return found

    def on(self, day: dt.date) -> SnapshotText | None:
        return next((s for s in self.snapshots if s.date == day), None)


def _day(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def _effective(version: engine.Version, effective_date: dt.date | None) -> dt.date | None:
    return effective_date or _day(version.version)


def check(
    version: engine.Version,
    sources: Mapping[str, Source],
    effective_date: dt.date | None = None,
) -> list[Finding]:
    """The citation findings of one version, errors first. `effective_date` defaults to the
    version's id; an undated draft is checked only against each clause's own snapshot."""
    day = _effective(version, effective_date)
    errors: list[Finding] = []
    warnings: list[Finding] = []

    def error(code: str, clause: engine.Clause, message: str) -> None:
        errors.append(Finding(ERROR, code, clause.key, message, related=(clause.document,)))

    def warning(code: str, subject: str, message: str) -> None:
        warnings.append(Finding(WARNING, code, subject, message))

    without_snapshots: set[str] = set()
    uses_documents = any(c.document for c in version.clauses)
    for clause in version.clauses:
        if clause.kind == engine.REFERENCE:
            continue
        if not clause.document:
            if not uses_documents:  # a policy without sources as data: nothing to check
                continue
            warning(
                "clause_without_document",
                clause.key,
                "names no source document, so its quote is not checked against a snapshot.",
            )
            continue
        source = sources.get(clause.document)
        if source is None:
            error("unknown_document", clause, f"names an unknown document {clause.document!r}.")
            continue
        if not source.snapshots:
            without_snapshots.add(source.key)
            continue
        quoted_day = _day(clause.version)
        if quoted_day is None:
            error(
                "snapshot_date",
                clause,
                f"its version {clause.version!r} is not the date (YYYY-MM-DD) of a snapshot.",
            )
            continue
        own = source.on(quoted_day)
        if own is None:
            dates = ", ".join(s.date.isoformat() for s in source.snapshots)
            error(
                "no_such_snapshot",
                clause,
                f"quotes {source.key} as of {clause.version}, but its snapshots are of {dates}.",
            )
            continue
        match = quotes.find(clause.quote, own.page)
        if not match.found:
            error(
                "quote_not_found",
                clause,
                f"is not in {source.key} as of {clause.version}: {_miss(match)}",
            )
            continue
        if day is None:
            continue
        in_force = source.in_force(day)
        if clause.later_statement:
            if quoted_day <= day:
                error(
                    "not_later",
                    clause,
                    f"is marked a later statement but quotes {source.key} as of "
                    f"{clause.version}, on or before the version's date {day.isoformat()}.",
                )
            elif in_force is not None and quotes.find(clause.quote, in_force.page).found:
                warning(
                    "later_statement_in_force",
                    clause.key,
                    f"is a later statement, but {source.key} as of {in_force.date.isoformat()} "
                    "(in force on the version's date) says it too: cite that copy instead.",
                )
            if not clause.later_statement_reason.strip():
                warning(
                    "later_statement_reason",
                    clause.key,
                    "is a later statement without the reason it is cited.",
                )
            continue
        if quoted_day > day:
            error(
                "dated_after_version",
                clause,
                f"quotes {source.key} as of {clause.version}, after the version's date "
                f"{day.isoformat()}; quote the copy in force then, or mark it a later statement.",
            )
        elif in_force is None:
            error(
                "no_copy_in_force",
                clause,
                f"{source.key} has no snapshot in force on {day.isoformat()}.",
            )
        else:
            held = quotes.find(clause.quote, in_force.page)
            if not held.found:
                error(
                    "not_in_force",
                    clause,
                    f"is not in {source.key} as of {in_force.date.isoformat()}, the copy in "
                    f"force on {day.isoformat()}: {_miss(held)}",
                )
    for key in sorted(without_snapshots):
        warning(
            "document_without_snapshot",
            key,
            f"{sources[key].title}: no snapshot is held, so the quotes from it are not checked.",
        )
    warnings += _resting_on_later_statements(version)
    return errors + warnings


def _resting_on_later_statements(version: engine.Version) -> list[Finding]:
    """Outcomes whose every rule cites later statements only (references aside): whatever
    answers produce them, the item rests on texts dated after the version."""
    clauses = {c.key: c for c in version.clauses}
    by_outcome: dict[tuple[str, str], list[engine.Rule]] = {}
    for rule in version.rules:
        by_outcome.setdefault((rule.table, rule.outcome), []).append(rule)
    found = []
    for (table, outcome), rules in by_outcome.items():
        cited = [
            clauses[key]
            for rule in rules
            for key in rule.clauses
            if key in clauses and clauses[key].kind != engine.REFERENCE
        ]
        if cited and all(c.later_statement for c in cited):
            found.append(
                Finding(
                    WARNING,
                    "only_later_statements",
                    outcome,
                    f"every clause its {table} rules cite is a later statement "
                    f"({', '.join(sorted({c.key for c in cited}))}); people are told so.",
                    related=tuple(rule.key for rule in rules),
                )
            )
    return found


def _miss(match: quotes.Match) -> str:
    closest = " ".join(match.closest.split())
    if len(closest) > 160:
        closest = closest[:159] + "…"
    return f"{match.reason}; closest passage ({match.similarity:.0%} alike): “{closest}”"


# --- drift --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Drift:
    clause: str
    document: str
    status: str  # CHANGED, MISSING or NOT_IN_FORCE
    since: dt.date
    closest: str
    similarity: float


def drift(
    version: engine.Version,
    sources: Mapping[str, Source],
    *,
    start: dt.date,
    end: dt.date | None,
) -> list[Drift]:
    """Clauses of `version` (in effect from `start` until `end`, excluded; None: open) that some
    snapshot in that time no longer holds."""
    found = []
    for clause in version.clauses:
        source = sources.get(clause.document) if clause.document else None
        if clause.kind == engine.REFERENCE or source is None or not source.snapshots:
            continue
        if clause.later_statement:
            quoted_day = _day(clause.version)
            base = source.on(quoted_day) if quoted_day else None
        else:
            base = source.in_force(start)
            if base is None or not quotes.find(clause.quote, base.page).found:
                match = quotes.find(clause.quote, base.page) if base else None
                found.append(
                    Drift(
                        clause.key,
                        clause.document,
                        NOT_IN_FORCE,
                        base.date if base else start,
                        match.closest if match else "",
                        round(match.similarity, 2) if match else 0.0,
                    )
                )
                continue
        if base is None:
            continue
        for snapshot in source.snapshots:
            if snapshot.date < base.date or (end is not None and snapshot.date >= end):
                continue
            match = quotes.find(clause.quote, snapshot.page)
            if not match.found:
                status = CHANGED if match.similarity >= CLOSE_ENOUGH else MISSING
                found.append(
                    Drift(
                        clause.key,
                        clause.document,
                        status,
                        snapshot.date,
                        " ".join(match.closest.split()),
                        round(match.similarity, 2),
                    )
                )
                break
    return found


def windows(days: Sequence[dt.date]) -> list[tuple[dt.date, dt.date | None]]:
    """Each version's time in effect, [start, next version's start), the newest open-ended."""
    ordered = sorted(days)
    return [
        (day, ordered[i + 1] if i + 1 < len(ordered) else None) for i, day in enumerate(ordered)
    ]
