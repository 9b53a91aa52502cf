"""Load a policy from its YAML seed format into the database.

The format keeps one list of questions, outcomes, clauses and rules for the whole policy; any
record can be limited to some versions with `from: DATE` (versions on or after it), `before: DATE`
(versions before it) or `versions: [DATE, ...]`. A rule's `then` may name outcomes of several
tables, and its `when` may be a list of alternatives (an OR); it becomes one stored rule per
alternative and outcome, keyed `<rule id>[.<alternative number>][.<table>[.<n>]]` (rule_keys.py:
the key never spells the outcome, so an outcome edited in the admin keeps its rule's key).

A `scenarios:` section lists the policy's test cases (see `scenarios.py`): a name, the answers,
an optional `as_of`, the expected `verdict` and the outcome ids that `must_include` /
`must_exclude`.

Everything is checked before anything is written, and a refusal names the line of the record at
fault and the reason: unknown keys, duplicate ids (within a version) and references to questions,
choices, outcomes or clauses that the version lacks. Each version is then built as an engine
`Version`, which checks the rest, and written in one transaction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml
from django.db import transaction
from django.db.models import Q

from . import citations, engine, records, rule_keys, scenarios
from .models import (
    KEY_PATTERN,
    DriftReview,
    Policy,
    PolicySlug,
    PolicyVersion,
    Scenario,
    Snapshot,
    SourceDocument,
)

SEED_DIR = Path(__file__).resolve().parent / "seed"

TOP_KEYS = {
    "policy",
    "versions",
    "documents",
    "reviews",
    "clauses",
    "questions",
    "outcomes",
    "rules",
    "scenarios",
}
SCOPE_KEYS = {"from", "before", "versions"}
RECORD_KEYS = {
    "policy": {"slug", "title", "summary"},
    "version": {"id", "notes", "status", "title", "summary"},
    "clause": {"id", "source", "url", "version", "quote", "document", "later_statement"}
    | SCOPE_KEYS,
    "document": {"id", "title", "url", "other_urls", "kind", "snapshots"},
    "snapshot": {"date", "file", "text", "sha256", "note", "provenance"},
    "review": {"version", "clause", "since", "note"},
    "question": {
        "id",
        "text",
        "help",
        "shown_when",
        "choices",
        "actionable",
        "change_cost",
        "error",
    }
    | SCOPE_KEYS,
    "choice": {"id", "label", "help", "sensitive"} | SCOPE_KEYS,
    "outcome": {"id", "title", "text", "detail", "action"} | SCOPE_KEYS,
    "rule": {"id", "when", "then", "reason", "cite", "priority"} | SCOPE_KEYS,
    "scenario": {"name", "as_of", "answers", "verdict", "must_include", "must_exclude"},
}


class SeedError(ValueError):
    """The document is refused whole; the message says where and why."""


class _Located(dict):
    """A mapping read from YAML that remembers the line it starts on (1-based)."""

    line: int = 0


class _LineLoader(yaml.SafeLoader):
    """The safe loader, but mappings know their line, a key repeated in one mapping (which YAML
    would silently resolve to the last value) is refused, and so is an alias (`*name`) of a list
    or a mapping: a few nested ones in 2 KB expand to gigabytes once walked. An alias of a plain
    value (a quote shared by two records) costs nothing and stays allowed."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            anchored = self.anchors.get(event.anchor)
            if anchored is not None and not isinstance(anchored, yaml.ScalarNode):
                raise SeedError(
                    f"line {event.start_mark.line + 1}: YAML aliases of lists or mappings "
                    f"(*{event.anchor}) are not allowed in a policy file; write the record out "
                    "in full"
                )
        return super().compose_node(parent, index)


def _construct_located_mapping(loader: _LineLoader, node: yaml.MappingNode) -> Iterator[_Located]:
    data = _Located()
    data.line = node.start_mark.line + 1
    yield data
    first_seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue  # `<<: *anchor` keys may be overridden; only written keys must be unique
        key = loader.construct_object(key_node)
        line = key_node.start_mark.line + 1
        try:
            if key in first_seen:
                raise SeedError(
                    f"line {line}: the key {key!r} appears twice in one mapping "
                    f"(first on line {first_seen[key]})"
                )
            first_seen[key] = line
        except TypeError:
            raise SeedError(f"line {line}: a mapping key must be a plain value") from None
    loader.flatten_mapping(node)
    data.update(loader.construct_mapping(node))


_LineLoader.add_constructor("tag:yaml.org,2002:map", _construct_located_mapping)


def load_yaml(text: str) -> Any:
    """Parse YAML safely, with line numbers on mappings for the messages of `parse_document`."""
    return yaml.load(text, Loader=_LineLoader)  # a SafeLoader subclass: safe


_LOCATED = re.compile(r"^line \d+ \(([^()]*)\)(.*)$")


def _at(record: object, where: str) -> str:
    """`where` ("rules[3]"), given the record's line when it was read from a file: "line 40
    (rules[3])". A line already in `where` (of an enclosing record) gives way to the record's."""
    line = getattr(record, "line", 0)
    if not line:
        return where
    enclosing = _LOCATED.match(where)
    path = enclosing.group(1) + enclosing.group(2) if enclosing else where
    return f"line {line} ({path})"


@dataclass
class VersionDoc:
    """One version, expanded from the document: the records exactly as they will be stored."""

    effective_date: dt.date
    notes: str
    status: str
    questions: list[dict[str, Any]] = field(default_factory=list)
    outcomes: list[dict[str, Any]] = field(default_factory=list)
    clauses: list[dict[str, Any]] = field(default_factory=list)
    rules: list[dict[str, Any]] = field(default_factory=list)
    # The policy's title and summary while this version is in effect; None: the document's.
    title: str | None = None
    summary: str | None = None

    @property
    def id(self) -> str:
        return self.effective_date.isoformat()


@dataclass(frozen=True)
class ScenarioDoc:
    name: str
    answers: dict[str, str]
    as_of: dt.date | None = None
    verdict: str = ""
    must_include: tuple[str, ...] = ()
    must_exclude: tuple[str, ...] = ()


@dataclass(frozen=True)
class SnapshotDoc:
    date: dt.date
    text: str  # exactly as the file holds it (decoded as UTF-8, line endings kept)
    sha256: str
    note: str = ""
    provenance: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DocumentDoc:
    key: str
    url: str
    title: str
    kind: str = "primary"
    other_urls: tuple[str, ...] = ()
    snapshots: tuple[SnapshotDoc, ...] = ()


@dataclass(frozen=True)
class ReviewDoc:
    """A reviewed drift finding: the page was reworded on `since`, the meaning unchanged."""

    version: dt.date
    clause: str
    since: dt.date
    note: str


@dataclass
class PolicyDoc:
    slug: str
    title: str
    summary: str
    versions: list[VersionDoc]
    scenarios: list[ScenarioDoc] = field(default_factory=list)
    documents: list[DocumentDoc] = field(default_factory=list)
    reviews: list[ReviewDoc] = field(default_factory=list)


@dataclass
class LoadReport:
    slug: str
    created: list[str] = field(default_factory=list)  # stored as the document says
    drafted: list[str] = field(default_factory=list)  # stored as drafts of an existing policy
    skipped: list[str] = field(default_factory=list)  # already there (published, or same draft)
    scenarios: list[str] = field(default_factory=list)  # scenarios added
    documents: list[str] = field(default_factory=list)  # source documents added
    snapshots: list[str] = field(default_factory=list)  # snapshots added, "<document> <date>"

    def __str__(self) -> str:
        parts = []
        if self.documents:
            parts.append(f"added {len(self.documents)} source document(s)")
        if self.snapshots:
            parts.append(f"added {len(self.snapshots)} snapshot(s)")
        if self.created:
            parts.append(f"loaded {', '.join(self.created)}")
        if self.drafted:
            parts.append(f"imported as drafts {', '.join(self.drafted)}")
        if self.skipped:
            parts.append(f"kept existing {', '.join(self.skipped)}")
        if self.scenarios:
            parts.append(f"added {len(self.scenarios)} scenario(s)")
        return f"{self.slug}: " + ("; ".join(parts) or "nothing to do")


def seed_files() -> list[Path]:
    return sorted(SEED_DIR.glob("*.yaml"))


# Far above any real policy (the seed is some 100 KB), far below what hurts a worker.
MAX_DOCUMENT_BYTES = 5_000_000


def read_document(path: Path) -> PolicyDoc:
    try:
        size = path.stat().st_size
        if size > MAX_DOCUMENT_BYTES:
            raise SeedError(
                f"the file is {size:,} bytes; a policy file may be at most "
                f"{MAX_DOCUMENT_BYTES:,} bytes"
            )
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise SeedError(f"not UTF-8 text (byte {exc.start})") from None
        return parse_text(text, base=path.resolve().parent)
    except SeedError as exc:
        raise SeedError(f"{path}: {exc}") from None


def parse_text(text: str, *, base: Path | None = None) -> PolicyDoc:
    """A document from YAML text; errors name the line. Snapshot `file:`s are read relative to
    `base` (the YAML file's folder); without one, only inline `text:` is allowed."""
    if len(text) > MAX_DOCUMENT_BYTES:
        raise SeedError(f"a policy document may be at most {MAX_DOCUMENT_BYTES:,} characters")
    try:
        raw = load_yaml(text)
    except yaml.YAMLError as exc:
        raise SeedError(f"not valid YAML: {exc}") from None
    return parse_document(raw, base=base)


def _date(value: object, where: str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise SeedError(f"{where}: {value!r} is not a date written YYYY-MM-DD") from None


def _check_keys(record: object, kind: str, where: str) -> Mapping[str, Any]:
    if not isinstance(record, Mapping):
        raise SeedError(f"{where}: expected a mapping for a {kind}")
    where = _at(record, where)
    unknown = set(record) - RECORD_KEYS[kind]
    if unknown:
        raise SeedError(
            f"{where}: unknown key(s) {', '.join(sorted(map(str, unknown)))} in a {kind}; "
            f"allowed: {', '.join(sorted(RECORD_KEYS[kind]))}"
        )
    required = {"policy": None, "scenario": "name", "snapshot": "date", "review": "clause"}.get(
        kind, "id"
    )
    if required is not None and required not in record:
        raise SeedError(f"{where}: a {kind} needs {'a' if required == 'name' else 'an'} {required}")
    return record


def _in_scope(record: Mapping[str, Any], day: dt.date, where: str) -> bool:
    if "versions" in record:
        days = {_date(v, where) for v in record["versions"]}
        if day not in days:
            return False
    if "from" in record and day < _date(record["from"], where):
        return False
    return not ("before" in record and day >= _date(record["before"], where))


def _condition(tests: object, choices: Mapping[str, list[str]], where: str) -> dict[str, list[str]]:
    """{question: [choices]} or {question: {not: [choices]}}, checked and made positive."""
    if tests in (None, "always"):
        return {}
    if not isinstance(tests, Mapping):
        raise SeedError(f"{where}: a condition is a mapping of question ids to choice lists")
    where = _at(tests, where)
    positive: dict[str, list[str]] = {}
    for key, allowed in tests.items():
        if key not in choices:
            raise SeedError(f"{where}: unknown question {key!r}")
        if isinstance(allowed, Mapping) and set(allowed) == {"not"}:
            excluded = _choice_list(allowed["not"], choices[key], f"{where}, {key}")
            positive[key] = [c for c in choices[key] if c not in excluded]
        else:
            positive[key] = _choice_list(allowed, choices[key], f"{where}, {key}")
        if not positive[key]:
            raise SeedError(f"{where}: the condition on {key!r} leaves no choice")
    return positive


def _choice_list(value: object, known: list[str], where: str) -> list[str]:
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list):
        raise SeedError(f"{where}: expected a list of choice ids")
    unknown = [v for v in values if v not in known]
    if unknown:
        raise SeedError(
            f"{where}: unknown choice(s) {', '.join(map(str, unknown))}; "
            f"allowed: {', '.join(known)}"
        )
    return [c for c in known if c in values]


def parse_document(raw: object, *, base: Path | None = None) -> PolicyDoc:
    if not isinstance(raw, Mapping):
        raise SeedError("the document must be a mapping")
    unknown = set(raw) - TOP_KEYS
    if unknown:
        raise SeedError(f"unknown top-level key(s): {', '.join(sorted(map(str, unknown)))}")
    policy = _check_keys(raw.get("policy"), "policy", "policy")
    if not policy.get("slug") or not policy.get("title"):
        raise SeedError("policy: slug and title are required")
    versions: list[VersionDoc] = []
    first_line: dict[dt.date, str] = {}
    for i, v in enumerate(raw.get("versions") or []):
        v = _check_keys(v, "version", f"versions[{i}]")
        where = _at(v, f"versions[{i}]")
        status = v.get("status", "published")
        if status not in ("draft", "published"):
            raise SeedError(f"{where}: status must be draft or published")
        day = _date(v["id"], where)
        if day in first_line:
            raise SeedError(
                f"{where}: two versions share an effective date, {day} (the other is "
                f"{first_line[day]})"
            )
        first_line[day] = where
        title = str(v["title"]).strip() if v.get("title") is not None else None
        if title == "":
            raise SeedError(f"{where}: a version's title, when given, cannot be empty")
        summary = str(v["summary"]).strip() if v.get("summary") is not None else None
        versions.append(
            VersionDoc(day, str(v.get("notes", "")).strip(), status, title=title, summary=summary)
        )
    if not versions:
        raise SeedError("versions: at least one version is required")
    documents = _documents(raw, base)
    for version in versions:
        _expand(raw, version, documents)
    return PolicyDoc(
        slug=str(policy["slug"]),
        title=str(policy["title"]),
        summary=str(policy.get("summary", "")).strip(),
        versions=versions,
        scenarios=_scenarios(raw, versions),
        documents=list(documents.values()),
        reviews=_reviews(raw, versions),
    )


def _reviews(raw: Mapping[str, Any], versions: list[VersionDoc]) -> list[ReviewDoc]:
    clauses = {v.effective_date: {c["key"] for c in v.clauses} for v in versions}
    found: list[ReviewDoc] = []
    for where, r in _records(raw, "reviews", "review"):
        day = _date(r.get("version"), where)
        if day not in clauses:
            raise SeedError(f"{where}: the document has no version {day.isoformat()}")
        if str(r["clause"]) not in clauses[day]:
            raise SeedError(f"{where}: version {day.isoformat()} has no clause {r['clause']!r}")
        if not str(r.get("note", "")).strip():
            raise SeedError(f"{where}: a review needs a note saying what changed")
        found.append(
            ReviewDoc(day, str(r["clause"]), _date(r.get("since"), where), str(r["note"]).strip())
        )
    return found


DOCUMENT_KINDS = ("primary", "secondary", "reference")
# A page's text, not a book: the largest copy the seed holds is some 50 KB.
MAX_SNAPSHOT_BYTES = 2_000_000


def is_web_url(url: object) -> bool:
    return isinstance(url, str) and url.lower().startswith(("https://", "http://"))


def snapshot_text(data: bytes, where: str) -> str:
    """The bytes of a page's copy as text, or SeedError saying why they are not one."""
    if len(data) > MAX_SNAPSHOT_BYTES:
        raise SeedError(
            f"{where}: the text is {len(data):,} bytes; a snapshot may be at most "
            f"{MAX_SNAPSHOT_BYTES:,} bytes"
        )
    if b"\x00" in data:
        raise SeedError(f"{where}: this is a binary file, not a page's text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SeedError(f"{where}: not UTF-8 text (byte {exc.start})") from None


def sha256_of(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _documents(raw: Mapping[str, Any], base: Path | None) -> dict[str, DocumentDoc]:
    documents: dict[str, DocumentDoc] = {}
    urls: dict[str, str] = {}
    for where, d in _records(raw, "documents", "document"):
        key = str(d["id"])
        if not KEY_PATTERN.match(key):
            raise SeedError(f"{where}: {key!r} is not a valid id (lower-case letters, digits, _-.)")
        if key in documents:
            raise SeedError(f"{where}: duplicate document id {key!r}")
        kind = str(d.get("kind", "primary"))
        if kind not in DOCUMENT_KINDS:
            raise SeedError(f"{where}: kind must be one of {', '.join(DOCUMENT_KINDS)}")
        other = d.get("other_urls") or []
        if not isinstance(other, list):
            raise SeedError(f"{where}: other_urls is a list of URLs")
        for url in [d.get("url"), *other]:
            if not is_web_url(url):
                raise SeedError(f"{where}: a document's URLs must start with https:// or http://")
            if url in urls:
                raise SeedError(f"{where}: the URL {url} is also document {urls[url]}'s")
            urls[str(url)] = key
        if not d.get("title"):
            raise SeedError(f"{where}: a document needs a title")
        snapshots: list[SnapshotDoc] = []
        records = d.get("snapshots") or []
        if not isinstance(records, list):
            raise SeedError(f"{where}: snapshots is a list")
        for j, snap in enumerate(records):
            at = _at(snap, f"{where}.snapshots[{j}]")
            snap = _check_keys(snap, "snapshot", at)
            snapshots.append(_snapshot(snap, at, base))
        days = [snap.date for snap in snapshots]
        if len(set(days)) != len(days):
            raise SeedError(f"{where}: two snapshots of {key} share a date")
        documents[key] = DocumentDoc(
            key=key,
            url=str(d["url"]),
            title=str(d["title"]),
            kind=kind,
            other_urls=tuple(str(u) for u in other),
            snapshots=tuple(sorted(snapshots, key=lambda snap: snap.date)),
        )
    return documents


def _snapshot(snap: Mapping[str, Any], where: str, base: Path | None) -> SnapshotDoc:
    day = _date(snap["date"], where)
    if ("file" in snap) == ("text" in snap):
        raise SeedError(f"{where}: a snapshot has either a file or a text")
    if "file" in snap:
        if base is None:
            raise SeedError(f"{where}: a snapshot file needs the policy file's folder; use text")
        relative = Path(str(snap["file"]))
        path = (base / relative).resolve()
        if relative.is_absolute() or not path.is_relative_to(base):
            raise SeedError(f"{where}: a snapshot file must lie in the policy file's folder")
        try:
            text = snapshot_text(path.read_bytes(), where)
        except OSError as exc:
            raise SeedError(f"{where}: cannot read {relative}: {exc.strerror}") from None
    else:
        if not isinstance(snap["text"], str):
            raise SeedError(f"{where}: text is a string")
        text = snap["text"]
    digest = sha256_of(text)
    if "sha256" in snap and str(snap["sha256"]) != digest:
        raise SeedError(f"{where}: the text's sha256 is {digest}, not {snap['sha256']}")
    provenance = snap.get("provenance") or {}
    if not isinstance(provenance, Mapping):
        raise SeedError(f"{where}: provenance is a mapping")
    return SnapshotDoc(
        date=day,
        text=text,
        sha256=digest,
        note=str(snap.get("note", "")).strip(),
        provenance={str(k): v for k, v in provenance.items()},
    )


def _records(raw: Mapping[str, Any], key: str, kind: str) -> Iterable[tuple[str, Mapping]]:
    records = raw.get(key) or []
    if not isinstance(records, list):
        raise SeedError(f"{_at(raw, key)}: expected a list of {kind}s")
    for i, record in enumerate(records):
        where = f"{key}[{i}]"
        record = _check_keys(record, kind, where)
        yield _at(record, where), record


class _Ids:
    """The ids of one kind of record seen in one version, to refuse a duplicate with the line of
    both."""

    def __init__(self, kind: str, version: VersionDoc, within: str = "") -> None:
        self.kind = kind
        self.within = f"{within}, version {version.id}" if within else f"version {version.id}"
        self.seen: dict[str, str] = {}

    def add(self, key: str, where: str) -> None:
        if key in self.seen:
            raise SeedError(
                f"{where}: duplicate {self.kind} id {key!r} in {self.within} "
                f"(also at {self.seen[key]})"
            )
        self.seen[key] = where


def _flag(record: Mapping[str, Any], key: str, default: bool, where: str) -> bool:
    value = record.get(key, default)
    if not isinstance(value, bool):
        raise SeedError(f"{where}: {key} must be true or false")
    return value


def _change_cost(question: Mapping[str, Any], where: str) -> int:
    value = question.get("change_cost", 1)
    # bool is an int in Python: `change_cost: true` is a mistake, not a cost of 1.
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 9:
        raise SeedError(f"{where}: change_cost must be a whole number from 1 to 9")
    return value


def _expand(
    raw: Mapping[str, Any], version: VersionDoc, documents: Mapping[str, DocumentDoc]
) -> None:
    day = version.effective_date
    choices: dict[str, list[str]] = {}
    question_ids = _Ids("question", version)
    for where, q in _records(raw, "questions", "question"):
        if not _in_scope(q, day, where):
            continue
        question_ids.add(str(q["id"]), where)
        question_choices: list[dict[str, Any]] = []
        choice_ids = _Ids("choice", version, within=f"question {q['id']}")
        for j, c in enumerate(q.get("choices") or []):
            c = _check_keys(c, "choice", f"{where}.choices[{j}]")
            if _in_scope(c, day, where):
                choice_ids.add(str(c["id"]), _at(c, f"{where}.choices[{j}]"))
                question_choices.append(
                    {
                        "key": str(c["id"]),
                        "label": str(c.get("label", c["id"])),
                        "help": str(c.get("help", "")).strip(),
                        "sensitive": _flag(c, "sensitive", False, where),
                    }
                )
        choices[str(q["id"])] = [str(c["key"]) for c in question_choices]
        version.questions.append(
            {
                "key": str(q["id"]),
                "text": str(q.get("text", "")).strip(),
                "help": str(q.get("help", "")).strip(),
                "shown_when": q.get("shown_when"),
                "choices": question_choices,
                "actionable": _flag(q, "actionable", True, where),
                "change_cost": _change_cost(q, where),
                "error": str(q.get("error", "")).strip(),
                "where": where,
            }
        )
    # Conditions may only look at questions asked before, so they are checked once all are known.
    for question in version.questions:
        alternatives = question.pop("shown_when")
        where = question.pop("where")
        if alternatives in (None, "always"):
            alternatives = []
        if isinstance(alternatives, Mapping):
            alternatives = [alternatives]
        question["shown_when"] = [
            _condition(alt, choices, f"{where}.shown_when") for alt in alternatives
        ]
    outcomes = raw.get("outcomes") or {}
    if not isinstance(outcomes, Mapping) or set(outcomes) - set(engine.TABLES):
        raise SeedError(
            f"{_at(outcomes, 'outcomes')}: a mapping with the keys {', '.join(engine.TABLES)}"
        )
    # Outcome ids are unique across tables: a rule names its outcome by id alone.
    outcome_ids = _Ids("outcome", version)
    for table in engine.TABLES:
        for j, o in enumerate(outcomes.get(table) or []):
            where = f"outcomes.{table}[{j}]"
            o = _check_keys(o, "outcome", where)
            where = _at(o, where)
            if _in_scope(o, day, where):
                outcome_ids.add(str(o["id"]), where)
                version.outcomes.append(
                    {
                        "table": table,
                        "key": str(o["id"]),
                        "title": str(o.get("title", o["id"])),
                        "text": str(o.get("text", "")).strip(),
                        "detail": str(o.get("detail", "")).strip(),
                        "action": str(o.get("action", "")).strip(),
                    }
                )
    outcome_tables = {o["key"]: o["table"] for o in version.outcomes}
    outcome_order = {o["key"]: n for n, o in enumerate(version.outcomes)}
    clause_ids = _Ids("clause", version)
    for where, c in _records(raw, "clauses", "clause"):
        if _in_scope(c, day, where):
            clause_ids.add(str(c["id"]), where)
            url = str(c.get("url", ""))
            if url and not url.lower().startswith(("https://", "http://")):
                raise SeedError(f"{where}: a clause's url must start with https:// or http://")
            version.clauses.append(
                {
                    "key": str(c["id"]),
                    "quote": str(c.get("quote", "")).strip(),
                    "url": str(c.get("url", "")),
                    "source": str(c.get("source", "")),
                    "version": str(c.get("version", "")),
                    **_clause_source(c, documents, where),
                }
            )
    rule_ids = _Ids("rule", version)
    for where, r in _records(raw, "rules", "rule"):
        if not _in_scope(r, day, where):
            continue
        cited = r.get("cite") or []
        if not isinstance(cited, list):
            raise SeedError(f"{where}: `cite` is a list of clause ids")
        unknown = [str(c) for c in cited if str(c) not in clause_ids.seen]
        if unknown:
            raise SeedError(
                f"{where}: rule {r['id']} cites unknown clause {', '.join(unknown)} "
                f"in version {version.id}"
            )
        then = r.get("then")
        if not isinstance(then, Mapping) or not then:
            raise SeedError(f"{where}: `then` must map tables to outcome ids")
        produced: list[str] = []
        tables: list[str] = []
        for table, keys in then.items():
            if table not in engine.TABLES:
                raise SeedError(f"{where}: unknown table {table!r}")
            listed = [keys] if isinstance(keys, str) else list(keys)
            for key in listed:
                if outcome_tables.get(key) != table:
                    raise SeedError(f"{where}: {key!r} is not an outcome of {table}")
                if listed.count(key) > 1:
                    raise SeedError(f"{where}: `then` names {key!r} twice")
            # A table's outcomes in the version's order of outcomes, whatever order `then`
            # lists them in: their keys are numbered in that order (rule_keys.py).
            for key in sorted(listed, key=outcome_order.__getitem__):
                produced.append(key)
                tables.append(table)
        when = r.get("when")
        alternatives = when if isinstance(when, list) else [when]
        stored_keys = iter(rule_keys.expanded(str(r["id"]), len(alternatives), tables))
        for alternative in alternatives:
            conditions = _condition(alternative, choices, f"{where}.when")
            for key in produced:
                rule_key = next(stored_keys)
                rule_ids.add(rule_key, where)
                version.rules.append(
                    {
                        "key": rule_key,
                        "outcome": key,
                        "conditions": conditions,
                        "reason": str(r.get("reason", "")).strip(),
                        "clauses": [str(c) for c in cited],
                        "priority": _priority(r.get("priority", 0), where),
                    }
                )


def _clause_source(
    c: Mapping[str, Any], documents: Mapping[str, DocumentDoc], where: str
) -> dict[str, Any]:
    """A clause's document fields and later-statement marker (`later_statement: <why>`, or
    `true`)."""
    marker = c.get("later_statement", False)
    if not isinstance(marker, bool | str):
        raise SeedError(f"{where}: later_statement is true, false, or the reason it is cited")
    fields: dict[str, Any] = {
        "kind": engine.QUOTE,
        "later_statement": bool(marker),
        "later_statement_reason": marker.strip() if isinstance(marker, str) else "",
        "document": "",
        "title": "",
    }
    if "document" not in c:
        return fields
    document = documents.get(str(c["document"]))
    if document is None:
        raise SeedError(
            f"{where}: unknown document {c['document']!r}; the documents section has "
            + (", ".join(sorted(documents)) or "none")
        )
    if c.get("url") not in (document.url, *document.other_urls):
        raise SeedError(
            f"{where}: the url is not one of document {document.key}'s ({document.url} or an "
            "earlier URL of it)"
        )
    fields.update(
        document=document.key,
        title=document.title,
        kind=engine.REFERENCE if document.kind == "reference" else engine.QUOTE,
    )
    return fields


def _priority(value: object, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise SeedError(f"{where}: priority must be a whole number, not {value!r}")
    return value


def _scenarios(raw: Mapping[str, Any], versions: list[VersionDoc]) -> list[ScenarioDoc]:
    """The scenarios, each checked against the ids that some version of the document has."""
    questions: dict[str, set[str]] = {}
    outcomes: set[str] = set()
    for version in versions:
        for q in version.questions:
            questions.setdefault(q["key"], set()).update(c["key"] for c in q["choices"])
        outcomes.update(o["key"] for o in version.outcomes)
    found: list[ScenarioDoc] = []
    names: dict[str, str] = {}
    for where, record in _records(raw, "scenarios", "scenario"):
        name = str(record["name"]).strip()
        if not name:
            raise SeedError(f"{where}: a scenario needs a name")
        if name in names:
            raise SeedError(f"{where}: duplicate scenario name {name!r} (also at {names[name]})")
        names[name] = where
        answers = record.get("answers")
        if not isinstance(answers, Mapping) or not answers:
            raise SeedError(f"{where}: `answers` maps question ids to choice ids")
        for key, value in answers.items():
            if key not in questions:
                raise SeedError(f"{_at(answers, where)}: unknown question {key!r}")
            if not isinstance(value, str) or value not in questions[key]:
                raise SeedError(
                    f"{_at(answers, where)}: unknown choice {value!r} for {key!r}; allowed: "
                    + ", ".join(sorted(questions[key]))
                )
        ids: dict[str, tuple[str, ...]] = {}
        for field_name in ("must_include", "must_exclude"):
            value = record.get(field_name) or []
            if not isinstance(value, list):
                raise SeedError(f"{where}: `{field_name}` is a list of outcome ids")
            unknown = [str(v) for v in value if str(v) not in outcomes]
            if unknown:
                raise SeedError(
                    f"{where}: `{field_name}` names unknown outcome(s) {', '.join(unknown)}"
                )
            ids[field_name] = tuple(str(v) for v in value)
        verdict = str(record.get("verdict") or "")
        if verdict and verdict not in outcomes:
            raise SeedError(f"{where}: unknown verdict {verdict!r}")
        as_of = record.get("as_of")
        found.append(
            ScenarioDoc(
                name=name,
                answers={str(k): str(v) for k, v in answers.items()},
                as_of=None if as_of in (None, "") else _date(as_of, where),
                verdict=verdict,
                must_include=ids["must_include"],
                must_exclude=ids["must_exclude"],
            )
        )
    return found


def to_engine(slug: str, version: VersionDoc) -> engine.Version:
    """Build the engine's form of one expanded version; refuses dangling references. The records
    of a VersionDoc carry the engine's own field names."""
    tables = {o["key"]: o["table"] for o in version.outcomes}
    try:
        return engine.Version(
            policy=slug,
            version=version.id,
            questions=tuple(
                engine.Question(
                    key=q["key"],
                    text=q["text"],
                    help=q["help"],
                    choices=tuple(engine.Choice(**c) for c in q["choices"]),
                    shown_when=tuple(engine.conjunction(alt) for alt in q["shown_when"]),
                    actionable=q["actionable"],
                    change_cost=q["change_cost"],
                    error=q["error"],
                )
                for q in version.questions
            ),
            outcomes=tuple(engine.Outcome(**o) for o in version.outcomes),
            rules=tuple(
                engine.Rule(
                    key=r["key"],
                    table=tables[r["outcome"]],
                    outcome=r["outcome"],
                    conditions=engine.conjunction(r["conditions"]),
                    reason=r["reason"],
                    clauses=tuple(r["clauses"]),
                    priority=r["priority"],
                )
                for r in version.rules
            ),
            clauses=tuple(engine.Clause(**c) for c in version.clauses),
        )
    except engine.PolicyError as exc:
        raise SeedError(f"version {version.id}: {exc}") from None


def policy_load(*, document: PolicyDoc, replace: bool = False) -> LoadReport:
    """Store what the database lacks of `document`.

    A new policy gets every version with the status the document gives it. For a policy that
    exists, each version the database does not have published becomes a new draft (unless an
    identical draft of that date is already there), so an import never changes what people see
    until an admin publishes it; published versions are never touched. Scenarios are added by
    name; existing ones are kept as they are. With `replace`, the policy and everything in it are
    deleted first and the document is loaded as new."""
    built = {version.id: to_engine(document.slug, version) for version in document.versions}
    report = LoadReport(document.slug)
    with transaction.atomic():
        # A file may name the policy by a slug it had before a rename: it is that policy still.
        renamed = PolicySlug.objects.filter(slug=document.slug).values_list("policy", flat=True)
        if replace:
            Policy.objects.filter(Q(slug=document.slug) | Q(pk__in=renamed)).delete()
        stored = Policy.objects.filter(pk__in=renamed).first()
        if stored is not None:
            policy, created = stored, False
        else:
            policy, created = Policy.objects.get_or_create(
                slug=document.slug,
                defaults={"title": document.title, "summary": document.summary},
            )
        _store_documents(document.documents, report)
        existing = set(policy.scenarios.values_list("name", flat=True))
        report.scenarios = [doc.name for doc in document.scenarios if doc.name not in existing]
        rows = list(policy.versions.select_related("policy"))
        published = {row.effective_date for row in rows if not row.is_draft}
        drafts = [row for row in rows if row.is_draft]
        to_publish: list[tuple[PolicyVersion, VersionDoc]] = []
        written: list[tuple[PolicyVersion, VersionDoc]] = []
        for version in document.versions:
            values = built[version.id]
            if version.effective_date in published:
                report.skipped.append(version.id)
            elif created:
                row = _write_draft(policy, version, values, document)
                written.append((row, version))
                if version.status == PolicyVersion.Status.PUBLISHED:
                    to_publish.append((row, version))
                report.created.append(version.id)
            elif any(_same(row, values) for row in drafts):
                report.skipped.append(version.id)
            else:
                written.append((_write_draft(policy, version, values, document), version))
                report.drafted.append(version.id)
        # Scenarios before publishing (publishing runs them): each onto every version written
        # that it tests, as `as_of` says (scenarios.applies_to), in the document's order.
        _scenarios_onto(
            policy,
            document,
            [(row, version, (row, version) in to_publish) for row, version in written],
            published,
            new_names=set(report.scenarios),
        )
        # Through the one publish path and its checks, newest first: then the scenarios that test
        # "the newest published version" test the newest, and each dated scenario already sees
        # the later versions that supersede an earlier one, as they will be once all are loaded.
        for row, version in sorted(to_publish, key=lambda pair: pair[1].effective_date)[::-1]:
            _publish(row, version)
        _store_reviews(policy, document.reviews)
    return report


def _store_reviews(policy: Policy, reviews: Iterable[ReviewDoc]) -> None:
    """Reviews of the published versions they name, unless already recorded."""
    reviews = list(reviews)
    if not reviews:
        return
    rows = {
        row.effective_date: row
        for row in policy.versions.filter(status=PolicyVersion.Status.PUBLISHED)
    }
    seen = set(
        DriftReview.objects.filter(version__policy=policy).values_list(
            "version__effective_date", "clause", "since"
        )
    )
    DriftReview.objects.bulk_create(
        DriftReview(version=rows[r.version], clause=r.clause, since=r.since, note=r.note)
        for r in reviews
        if r.version in rows and (r.version, r.clause, r.since) not in seen
    )


def _store_documents(documents: Iterable[DocumentDoc], report: LoadReport) -> None:
    """Documents and snapshots the database lacks (by key, and by document and date). Stored
    ones are kept as they are: an admin may have recorded a newer text or a replacement."""
    documents = list(documents)
    if not documents:
        return
    stored = {d.key: d for d in SourceDocument.objects.filter(key__in=[d.key for d in documents])}
    new = [
        SourceDocument(
            key=d.key, url=d.url, other_urls=list(d.other_urls), title=d.title, kind=d.kind
        )
        for d in documents
        if d.key not in stored
    ]
    for row in SourceDocument.objects.bulk_create(new):
        stored[row.key] = row
        report.documents.append(row.key)
    seen = set(
        Snapshot.objects.filter(document__in=stored.values()).values_list("document__key", "date")
    )
    fresh = [
        Snapshot(
            document=stored[d.key],
            date=snap.date,
            text=snap.text,
            sha256=snap.sha256,
            note=snap.note,
            provenance=dict(snap.provenance),
        )
        for d in documents
        for snap in d.snapshots
        if (d.key, snap.date) not in seen
    ]
    Snapshot.objects.bulk_create(fresh)
    report.snapshots += [f"{row.document.key} {row.date.isoformat()}" for row in fresh]


def _scenarios_onto(
    policy: Policy,
    document: PolicyDoc,
    written: list[tuple[PolicyVersion, VersionDoc, bool]],
    published: set[Any],
    *,
    new_names: set[str],
) -> None:
    """A copy of each scenario of the document for every version written that it tests (a new
    policy: the versions as they will be once published; an existing one: the new drafts). A
    scenario that tests none of them is kept as the policy's own, when its name is new."""
    dates = set(published) | {doc.effective_date for _, doc, publishing in written if publishing}
    rows: list[Scenario] = []
    for doc in document.scenarios:
        case = scenario_values(doc)
        targets = [
            row
            for row, version, publishing in written
            if scenarios.applies_to(
                case,
                effective_date=version.effective_date,
                is_draft=not publishing,
                published_dates=sorted(d for d in dates if d != version.effective_date),
            )
        ]
        if not targets and doc.name not in new_names:
            continue
        for target in targets or [None]:  # type: ignore[list-item]
            rows.append(
                Scenario(
                    policy=policy,
                    version=target,
                    name=doc.name,
                    answers=doc.answers,
                    as_of=doc.as_of,
                    verdict=doc.verdict,
                    must_include=list(doc.must_include),
                    must_exclude=list(doc.must_exclude),
                )
            )
    Scenario.objects.bulk_create(rows)


def scenario_values(doc: ScenarioDoc) -> scenarios.Scenario:
    return scenarios.Scenario(
        name=doc.name,
        answers=dict(doc.answers),
        verdict=doc.verdict,
        includes=tuple(doc.must_include),
        excludes=tuple(doc.must_exclude),
        as_of=doc.as_of,
    )


def _write_draft(
    policy: Policy, doc: VersionDoc, values: engine.Version, document: PolicyDoc
) -> PolicyVersion:
    row = PolicyVersion.objects.create(
        policy=policy,
        effective_date=doc.effective_date,
        notes=doc.notes,
        title=document.title if doc.title is None else doc.title,
        summary=document.summary if doc.summary is None else doc.summary,
    )
    records.write(version=row, values=values)
    return row


def _publish(row: PolicyVersion, doc: VersionDoc) -> None:
    # Imported here: services reads the catalog, which the loader's callers may not have loaded.
    from .services import PublishRefused, version_publish

    try:
        version_publish(version=row, by=None, effective_date=doc.effective_date, notes=doc.notes)
    except PublishRefused as refusal:
        raise SeedError(
            f"version {doc.id} cannot be published: {refusal.message} (mark it `status: draft` "
            "to load it unpublished)"
        ) from None


def _same(row: PolicyVersion, values: engine.Version) -> bool:
    """Whether a stored draft holds the same records as a version of the document, on its date."""
    if row.version_id != values.version:
        return False
    return canonical(records.build(row)) == canonical(values)


def canonical(version: engine.Version) -> engine.Version:
    """The version with its records in the order the database returns them (rules and clauses by
    id, a rule's citations sorted), so that equal versions compare equal wherever they come from."""
    return replace(
        version,
        version="",
        rules=tuple(
            sorted(
                (replace(rule, clauses=tuple(sorted(rule.clauses))) for rule in version.rules),
                key=lambda rule: rule.key,
            )
        ),
        clauses=tuple(sorted(version.clauses, key=lambda clause: clause.key)),
    )


def sources_of(document: PolicyDoc) -> dict[str, citations.Source]:
    """The document's source documents with their snapshots, for `citations`."""
    return {
        d.key: citations.Source.of(d.key, d.kind, d.title, ((s.date, s.text) for s in d.snapshots))
        for d in document.documents
    }
