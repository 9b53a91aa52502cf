"""Write policy versions back out in the YAML seed format that `loading.parse_document` reads.

The export is lossless: parsing it and building each version with `loading.to_engine` gives
versions equal to the ones exported (texts stripped the way the loader strips them, outcomes
grouped by table as the format groups them). `export_document` checks this itself before it
returns, so a version the format cannot express (a non-default hit policy, say) is refused with
`ExportError` rather than written wrong.

Records that are identical in several versions are written once and scoped with `from`/`before`
(a run of consecutive versions) or `versions: [...]`; the versions' sequences are aligned so that
each version keeps its own order. Stored rules that the loader would have made from one YAML rule
(keys `<id>[.<alternative>][.<table>[.<n>]]`, see rule_keys.py, one after another, with the same
reason, citations and priority) are written as that one rule again; any other rule is written on
its own under its full key.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import yaml

from . import engine, rule_keys
from .loading import (
    DocumentDoc,
    ReviewDoc,
    ScenarioDoc,
    SeedError,
    parse_document,
    to_engine,
)

# (version id written YYYY-MM-DD, notes, status "draft" or "published", the version itself)
VersionExport = tuple[str, str, str, engine.Version]


class ExportError(ValueError):
    """The versions cannot be written in the seed format; the message says why."""


def export_document(
    slug: str,
    title: str,
    summary: str,
    versions: Sequence[VersionExport],
    scenarios: Sequence[ScenarioDoc] = (),
    documents: Sequence[DocumentDoc] = (),
    reviews: Sequence[ReviewDoc] = (),
    shown_as: Mapping[str, tuple[str, str]] | None = None,
) -> dict[str, Any]:
    """The seed-format document (a plain dict, ready for `dump_yaml`) holding `versions`, the
    policy's `scenarios`, the source `documents` its clauses name (snapshot texts inline) and
    the `reviews` of drift in those versions. `shown_as` maps a version id to the (title,
    summary) it carries; a version's own `title` and `summary` are written only where they
    differ from the policy's."""
    own = {
        vid: fields
        for vid, fields in (shown_as or {}).items()
        if (fields[0], fields[1].strip()) != (title, summary.strip())
    }
    if not versions:
        raise ExportError("there is no version to export")
    dated = sorted((_day(vid), notes, status, v) for vid, notes, status, v in versions)
    days = [day for day, *_ in dated]
    if len(set(days)) != len(days):
        raise ExportError("two versions share an effective date")
    for day, _, _, version in dated:
        if dict(version.hit_policies) != dict(engine.DEFAULT_HIT_POLICIES):
            raise ExportError(
                f"version {day.isoformat()} uses hit policies the seed format cannot express"
            )
    scopes = _Scopes(days)
    engine_versions = [version for *_, version in dated]
    document: dict[str, Any] = {
        "policy": _record(slug=slug, title=title, summary=summary.strip()),
        "versions": [
            {
                **_record(
                    id=day, notes=notes.strip(), status=None if status == "published" else status
                ),
                # Written even when empty: an empty summary of its own is not the policy's.
                **_shown_as(own.get(day.isoformat()), title, summary),
            }
            for day, notes, status, _ in dated
        ],
        "clauses": scopes.write(
            _merge_sequences([[_clause(c) for c in v.clauses] for v in engine_versions])
        ),
        "questions": _questions(engine_versions, scopes),
        "outcomes": {
            table: scopes.write(
                _merge_sequences(
                    [[_outcome(o) for o in v.outcomes_of(table)] for v in engine_versions]
                )
            )
            for table in engine.TABLES
        },
        "rules": scopes.write(_merge_sequences([_rules(v) for v in engine_versions])),
    }
    document["outcomes"] = {table: items for table, items in document["outcomes"].items() if items}
    if scenarios:
        document["scenarios"] = [_scenario(engine_versions, s) for s in scenarios]
    if documents:
        document = _with_documents(document, documents)
    if reviews:
        document["reviews"] = [
            {"version": r.version, "clause": r.clause, "since": r.since, "note": r.note}
            for r in sorted(reviews, key=lambda r: (r.version, r.clause, r.since))
        ]
    _verify(document, slug, engine_versions, scenarios)
    parsed = parse_document(yaml.safe_load(dump_yaml(document)))
    if sorted(parsed.documents, key=lambda d: d.key) != sorted(documents, key=lambda d: d.key):
        raise ExportError("the source documents would not load back the same")
    if sorted(parsed.reviews, key=str) != sorted(reviews, key=str):
        raise ExportError("the reviews would not load back the same")
    for loaded in parsed.versions:
        expected = own.get(loaded.id, (title, summary))
        got = (
            parsed.title if loaded.title is None else loaded.title,
            parsed.summary if loaded.summary is None else loaded.summary,
        )
        if got != (expected[0], expected[1].strip()):
            raise ExportError(
                f"version {loaded.id}'s title and summary would not load back the same"
            )
    return document


def _shown_as(fields: tuple[str, str] | None, title: str, summary: str) -> dict[str, str]:
    """A version's own title and summary, each only where it differs from the policy's."""
    if fields is None:
        return {}
    own: dict[str, str] = {}
    if fields[0] != title:
        own["title"] = fields[0]
    if fields[1].strip() != summary.strip():
        own["summary"] = fields[1].strip()
    return own


def _with_documents(document: dict[str, Any], documents: Sequence[DocumentDoc]) -> dict[str, Any]:
    """The document with a `documents:` section before the clauses, as the seed writes it."""
    written = []
    for d in sorted(documents, key=lambda d: d.key):
        written.append(
            {
                "id": d.key,
                "title": d.title,
                "url": d.url,
                **_record(other_urls=list(d.other_urls)),
                "kind": d.kind,
                **_record(
                    snapshots=[
                        {
                            "date": snap.date,
                            "sha256": snap.sha256,
                            **_record(note=snap.note, provenance=dict(snap.provenance)),
                            "text": snap.text,
                        }
                        for snap in d.snapshots
                    ]
                ),
            }
        )
    ordered: dict[str, Any] = {}
    for key, value in document.items():
        if key == "clauses":
            ordered["documents"] = written
        ordered[key] = value
    return ordered


def dump_yaml(document: dict[str, Any]) -> str:
    return yaml.dump(
        document,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        width=100,
        default_flow_style=False,
    )


# --- records --------------------------------------------------------------------------------------


class _Flow(dict):
    """A mapping written on one line, as the seed writes conditions and choices."""


class _FlowList(list):
    pass


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        # Versions share date objects; `&id001` anchors would only obscure the dates.
        return True


def _represent_str(dumper: yaml.SafeDumper, text: str) -> yaml.Node:
    # Multi-line texts (commands in an outcome's detail) read best as literal blocks.
    style = "|" if "\n" in text else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(
    _Flow, lambda d, data: d.represent_mapping("tag:yaml.org,2002:map", data, flow_style=True)
)
_Dumper.add_representer(
    _FlowList, lambda d, data: d.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=True)
)


def _record(**fields: Any) -> dict[str, Any]:
    """The fields worth writing: the loader reads a missing field as empty."""
    return {key: value for key, value in fields.items() if value not in (None, "", [], {}, 0)}


def _day(version_id: str) -> dt.date:
    try:
        return dt.date.fromisoformat(version_id)
    except ValueError:
        raise ExportError(
            f"version {version_id!r} has no effective date (YYYY-MM-DD); the seed format "
            "names versions by date"
        ) from None


def _clause(clause: engine.Clause) -> dict[str, Any]:
    marker: Any = clause.later_statement_reason.strip() or True
    return {
        "id": clause.key,
        **_record(
            source=clause.source,
            url=clause.url,
            document=clause.document,
            later_statement=marker if clause.later_statement else None,
            version=clause.version,
            quote=clause.quote.strip(),
        ),
    }


def _outcome(outcome: engine.Outcome) -> dict[str, Any]:
    return {
        "id": outcome.key,
        "title": outcome.title,
        **_record(
            text=outcome.text.strip(), detail=outcome.detail.strip(), action=outcome.action.strip()
        ),
    }


def _condition(version: engine.Version, conj: engine.Conjunction) -> _Flow:
    """{question: [choices]} in the version's question and choice order."""
    order = {q.key: i for i, q in enumerate(version.questions)}
    condition = _Flow()
    for key, choices in sorted(conj, key=lambda test: order[test[0]]):
        question = version.question(key)
        assert question is not None  # the Version checked its references
        condition[key] = _FlowList(c for c in question.choice_keys if c in choices)
    return condition


def scenario_fits(scenario: ScenarioDoc, versions: Iterable[engine.Version]) -> bool:
    """Whether every id the scenario names is in one of the versions (else it would not load)."""
    choices: dict[str, set[str]] = {}
    outcomes: set[str] = set()
    for version in versions:
        for question in version.questions:
            choices.setdefault(question.key, set()).update(question.choice_keys)
        outcomes.update(outcome.key for outcome in version.outcomes)
    return (
        all(value in choices.get(key, ()) for key, value in scenario.answers.items())
        and {*scenario.must_include, *scenario.must_exclude} <= outcomes
        and (not scenario.verdict or scenario.verdict in outcomes)
    )


def _scenario(versions: list[engine.Version], scenario: ScenarioDoc) -> dict[str, Any]:
    # Answers in question order (newest version first), whatever order the database kept.
    order: dict[str, int] = {}
    for version in reversed(versions):
        for question in version.questions:
            order.setdefault(question.key, len(order))
    answers = _Flow(
        (key, scenario.answers[key])
        for key in sorted(scenario.answers, key=lambda key: (order.get(key, len(order)), key))
    )
    return {
        "name": scenario.name,
        **_record(as_of=scenario.as_of, answers=answers, verdict=scenario.verdict),
        **_record(
            must_include=_FlowList(scenario.must_include),
            must_exclude=_FlowList(scenario.must_exclude),
        ),
    }


def _question(version: engine.Version, question: engine.Question) -> dict[str, Any]:
    return {
        "id": question.key,
        **_record(
            text=question.text.strip(),
            help=question.help.strip(),
            error=question.error.strip(),
            shown_when=[_condition(version, conj) for conj in question.shown_when],
        ),
        # Written only where it differs from the default (a question is actionable).
        **({} if question.actionable else {"actionable": False}),
        **({} if question.change_cost == 1 else {"change_cost": question.change_cost}),
    }


def _choice(choice: engine.Choice) -> dict[str, Any]:
    return _Flow(
        id=choice.key,
        label=choice.label,
        **_record(help=choice.help.strip()),
        **({"sensitive": True} if choice.sensitive else {}),
    )


def _questions(versions: list[engine.Version], scopes: _Scopes) -> list[dict[str, Any]]:
    """Questions merged across versions; a question's choices are merged within it and scoped
    only where they differ between the versions that have the question."""
    merged = _merge_sequences(
        [[_question(v, q) for q in v.questions] for v in versions],
    )
    written = []
    for question, members in merged:
        choice_lists = []
        for index in sorted(members):
            version = versions[index]
            found = version.question(question["id"])
            assert found is not None
            choice_lists.append((index, [_choice(c) for c in found.choices]))
        choices = _merge_sequences([choices for _, choices in choice_lists])
        owners = [index for index, _ in choice_lists]
        record = dict(question)
        record["choices"] = [
            scopes.scoped(choice, {owners[i] for i in present}, relevant=set(members))
            for choice, present in choices
        ]
        written.append(scopes.scoped(record, members))
    return written


# --- rules ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Group:
    """One YAML rule: its alternatives (`when`) and outcomes (`then`), expanded like the loader."""

    base: str
    alternatives: tuple[engine.Conjunction, ...]
    outcomes: tuple[tuple[str, str], ...]  # (table, outcome) in `then` order
    reason: str
    clauses: tuple[str, ...]
    priority: int

    def expand(self) -> list[engine.Rule]:
        keys = iter(
            rule_keys.expanded(
                self.base, len(self.alternatives), [table for table, _ in self.outcomes]
            )
        )
        return [
            engine.Rule(
                next(keys), table, outcome, conditions, self.reason, self.clauses, self.priority
            )
            for conditions in self.alternatives
            for table, outcome in self.outcomes
        ]


def _rules(version: engine.Version) -> list[dict[str, Any]]:
    rules = [replace(rule, reason=rule.reason.strip()) for rule in version.rules]
    written = []
    i = 0
    while i < len(rules):
        group = _longest_group(rules, i)
        written.append(_rule_record(version, group))
        i += len(group.alternatives) * len(group.outcomes)
    return written


def _longest_group(rules: list[engine.Rule], i: int) -> _Group:
    first = rules[i]
    single = _Group(
        first.key,
        (first.conditions,),
        ((first.table, first.outcome),),
        first.reason,
        first.clauses,
        first.priority,
    )
    candidates = [single]
    # The YAML rule ids the first key could have come from: `<id>.1` (alternatives),
    # `<id>.<table>` or `<id>.<table>.1` (outcomes), `<id>.1.<table>[.1]` (both).
    for outcome_end in (f".{first.table}", f".{first.table}.1"):
        if first.key.endswith(outcome_end):
            base = first.key.removesuffix(outcome_end)
            candidates.append(_grown(rules, i, base, alternatives=False, outcomes=True))
            if base.endswith(".1"):
                candidates.append(_grown(rules, i, base[:-2], alternatives=True, outcomes=True))
    if first.key.endswith(".1"):
        candidates.append(_grown(rules, i, first.key[:-2], alternatives=True, outcomes=False))
    # A candidate counts only if the loader would expand it into exactly these stored rules.
    valid = [g for g in candidates if g.expand() == rules[i : i + len(g.expand())]]
    return max(valid, key=lambda g: len(g.expand()))


def _grown(
    rules: list[engine.Rule], i: int, base: str, *, alternatives: bool, outcomes: bool
) -> _Group:
    """The largest group with this base that the rules from i could come from."""
    first = rules[i]

    def alike(rule: engine.Rule) -> bool:
        return (rule.reason, rule.clauses, rule.priority) == (
            first.reason,
            first.clauses,
            first.priority,
        )

    produced: list[tuple[str, str]] = [(first.table, first.outcome)]
    if outcomes:
        prefix = f"{base}.1" if alternatives else base
        run: list[tuple[str, str]] = [(first.table, first.outcome)]
        for rule in rules[i + 1 :]:
            tables = [table for table, _ in run]
            # `then` lists each table once, so a table's outcomes must come together.
            continues_table = rule.table == tables[-1] or rule.table not in tables
            if not (
                rule.key.startswith(prefix + ".")
                and rule.conditions == first.conditions
                and continues_table
                and alike(rule)
            ):
                break
            run.append((rule.table, rule.outcome))
        # The longest start of that run whose keys are the ones the loader would give it (a
        # table's suffix gains its number only once a second outcome of it follows).
        for length in range(len(run), 0, -1):
            ends = rule_keys.suffixes([table for table, _ in run[:length]])
            if [r.key for r in rules[i : i + length]] == [prefix + end for end in ends]:
                produced = run[:length]
                break
    alts = [first.conditions]
    if alternatives:
        ends = rule_keys.suffixes([table for table, _ in produced])
        at = i + len(produced)
        while at + len(produced) <= len(rules):
            n = len(alts) + 1
            chunk = rules[at : at + len(produced)]
            if not (
                [r.key for r in chunk] == [f"{base}.{n}{end}" for end in ends]
                and [(r.table, r.outcome) for r in chunk] == produced
                and len({r.conditions for r in chunk}) == 1
                and all(alike(r) for r in chunk)
            ):
                break
            alts.append(chunk[0].conditions)
            at += len(produced)
    return _Group(base, tuple(alts), tuple(produced), first.reason, first.clauses, first.priority)


def _rule_record(version: engine.Version, group: _Group) -> dict[str, Any]:
    then = _Flow()
    for table, outcome in group.outcomes:
        then.setdefault(table, []).append(outcome)
    when: Any = [_condition(version, alt) for alt in group.alternatives]
    if len(when) == 1:
        when = when[0] or None
    return {
        "id": group.base,
        **_record(
            when=when,
            then=_Flow(
                (table, keys[0] if len(keys) == 1 else _FlowList(keys))
                for table, keys in then.items()
            ),
            reason=group.reason,
            cite=_FlowList(group.clauses),
            priority=group.priority,
        ),
    }


# --- merging versions -----------------------------------------------------------------------------


def _identity(record: dict[str, Any]) -> str:
    return json.dumps(record, default=str)


def _merge_sequences(
    sequences: Sequence[Sequence[dict[str, Any]]],
) -> list[tuple[dict[str, Any], set[int]]]:
    """One sequence holding every record of every input once per run of equal records, each with
    the indexes of the inputs it belongs to; filtering it by an index gives that input back."""
    merged: list[tuple[dict[str, Any], set[int]]] = []
    for index, sequence in enumerate(sequences):
        matcher = difflib.SequenceMatcher(
            None,
            [_identity(record) for record, _ in merged],
            [_identity(record) for record in sequence],
            autojunk=False,
        )
        aligned: list[tuple[dict[str, Any], set[int]]] = []
        for tag, a_start, a_end, b_start, b_end in matcher.get_opcodes():
            if tag == "equal":
                for (record, members), _ in zip(
                    merged[a_start:a_end], sequence[b_start:b_end], strict=True
                ):
                    aligned.append((record, members | {index}))
            else:
                aligned.extend(merged[a_start:a_end])
                aligned.extend((record, {index}) for record in sequence[b_start:b_end])
        merged = aligned
    return merged


class _Scopes:
    """Writes the `from`/`before`/`versions` that select a set of versions."""

    def __init__(self, days: list[dt.date]) -> None:
        self.days = days

    def write(self, merged: Iterable[tuple[dict[str, Any], set[int]]]) -> list[dict[str, Any]]:
        return [self.scoped(record, members) for record, members in merged]

    def scoped(
        self, record: dict[str, Any], members: set[int], relevant: set[int] | None = None
    ) -> dict[str, Any]:
        """`record` limited to the versions in `members`; versions outside `relevant` (default:
        all) may fall either way, which allows a shorter scope."""
        everything = set(range(len(self.days)))
        relevant = everything if relevant is None else relevant
        excluded = relevant - members
        scope: dict[str, Any] = {}
        if excluded:
            low, high = min(members), max(members)
            if not any(low <= i <= high for i in excluded):
                # Stretch the run over versions that do not matter, to drop a bound if possible.
                while low > 0 and low - 1 not in excluded:
                    low -= 1
                while high < len(self.days) - 1 and high + 1 not in excluded:
                    high += 1
                if low > 0:
                    scope["from"] = self.days[low]
                if high < len(self.days) - 1:
                    scope["before"] = self.days[high + 1]
            else:
                scope["versions"] = _FlowList(self.days[i] for i in sorted(members))
        items = list(record.items())
        flow = isinstance(record, _Flow)
        result: dict[str, Any] = _Flow() if flow else {}
        result.update(items[:1])  # the id first, then the scope, as the seed writes them
        result.update(scope)
        result.update(items[1:])
        return result


# --- the check ------------------------------------------------------------------------------------


def _verify(
    document: dict[str, Any],
    slug: str,
    versions: list[engine.Version],
    scenarios: Sequence[ScenarioDoc],
) -> None:
    try:
        parsed = parse_document(yaml.safe_load(dump_yaml(document)))
        read_back = [to_engine(slug, version) for version in parsed.versions]
    except SeedError as exc:
        raise ExportError(f"the export would not load: {exc}") from None
    for written, back in zip(scenarios, parsed.scenarios, strict=False):
        if written != back:
            raise ExportError(f"scenario {written.name!r} would not load back the same")
    if len(parsed.scenarios) != len(scenarios):
        raise ExportError("the scenarios would not load back the same")
    for original, copy in zip(versions, read_back, strict=True):
        expected = _as_loaded(original, slug, copy.version)
        if copy != expected:
            raise ExportError(
                f"version {original.version} would not load back the same: "
                + _difference(expected, copy)
            )


def _as_loaded(version: engine.Version, slug: str, version_id: str) -> engine.Version:
    """The version as the loader would rebuild it: texts stripped, outcomes grouped by table."""
    return engine.Version(
        policy=slug,
        version=version_id,
        questions=tuple(
            replace(
                q,
                text=q.text.strip(),
                help=q.help.strip(),
                error=q.error.strip(),
                choices=tuple(replace(c, help=c.help.strip()) for c in q.choices),
            )
            for q in version.questions
        ),
        outcomes=tuple(
            replace(o, text=o.text.strip(), detail=o.detail.strip(), action=o.action.strip())
            for table in engine.TABLES
            for o in version.outcomes_of(table)
        ),
        rules=tuple(replace(r, reason=r.reason.strip()) for r in version.rules),
        clauses=tuple(
            replace(
                c,
                quote=c.quote.strip(),
                later_statement_reason=c.later_statement_reason.strip()
                if c.later_statement
                else "",
            )
            for c in version.clauses
        ),
    )


def _difference(expected: engine.Version, actual: engine.Version) -> str:
    for kind in ("questions", "outcomes", "rules", "clauses"):
        want, got = getattr(expected, kind), getattr(actual, kind)
        if want != got:
            for a, b in zip(want, got, strict=False):
                if a != b:
                    return f"{kind} differ: {a!r} became {b!r}"
            return f"{kind} differ in number: {len(want)} became {len(got)}"
    return "they differ"
