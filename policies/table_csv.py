"""One decision table of a version as CSV, both ways: the grid's columns, for a spreadsheet.

Line 1 is the table's settings, as name and value cells (`table`, `verdict`, `hit policy`,
`priority`, `exported from`, `claude-code 2026-08-22`), padded with empty cells to the width of the
rows so that a spreadsheet keeps it as one row; an import checks that the file is for the table it
goes into and that the hit policy is that table's (a version cannot change its hit policies, so a
file that says another is refused rather than read under the wrong one). Line 2 names the columns:
`rule`, `priority`, one per question, `outcome`, `reason`, `clauses`. Then one line per rule in
priority order (ties by rule id, as the grid orders them).

A question's cell lists the choices the rule accepts, in the question's order, as the grid shows
them: "any" (or empty) when the rule does not test the question, "not X, Y" when that is shorter,
"answered (any choice)" when it accepts every choice. Clauses are comma-separated ids.

A reason that a spreadsheet would run as a formula (it starts with =, +, - or @) is written with a
leading apostrophe, which spreadsheets show as text and the import takes off again, so a file
opened in a spreadsheet runs nothing and the round trip stays exact.

"Line N" in an error is the N-th row as a spreadsheet shows it (a reason holding line breaks is
still one row). Pure: engine values and text in, rows or errors out; the admin validates each row
again with the row editor's form and writes through `records`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import tablib

from . import engine

SETTINGS_TABLE = "table"
SETTINGS_HIT_POLICY = "hit policy"
SETTINGS_FROM = "exported from"
SETTINGS_NAMES = (SETTINGS_TABLE, SETTINGS_HIT_POLICY, SETTINGS_FROM)

RULE = "rule"
PRIORITY = "priority"
OUTCOME = "outcome"
REASON = "reason"
CLAUSES = "clauses"

ANY = "any"
EVERY_CHOICE = "answered (any choice)"
NOT = "not "

# What a spreadsheet starts a formula with (OWASP's "CSV injection"); ids cannot start so.
FORMULA_STARTS = ("=", "+", "-", "@")

# Choices and clause ids are separated by commas; spaces around them do not matter.
SEPARATOR = re.compile(r"\s*,\s*")


class TableCsvError(ValueError):
    """The file cannot be read as this table; `errors` maps "line N, column C" (or "line N",
    or "file") to what is wrong there and what is allowed."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("; ".join(f"{where}: {what}" for where, what in self.errors.items()))


@dataclass(frozen=True)
class Row:
    """One rule as the file states it, its cells read but not yet checked as a rule."""

    line: int
    key: str
    priority: int
    conditions: Mapping[str, tuple[str, ...]]  # tested questions only, choices in their order
    outcome: str
    reason: str
    clauses: tuple[str, ...]


def columns(version: engine.Version) -> list[str]:
    return [RULE, PRIORITY, *(q.key for q in version.questions), OUTCOME, REASON, CLAUSES]


def cell_text(question: engine.Question, choices: frozenset[str] | None) -> str:
    """The grid's wording of a cell, except that "any" is left empty for a question that has a
    choice called "any" (which the file would otherwise misread)."""
    if choices is None:
        return "" if ANY in question.choice_keys else ANY
    accepted = [key for key in question.choice_keys if key in choices]
    left_out = [key for key in question.choice_keys if key not in choices]
    if not left_out:
        return EVERY_CHOICE
    if len(left_out) < len(accepted):
        return NOT + ", ".join(left_out)
    return ", ".join(accepted)


def _needs_guard(text: str) -> bool:
    # An apostrophe already in front of such a text is guarded too, so that taking one off on
    # import gives back exactly what was exported.
    return text.startswith(FORMULA_STARTS) or (text.startswith("'") and _needs_guard(text[1:]))


def guarded(text: str) -> str:
    """`text` as a cell that a spreadsheet shows and never runs."""
    return "'" + text if _needs_guard(text) else text


def unguarded(text: str) -> str:
    """The text of a cell written by `guarded` (or typed so in a spreadsheet)."""
    return text[1:] if text.startswith("'") and _needs_guard(text[1:]) else text


def export_table(version: engine.Version, table: str, *, exported_from: str) -> str:
    """The CSV text of `table`: settings line, column names, one line per rule."""
    names = columns(version)
    settings = [
        SETTINGS_TABLE,
        table,
        SETTINGS_HIT_POLICY,
        str(version.hit_policies[table]),
        SETTINGS_FROM,
        exported_from,
    ]
    data = tablib.Dataset()
    data.append(settings + [""] * (len(names) - len(settings)))
    data.append(names)
    for rule in _ordered(version, table):
        tests = dict(rule.conditions)
        data.append(
            [
                rule.key,
                str(rule.priority),
                *(cell_text(q, tests.get(q.key)) for q in version.questions),
                rule.outcome,
                guarded(rule.reason),
                ", ".join(rule.clauses),
            ]
        )
    text: str = data.export("csv")
    return text


def _ordered(version: engine.Version, table: str) -> list[engine.Rule]:
    return sorted(
        (rule for rule in version.rules if rule.table == table),
        key=lambda rule: (rule.priority, rule.key),
    )


def parse_table(version: engine.Version, table: str, text: str) -> list[Row]:
    """The rows of a CSV text for `table` of `version`; TableCsvError naming every line and
    column at fault (the caller bounds how many it shows)."""
    try:
        data = tablib.Dataset().load(text, format="csv", headers=False)
    except tablib.InvalidDimensions:
        raise TableCsvError(
            {
                "line 1": "a line has more cells than line 1 (the settings line, which the "
                "export pads with empty cells to the width of the table); keep line 1 as "
                "exported, or save the file from a spreadsheet"
            }
        ) from None
    except Exception as error:  # the csv module's own errors (an unclosed quote, a NUL)
        raise TableCsvError({"file": f"this is not a readable CSV file ({error})"}) from None
    lines = [[cell.strip() if isinstance(cell, str) else "" for cell in row] for row in data]
    if not lines:
        raise TableCsvError({"file": "the file is empty"})
    errors: dict[str, str] = {}
    _check_settings(version, table, lines[0], errors)
    if len(lines) < 2:
        errors.setdefault("line 2", "the line naming the columns is missing")
        raise TableCsvError(errors)
    at = _check_header(version, lines[1], errors)
    if errors:
        raise TableCsvError(errors)
    rows = []
    for line, cells in enumerate(lines[2:], start=3):
        if any(cells):  # a spreadsheet's empty row is skipped, but still counted
            row = _read_row(version, table, line, cells, at, errors)
            if row is not None:
                rows.append(row)
    if not rows and not errors:
        errors["file"] = (
            "the file has no rule lines; an import replaces the table's rules, so it would "
            "delete them all (delete rows in the grid instead)"
        )
    _check_keys_and_order(version, table, rows, errors)
    if errors:
        raise TableCsvError(dict(sorted(errors.items(), key=lambda item: _line_of(item[0]))))
    return rows


def _line_of(where: str) -> int:
    match = re.match(r"line (\d+)", where)
    return int(match.group(1)) if match else 0


def _check_settings(
    version: engine.Version, table: str, cells: Sequence[str], errors: dict[str, str]
) -> None:
    found: dict[str, tuple[int, str]] = {}
    for n in range(0, len(cells), 2):
        name = cells[n].lower()
        value = cells[n + 1] if n + 1 < len(cells) else ""
        if not name and not value:
            continue
        if name not in SETTINGS_NAMES:
            errors[f"line 1, column {n + 1}"] = (
                f"unknown setting {cells[n]!r}; line 1 holds the settings as name and value "
                f"cells: {', '.join(SETTINGS_NAMES)}. Keep it as exported"
            )
            return
        found[name] = (n + 2, value)
    expected_policy = version.hit_policies[table]
    if SETTINGS_TABLE not in found:
        errors["line 1"] = (
            f"the settings line is missing: its cells should read {SETTINGS_TABLE!r}, "
            f"{table!r}, {SETTINGS_HIT_POLICY!r}, {str(expected_policy)!r}, as exported"
        )
        return
    column, value = found[SETTINGS_TABLE]
    if value != table:
        allowed = ", ".join(engine.TABLES)
        errors[f"line 1, column {column}"] = (
            f"this file is for the table {value!r}, not {table!r} (tables: {allowed}); "
            "import it from that table's grid"
        )
        return
    column, value = found.get(SETTINGS_HIT_POLICY, (3, ""))
    if value != str(expected_policy):
        errors[f"line 1, column {column}"] = (
            f"hit policy {value!r} is not this table's; the {table} table's hit policy is "
            f"{str(expected_policy)!r}, which an import cannot change"
        )


def _check_header(
    version: engine.Version, cells: Sequence[str], errors: dict[str, str]
) -> dict[str, int]:
    expected = columns(version)
    at: dict[str, int] = {}
    for n, name in enumerate(cells):
        if not name:
            continue
        if name not in expected:
            errors[f"line 2, column {n + 1}"] = (
                f"unknown column {name!r}; the columns are {', '.join(expected)}"
            )
        elif name in at:
            errors[f"line 2, column {n + 1}"] = f"column {name!r} appears twice"
        else:
            at[name] = n
    missing = [name for name in expected if name not in at]
    if missing:
        errors["line 2"] = f"missing column{'s' if len(missing) > 1 else ''}: {', '.join(missing)}"
    return at


def _read_row(
    version: engine.Version,
    table: str,
    line: int,
    cells: Sequence[str],
    at: Mapping[str, int],
    errors: dict[str, str],
) -> Row | None:
    def cell(name: str) -> str:
        n = at[name]
        return cells[n] if n < len(cells) else ""

    before = len(errors)
    key = cell(RULE)
    if not key:
        errors[f"line {line}, column {RULE}"] = "a rule id is required"
    priority_text = cell(PRIORITY)
    priority = 0
    try:
        priority = int(priority_text)
    except ValueError:
        errors[f"line {line}, column {PRIORITY}"] = (
            f"{priority_text!r} is not a whole number; write one such as 0 or 10 (lower comes "
            "first)"
        )
    conditions: dict[str, tuple[str, ...]] = {}
    for question in version.questions:
        try:
            accepted = read_cell(question, cell(question.key))
        except ValueError as error:
            errors[f"line {line}, column {question.key}"] = str(error)
            continue
        if accepted is not None:
            conditions[question.key] = accepted
    outcome = cell(OUTCOME)
    allowed_outcomes = [o.key for o in version.outcomes_of(table)]
    if outcome not in allowed_outcomes:
        errors[f"line {line}, column {OUTCOME}"] = (
            f"unknown outcome {outcome!r} for the {table} table; allowed: "
            + ", ".join(allowed_outcomes)
        )
    clause_text = cell(CLAUSES)
    clauses = tuple(c for c in SEPARATOR.split(clause_text) if c) if clause_text else ()
    known = {c.key for c in version.clauses}
    unknown = [c for c in clauses if c not in known]
    if unknown:
        errors[f"line {line}, column {CLAUSES}"] = (
            f"unknown clause{'s' if len(unknown) > 1 else ''} "
            + ", ".join(repr(c) for c in unknown)
            + f"; this version's clauses are listed on its page ({len(known)} of them)"
        )
    if len(errors) > before:
        return None
    return Row(
        line,
        key,
        priority,
        conditions,
        outcome,
        unguarded(cell(REASON)),
        tuple(dict.fromkeys(clauses)),
    )


def read_cell(question: engine.Question, text: str) -> tuple[str, ...] | None:
    """The choices a cell accepts, in the question's order; None when the rule does not test
    the question. ValueError naming the choices allowed."""
    allowed = question.choice_keys
    stripped = text.strip()
    lowered = stripped.lower()
    if not lowered or (lowered == ANY and ANY not in allowed):
        return None
    if lowered == EVERY_CHOICE:
        return tuple(allowed)
    negated = lowered.startswith(NOT)
    body = stripped[len(NOT) :] if negated else stripped
    named = [choice for choice in SEPARATOR.split(body) if choice]
    unknown = [choice for choice in named if choice not in allowed]
    if unknown:
        raise ValueError(
            f"unknown choice{'s' if len(unknown) > 1 else ''} "
            + ", ".join(repr(c) for c in unknown)
            + f"; allowed: {', '.join(allowed)} (or {ANY!r}, or 'not' before choices)"
        )
    if not named:
        raise ValueError(f"name at least one choice after 'not'; allowed: {', '.join(allowed)}")
    accepted = tuple(c for c in allowed if (c not in named) == negated)
    if not accepted:
        raise ValueError(
            "this cell leaves out every choice, so the rule could never fire; "
            f"write {ANY!r} or name the choices it accepts"
        )
    return accepted


def _check_keys_and_order(
    version: engine.Version, table: str, rows: Sequence[Row], errors: dict[str, str]
) -> None:
    others = {rule.key: rule.table for rule in version.rules if rule.table != table}
    first_line: dict[str, int] = {}
    previous: Row | None = None
    for row in rows:
        where = f"line {row.line}, column {RULE}"
        if row.key in first_line:
            errors[where] = f"rule id {row.key!r} is already used on line {first_line[row.key]}"
        elif row.key in others:
            errors[where] = (
                f"rule id {row.key!r} belongs to a rule of the {others[row.key]} table of this "
                "version; rule ids are unique within a version, choose another"
            )
        first_line.setdefault(row.key, row.line)
        if previous is not None and (row.priority, row.key) < (previous.priority, previous.key):
            errors.setdefault(
                f"line {row.line}, column {PRIORITY}",
                f"rows are kept in priority order (ties by rule id): priority {row.priority}, "
                f"rule {row.key!r} would come before line {previous.line} (priority "
                f"{previous.priority}, rule {previous.key!r}); give it a higher priority than "
                f"{previous.priority} or move the line",
            )
        previous = row
