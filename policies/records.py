"""The one mapping between policy records and the engine's values, both ways.

`build` reads one version's records into an `engine.Version`; `write` stores an `engine.Version`
as the records of a (draft) version, and `replace_rules` one table's rules of a draft (the CSV
import). Copying a version ("new draft from this version"), loading a YAML seed and the test
factories all go through `write`, so the five record kinds are mapped in one place, with the
same field names as the engine: an outcome's `table`, a clause's `source` and `version` (stored
as `source_version`, since `version` is the record's own PolicyVersion).

Order is part of the value: questions, choices and outcomes keep the order of the engine's
tuples (stored as `order`), rules their `priority` and key.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.db import transaction
from django.db.models import Prefetch

from . import engine
from .models import (
    Choice,
    Citation,
    Clause,
    Outcome,
    PolicyVersion,
    Question,
    Rule,
    SourceDocument,
)


def build(version: PolicyVersion) -> engine.Version:
    """Read one version's records (six queries) and turn them into engine dataclasses. Raises
    `engine.PolicyError` when the records contradict each other."""
    return build_by_pk(version.pk, policy=version.policy.slug, version_id=version.version_id)


def build_by_pk(pk: int, *, policy: str, version_id: str) -> engine.Version:
    """`build` for a version known by primary key (the catalog knows its slug and id already)."""
    version = pk
    questions = Question.objects.filter(version=version).prefetch_related(
        Prefetch("choices", queryset=Choice.objects.order_by("order", "pk"))
    )
    rules = (
        Rule.objects.filter(version=version)
        .select_related("outcome")
        .prefetch_related(Prefetch("clauses", queryset=Clause.objects.only("key")))
    )
    outcomes = Outcome.objects.filter(version=version)
    return engine.Version(
        policy=policy,
        version=version_id,
        questions=tuple(
            engine.Question(
                key=q.key,
                text=q.text,
                help=q.help,
                choices=tuple(
                    engine.Choice(key=c.key, label=c.label, help=c.help, sensitive=c.sensitive)
                    for c in q.choices.all()
                ),
                shown_when=tuple(engine.conjunction(alt) for alt in q.shown_when),
                actionable=q.actionable,
                change_cost=q.change_cost,
                error=q.error,
            )
            for q in questions
        ),
        outcomes=tuple(
            engine.Outcome(
                table=o.table,
                key=o.key,
                title=o.title,
                text=o.text,
                detail=o.detail,
                action=o.action,
            )
            for o in sorted(outcomes, key=lambda o: (engine.TABLES.index(o.table), o.order, o.pk))
        ),
        rules=tuple(
            engine.Rule(
                key=r.key,
                table=r.outcome.table,
                outcome=r.outcome.key,
                conditions=engine.conjunction(r.conditions),
                reason=r.reason,
                clauses=tuple(sorted(c.key for c in r.clauses.all())),
                priority=r.priority,
            )
            for r in rules
        ),
        clauses=tuple(
            engine.Clause(
                key=c.key,
                quote=c.quote,
                url=c.url,
                source=c.source,
                version=c.source_version,
                **_document_fields(c),
            )
            for c in Clause.objects.filter(version=version).select_related("document")
        ),
    )


def _document_fields(clause: Clause) -> dict[str, Any]:
    """A clause's source fields: its document (key, title, whether it is a mere reference) and
    its later-statement marker."""
    document = clause.document
    return {
        "kind": engine.REFERENCE
        if document is not None and document.kind == SourceDocument.Kind.REFERENCE
        else engine.QUOTE,
        "later_statement": clause.later_statement,
        "later_statement_reason": clause.later_statement_reason,
        "document": document.key if document is not None else "",
        "title": document.title if document is not None else "",
    }


@transaction.atomic
def write(*, version: PolicyVersion, values: engine.Version) -> None:
    """Store `values` as the records of `version`, a draft with no records yet. Seven queries
    (eight when clauses name documents), whatever the size. The lock refuses a published
    `version` (VersionLockedError)."""
    questions = Question.objects.bulk_create(
        Question(
            version=version,
            key=q.key,
            text=q.text,
            help=q.help,
            order=order,
            shown_when=[engine.conditions_in_order(values, alt) for alt in q.shown_when],
            actionable=q.actionable,
            change_cost=q.change_cost,
            error=q.error,
        )
        for order, q in enumerate(values.questions)
    )
    Choice.objects.bulk_create(
        Choice(
            question=row, key=c.key, label=c.label, help=c.help, order=order, sensitive=c.sensitive
        )
        for row, q in zip(questions, values.questions, strict=True)
        for order, c in enumerate(q.choices)
    )
    orders: dict[str, int] = {}
    outcomes: dict[tuple[str, str], Outcome] = {}
    for o in values.outcomes:
        orders[o.table] = orders.get(o.table, -1) + 1
        outcomes[o.table, o.key] = Outcome(
            version=version,
            table=o.table,
            key=o.key,
            title=o.title,
            text=o.text,
            detail=o.detail,
            order=orders[o.table],
            action=o.action,
        )
    Outcome.objects.bulk_create(outcomes.values())
    named = {c.document for c in values.clauses if c.document}
    documents = {d.key: d for d in SourceDocument.objects.filter(key__in=named)} if named else {}
    unknown = sorted(named - set(documents))
    if unknown:
        raise engine.PolicyError(f"Unknown source document(s): {', '.join(unknown)}")
    clauses = {
        c.key: Clause(
            version=version,
            key=c.key,
            quote=c.quote,
            url=c.url,
            source=c.source,
            source_version=c.version,
            document=documents.get(c.document),
            later_statement=c.later_statement,
            later_statement_reason=c.later_statement_reason,
        )
        for c in values.clauses
    }
    Clause.objects.bulk_create(clauses.values())
    _write_rules(version, values, values.rules, outcomes, clauses)


@transaction.atomic
def replace_rules(*, version: PolicyVersion, values: engine.Version, table: str) -> None:
    """Replace the rules of one table of `version` (a draft) by those of `values`, the version
    as it is to be, whose other tables are left as stored (a CSV import of one table). A few
    queries, whatever the number of rules. The lock refuses a published `version`
    (VersionLockedError) before anything is written."""
    Rule.objects.filter(version=version, outcome__table=table).delete()
    outcomes = {(o.table, o.key): o for o in Outcome.objects.filter(version=version, table=table)}
    rules = [r for r in values.rules if r.table == table]
    cited = {key for r in rules for key in r.clauses}
    clauses = {c.key: c for c in Clause.objects.filter(version=version, key__in=cited)}
    _write_rules(version, values, rules, outcomes, clauses)


def _write_rules(
    version: PolicyVersion,
    values: engine.Version,
    rules: Sequence[engine.Rule],
    outcomes: Mapping[tuple[str, str], Outcome],
    clauses: Mapping[str, Clause],
) -> None:
    """Rules and their citations, in two bulk writes; outcomes and clauses already stored."""
    rows = Rule.objects.bulk_create(
        Rule(
            version=version,
            key=r.key,
            priority=r.priority,
            conditions=engine.conditions_in_order(values, r.conditions),
            outcome=outcomes[r.table, r.outcome],
            reason=r.reason,
        )
        for r in rules
    )
    Citation.objects.bulk_create(
        Citation(rule_id=row.pk, clause_id=clauses[key].pk)
        for row, r in zip(rows, rules, strict=True)
        for key in r.clauses
    )
