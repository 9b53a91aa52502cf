"""The JSON shape of an evaluation, shared by the API, the CLI and saved results.

`design.md` fixes the keys; anything added here must only add keys, never rename or remove them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from . import engine
from .compile import AsOfError, PolicyNotFound, compiled, parse_as_of, version_in_effect
from .models import PolicyVersion


@dataclass(frozen=True)
class EvaluationFailed(Exception):
    status: int  # 400 for bad input, 404 for an unknown policy
    errors: dict[str, str]

    def payload(self) -> dict[str, Any]:
        return {"errors": self.errors}


def evaluate_request(
    slug: str, answers: object, as_of: object = None
) -> tuple[PolicyVersion, engine.Decision]:
    """Pick the version in effect on `as_of` (default today) and evaluate. Bad input raises
    EvaluationFailed: 400 naming `as_of` or each bad answer's question, 404 for an unknown policy.
    Reads only; nothing is written."""
    try:
        version_row = version_in_effect(slug, parse_as_of(as_of))
    except AsOfError as exc:
        raise EvaluationFailed(400, {"as_of": str(exc)}) from None
    except PolicyNotFound:
        raise EvaluationFailed(404, {"policy": f"Unknown policy {slug!r}."}) from None
    version = compiled(version_row)
    if not isinstance(answers, Mapping):
        raise EvaluationFailed(400, engine.validate(version, answers))
    # The engine validates before it walks, so an unknown question or choice is reported even
    # when the answers are also incomplete.
    decision = engine.evaluate(version, answers)
    if decision.errors:
        raise EvaluationFailed(400, dict(decision.errors))
    return version_row, decision


def clause_payload(clause: engine.Clause) -> dict[str, str]:
    return {
        "id": clause.key,
        "quote": clause.quote,
        "url": clause.url,
        "version": clause.version,
        "source": clause.source_title,
    }


def item_payload(item: engine.Item) -> dict[str, Any]:
    return {
        "id": item.key,
        "text": item.text,
        "clauses": [clause_payload(c) for c in item.clauses],
        "title": item.title,
        "detail": item.detail,
        "reasons": list(item.reasons),
    }


def decision_payload(
    version_row: PolicyVersion, decision: engine.Decision, *, result_url: str | None = None
) -> dict[str, Any]:
    items = [(engine.VERDICT, decision.verdict)] if decision.verdict else []
    items += [
        (table, item) for table, table_items in decision.lists.items() for item in table_items
    ]
    return {
        "policy": version_row.policy.slug,
        "version": version_row.version_id,
        "complete": decision.complete,
        "next_question": decision.next_question.key if decision.next_question else None,
        "verdict": decision.verdict.key if decision.verdict else None,
        "auth_methods": [item_payload(i) for i in decision.auth_methods],
        "terms": [item_payload(i) for i in decision.terms],
        "steps": [item_payload(i) for i in decision.steps],
        "reasons": [
            {
                "table": table,
                "outcome": item.key,
                "text": reason,
                "clauses": [c.key for c in item.clauses],
            }
            for table, item in items
            for reason in item.reasons
        ],
        "ignored": list(decision.ignored),
        "result_url": result_url,
        "answers": dict(decision.answers),
        "verdict_detail": item_payload(decision.verdict) if decision.verdict else None,
        "rules": list(decision.fired_rules),
    }
