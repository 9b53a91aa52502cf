"""How stored rules are named: short keys that say where a rule comes from, never what it decides.

A YAML rule becomes one stored rule per alternative of its `when` and per outcome of its `then`
(loading.py). Its stored rules are keyed `<rule id>[.<alternative number>][.<table>[.<n>]]`: the
alternative number only when there are several alternatives, the table only when `then` names
several outcomes, and `n` (1, 2, …, counting that table's outcomes in the version's order of
outcomes, whatever order `then` lists them in) only when it names several of that table.
The outcome is not in the key, so editing a rule's outcome in the admin leaves its key, and the
references to it, as they were. Pure: no Django, no I/O.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection, Sequence

_NUMBERED = re.compile(r"^(?P<stem>.+)\.(?P<n>[0-9]+)$")


def suffixes(tables: Sequence[str]) -> list[str]:
    """The key suffix of each outcome of one `then`, given the table of each in order."""
    if len(tables) <= 1:
        return [""] * len(tables)
    counts = Counter(tables)
    seen: Counter[str] = Counter()
    written = []
    for table in tables:
        seen[table] += 1
        written.append(f".{table}.{seen[table]}" if counts[table] > 1 else f".{table}")
    return written


def expanded(rule_id: str, alternatives: int, tables: Sequence[str]) -> list[str]:
    """The keys of the stored rules one YAML rule becomes, alternative by alternative, each
    alternative's outcomes in `then` order."""
    ends = suffixes(tables)
    keys: list[str] = []
    for n in range(1, alternatives + 1):
        base = rule_id if alternatives == 1 else f"{rule_id}.{n}"
        keys.extend(base + end for end in ends)
    return keys


def free_key(taken: Collection[str], stem: str, *, start: int = 1) -> str:
    """`<stem>.<n>` for the smallest n from `start` that no rule of the version has yet."""
    n = start
    while f"{stem}.{n}" in taken:
        n += 1
    return f"{stem}.{n}"


def copy_key(taken: Collection[str], key: str) -> str:
    """The key of a copy of rule `key`: the next free number beside it (`a` → `a.2`,
    `a.2` → `a.3`, `a.terms` → `a.terms.2`), so a copy reads as one more alternative or one
    more outcome of the same rule, and stays as short."""
    numbered = _NUMBERED.match(key)
    stem = numbered.group("stem") if numbered else key
    return free_key(taken, stem, start=2)
