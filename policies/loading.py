"""Load a policy from its YAML seed format into the database.

The format keeps one list of questions, outcomes, clauses and rules for the whole policy; any
record can be limited to some versions with `from: DATE` (versions on or after it), `before: DATE`
(versions before it) or `versions: [DATE, ...]`. A rule's `then` may name outcomes of several
tables, and its `when` may be a list of alternatives (an OR); it becomes one stored rule per
alternative and outcome, keyed `<rule id>[.<alternative number>][.<outcome id>]`.

Everything is checked before anything is written: each version is first built as an engine
`Version`, which refuses dangling references and duplicates, and then written in one transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from django.db import transaction
from django.utils import timezone

from . import engine
from .models import Choice, Clause, Outcome, Policy, PolicyVersion, Question, Rule

SEED_DIR = Path(__file__).resolve().parent / "seed"

TOP_KEYS = {"policy", "versions", "clauses", "questions", "outcomes", "rules"}
SCOPE_KEYS = {"from", "before", "versions"}
RECORD_KEYS = {
    "policy": {"slug", "title", "summary"},
    "version": {"id", "notes", "status"},
    "clause": {"id", "source", "url", "version", "quote"} | SCOPE_KEYS,
    "question": {"id", "text", "help", "shown_when", "choices"} | SCOPE_KEYS,
    "choice": {"id", "label", "help"} | SCOPE_KEYS,
    "outcome": {"id", "title", "text", "detail"} | SCOPE_KEYS,
    "rule": {"id", "when", "then", "reason", "cite", "priority"} | SCOPE_KEYS,
}


class SeedError(ValueError):
    """The document is refused whole; the message says where and why."""


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

    @property
    def id(self) -> str:
        return self.effective_date.isoformat()


@dataclass
class PolicyDoc:
    slug: str
    title: str
    summary: str
    versions: list[VersionDoc]


@dataclass
class LoadReport:
    slug: str
    created: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        parts = []
        if self.created:
            parts.append(f"loaded {', '.join(self.created)}")
        if self.skipped:
            parts.append(f"kept existing {', '.join(self.skipped)}")
        return f"{self.slug}: " + ("; ".join(parts) or "nothing to do")


def seed_files() -> list[Path]:
    return sorted(SEED_DIR.glob("*.yaml"))


def read_document(path: Path) -> PolicyDoc:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise SeedError(f"{path}: not valid YAML: {exc}") from None
    try:
        return parse_document(raw)
    except SeedError as exc:
        raise SeedError(f"{path}: {exc}") from None


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
    unknown = set(record) - RECORD_KEYS[kind]
    if unknown:
        raise SeedError(
            f"{where}: unknown key(s) {', '.join(sorted(map(str, unknown)))} in a {kind}; "
            f"allowed: {', '.join(sorted(RECORD_KEYS[kind]))}"
        )
    if kind != "policy" and "id" not in record:
        raise SeedError(f"{where}: a {kind} needs an id")
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


def parse_document(raw: object) -> PolicyDoc:
    if not isinstance(raw, Mapping):
        raise SeedError("the document must be a mapping")
    unknown = set(raw) - TOP_KEYS
    if unknown:
        raise SeedError(f"unknown top-level key(s): {', '.join(sorted(map(str, unknown)))}")
    policy = _check_keys(raw.get("policy"), "policy", "policy")
    if not policy.get("slug") or not policy.get("title"):
        raise SeedError("policy: slug and title are required")
    versions: list[VersionDoc] = []
    for i, v in enumerate(raw.get("versions") or []):
        v = _check_keys(v, "version", f"versions[{i}]")
        status = v.get("status", "published")
        if status not in ("draft", "published"):
            raise SeedError(f"versions[{i}]: status must be draft or published")
        versions.append(
            VersionDoc(_date(v["id"], f"versions[{i}]"), str(v.get("notes", "")).strip(), status)
        )
    if not versions:
        raise SeedError("versions: at least one version is required")
    if len({v.effective_date for v in versions}) != len(versions):
        raise SeedError("versions: two versions share an effective date")
    for version in versions:
        _expand(raw, version)
    return PolicyDoc(
        slug=str(policy["slug"]),
        title=str(policy["title"]),
        summary=str(policy.get("summary", "")).strip(),
        versions=versions,
    )


def _records(raw: Mapping[str, Any], key: str, kind: str) -> Iterable[tuple[str, Mapping]]:
    for i, record in enumerate(raw.get(key) or []):
        where = f"{key}[{i}]"
        yield where, _check_keys(record, kind, where)


def _expand(raw: Mapping[str, Any], version: VersionDoc) -> None:
    day = version.effective_date
    choices: dict[str, list[str]] = {}
    for where, q in _records(raw, "questions", "question"):
        if not _in_scope(q, day, where):
            continue
        question_choices = []
        for j, c in enumerate(q.get("choices") or []):
            c = _check_keys(c, "choice", f"{where}.choices[{j}]")
            if _in_scope(c, day, where):
                question_choices.append(
                    {
                        "key": str(c["id"]),
                        "label": str(c.get("label", c["id"])),
                        "help": str(c.get("help", "")).strip(),
                    }
                )
        choices[str(q["id"])] = [c["key"] for c in question_choices]
        version.questions.append(
            {
                "key": str(q["id"]),
                "text": str(q.get("text", "")).strip(),
                "help": str(q.get("help", "")).strip(),
                "shown_when": q.get("shown_when"),
                "choices": question_choices,
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
        raise SeedError(f"outcomes: a mapping with the keys {', '.join(engine.TABLES)}")
    for table in engine.TABLES:
        for j, o in enumerate(outcomes.get(table) or []):
            where = f"outcomes.{table}[{j}]"
            o = _check_keys(o, "outcome", where)
            if _in_scope(o, day, where):
                version.outcomes.append(
                    {
                        "kind": table,
                        "key": str(o["id"]),
                        "title": str(o.get("title", o["id"])),
                        "text": str(o.get("text", "")).strip(),
                        "detail": str(o.get("detail", "")).strip(),
                    }
                )
    outcome_tables = {o["key"]: o["kind"] for o in version.outcomes}
    for where, c in _records(raw, "clauses", "clause"):
        if _in_scope(c, day, where):
            version.clauses.append(
                {
                    "key": str(c["id"]),
                    "quote": str(c.get("quote", "")).strip(),
                    "url": str(c.get("url", "")),
                    "source_title": str(c.get("source", "")),
                    "source_version": str(c.get("version", "")),
                }
            )
    for where, r in _records(raw, "rules", "rule"):
        if not _in_scope(r, day, where):
            continue
        then = r.get("then")
        if not isinstance(then, Mapping) or not then:
            raise SeedError(f"{where}: `then` must map tables to outcome ids")
        produced: list[str] = []
        for table, keys in then.items():
            if table not in engine.TABLES:
                raise SeedError(f"{where}: unknown table {table!r}")
            for key in [keys] if isinstance(keys, str) else keys:
                if outcome_tables.get(key) != table:
                    raise SeedError(f"{where}: {key!r} is not an outcome of {table}")
                produced.append(key)
        when = r.get("when")
        alternatives = when if isinstance(when, list) else [when]
        for n, alternative in enumerate(alternatives, start=1):
            conditions = _condition(alternative, choices, f"{where}.when")
            base = str(r["id"]) if len(alternatives) == 1 else f"{r['id']}.{n}"
            for key in produced:
                version.rules.append(
                    {
                        "key": base if len(produced) == 1 else f"{base}.{key}",
                        "outcome": key,
                        "conditions": conditions,
                        "reason": str(r.get("reason", "")).strip(),
                        "clauses": [str(c) for c in r.get("cite") or []],
                        "priority": int(r.get("priority", 0)),
                    }
                )


def to_engine(slug: str, version: VersionDoc) -> engine.Version:
    """Build the engine's form of one expanded version; refuses dangling references."""
    tables = {o["key"]: o["kind"] for o in version.outcomes}
    try:
        return engine.Version(
            policy=slug,
            version=version.id,
            questions=tuple(
                engine.Question(
                    key=q["key"],
                    text=q["text"],
                    help=q["help"],
                    choices=tuple(
                        engine.Choice(c["key"], c["label"], c["help"]) for c in q["choices"]
                    ),
                    shown_when=tuple(engine.conjunction(alt) for alt in q["shown_when"]),
                )
                for q in version.questions
            ),
            outcomes=tuple(
                engine.Outcome(o["kind"], o["key"], o["title"], o["text"], o["detail"])
                for o in version.outcomes
            ),
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
            clauses=tuple(
                engine.Clause(
                    c["key"], c["quote"], c["url"], c["source_title"], c["source_version"]
                )
                for c in version.clauses
            ),
        )
    except engine.PolicyError as exc:
        raise SeedError(f"version {version.id}: {exc}") from None


def policy_load(*, document: PolicyDoc, replace: bool = False) -> LoadReport:
    """Store the versions of `document` that the database lacks; with `replace`, first delete the
    policy and everything in it. Existing versions (and admin edits to them) are never touched."""
    for version in document.versions:
        to_engine(document.slug, version)
    report = LoadReport(document.slug)
    with transaction.atomic():
        if replace:
            Policy.objects.filter(slug=document.slug).delete()
        policy, _ = Policy.objects.get_or_create(
            slug=document.slug,
            defaults={"title": document.title, "summary": document.summary},
        )
        existing = set(policy.versions.values_list("effective_date", flat=True))
        for version in document.versions:
            if version.effective_date in existing:
                report.skipped.append(version.id)
                continue
            _write_version(policy, version)
            report.created.append(version.id)
    return report


def _write_version(policy: Policy, doc: VersionDoc) -> PolicyVersion:
    version = PolicyVersion.objects.create(
        policy=policy, effective_date=doc.effective_date, notes=doc.notes
    )
    for order, q in enumerate(doc.questions):
        question = Question.objects.create(
            version=version,
            key=q["key"],
            text=q["text"],
            help=q["help"],
            order=order,
            shown_when=q["shown_when"],
        )
        Choice.objects.bulk_create(
            Choice(question=question, key=c["key"], label=c["label"], help=c["help"], order=i)
            for i, c in enumerate(q["choices"])
        )
    orders: dict[str, int] = {}
    outcomes = {}
    for o in doc.outcomes:
        order = orders[o["kind"]] = orders.get(o["kind"], -1) + 1
        outcomes[o["key"]] = Outcome(version=version, order=order, **o)
    Outcome.objects.bulk_create(outcomes.values())
    clauses = {c["key"]: Clause(version=version, **c) for c in doc.clauses}
    Clause.objects.bulk_create(clauses.values())
    rules = [
        Rule(
            version=version,
            key=r["key"],
            priority=r["priority"],
            conditions=r["conditions"],
            outcome=outcomes[r["outcome"]],
            reason=r["reason"],
        )
        for r in doc.rules
    ]
    Rule.objects.bulk_create(rules)
    links = [
        Rule.clauses.through(rule_id=rule.pk, clause_id=clauses[key].pk)
        for rule, r in zip(rules, doc.rules, strict=True)
        for key in r["clauses"]
    ]
    Rule.clauses.through.objects.bulk_create(links)
    if doc.status == PolicyVersion.Status.PUBLISHED:
        version.status = PolicyVersion.Status.PUBLISHED
        version.published_at = timezone.now()
        version.save(update_fields=["status", "published_at"])
    return version
