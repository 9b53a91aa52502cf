"""The JSON shape of an evaluation, shared by the API, the CLI and saved results: the decision
payload, the snapshot a saved result keeps, the difference between two of them, and "what would
change this". Pure: it works on engine values and `catalog.VersionRef`s, reads no record and
keeps no cache.

`design.md` fixes the keys; anything added here must only add keys, never rename or remove them.
"""

from __future__ import annotations

import copy
import re
import urllib.parse
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from . import diffing, engine
from .whatif import preferred_changes

if TYPE_CHECKING:
    from .catalog import VersionRef


# The public pages of stored copies (wizard/source_urls.py; a test checks they match). Paths,
# not absolute URLs: saved results keep them, whatever host serves them later.
SNAPSHOT_PATH = "/sources/{document}/{date}/"
CLAUSE_SOURCE_PATH = "/sources/{policy}/{version}/{clause}/"


def clause_payload(clause: engine.Clause, version: VersionRef | None = None) -> dict[str, Any]:
    """A clause as results show it. `version` (the one citing it) lets `snapshot_url` lead to
    the stored copy with this quote highlighted; without it, to the stored copy alone."""
    return {
        "id": clause.key,
        "quote": clause.quote,
        "url": clause.url,
        "version": clause.version,
        "source": clause.source,
        "kind": clause.kind,
        "later_statement": clause.later_statement,
        "snapshot_url": snapshot_url(clause, version),
        "title": clause.title,
        "document": clause.document or None,
        "later_statement_reason": clause.later_statement_reason,
        "live_url": live_url(clause),
    }


def snapshot_url(clause: engine.Clause, version: VersionRef | None = None) -> str | None:
    if clause.kind != engine.QUOTE or not clause.document or not clause.version:
        return None
    if version is not None and not version.is_draft and version.version_id:
        return CLAUSE_SOURCE_PATH.format(
            policy=version.policy.slug, version=version.version_id, clause=clause.key
        )
    return SNAPSHOT_PATH.format(document=clause.document, date=clause.version)


def live_url(clause: engine.Clause) -> str:
    """The cited page with a text fragment (`#:~:text=start,end`) that makes the browser
    highlight the quote's first passage; the plain URL for a reference or a URL with its own
    fragment."""
    if clause.kind != engine.QUOTE or "#" in clause.url or not clause.url:
        return clause.url
    first = next((part for part in _ELISION.split(clause.quote) if part.strip()), "")
    words = first.split()
    if not words:
        return clause.url
    if len(words) <= 8:
        directive = _fragment_text(" ".join(words))
    else:
        directive = _fragment_text(" ".join(words[:4])) + "," + _fragment_text(" ".join(words[-4:]))
    return f"{clause.url}#:~:text={directive}"


_ELISION = re.compile(r"\[?(?:…|\.\.\.)\]?")  # as quotes.py splits a quote


def _fragment_text(text: str) -> str:
    # "-", "," and "&" separate a text directive's parts, so they are escaped too.
    return urllib.parse.quote(text.strip(" .,;:"), safe="").replace("-", "%2D")


def item_payload(item: engine.Item, version: VersionRef | None = None) -> dict[str, Any]:
    return {
        "id": item.key,
        "text": item.text,
        "clauses": [clause_payload(c, version) for c in item.clauses],
        "title": item.title,
        "detail": item.detail,
        "reasons": list(item.reasons),
    }


def decision_payload(
    version: VersionRef, decision: engine.Decision, *, result_url: str | None = None
) -> dict[str, Any]:
    items = [(engine.VERDICT, decision.verdict)] if decision.verdict else []
    items += [
        (table, item) for table, table_items in decision.lists.items() for item in table_items
    ]
    return {
        "policy": version.policy.slug,
        "version": version.version_id,
        "complete": decision.complete,
        "next_question": decision.next_question.key if decision.next_question else None,
        "verdict": decision.verdict.key if decision.verdict else None,
        "auth_methods": [item_payload(i, version) for i in decision.auth_methods],
        "terms": [item_payload(i, version) for i in decision.terms],
        "steps": [item_payload(i, version) for i in decision.steps],
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
        "verdict_detail": item_payload(decision.verdict, version) if decision.verdict else None,
        "rules": list(decision.fired_rules),
        "revoke_url": None,  # set only in the API response that saved a result
        "action": action_payload(decision),
    }


def action_payload(decision: engine.Decision) -> dict[str, Any] | None:
    """The line under the verdict: what to do now. The verdict's own action leads it in ("What
    you can do instead:"); then the action of each step (preconditions carry one, standing
    obligations none) and each sign-in method, in that order. All of it is policy data."""
    if decision.verdict is None:
        return None
    items = [
        {"table": table, "id": item.key, "text": item.action}
        for table, listed in (
            (engine.STEPS, decision.steps),
            (engine.AUTH_METHODS, decision.auth_methods),
        )
        for item in listed
        if item.action
    ]
    if not items and not decision.verdict.action:
        return None
    return {"lead": decision.verdict.action, "items": items}


def with_sources(snapshot: Mapping[str, Any]) -> dict[str, Any]:
    """The snapshot for reading: each clause once. Every cited clause gets a number in order of
    first citation (the verdict, then sign-in, terms and steps); items keep their clauses and gain
    `refs`, the numbers they cite, and `shown_reasons`, their reasons not given on an earlier
    item; `sources` lists each clause once with its number. Works on
    stored snapshots of any age, so saved results are shown the same way."""
    numbers: dict[tuple[str, str, str], int] = {}
    sources: list[dict[str, Any]] = []
    said: set[str] = set()  # reasons shown already: several items often rest on one rule

    def refs(item: Mapping[str, Any]) -> dict[str, Any]:
        cited = []
        for clause in item.get("clauses", []):
            key = (clause.get("id", ""), clause.get("quote", ""), clause.get("version", ""))
            if key not in numbers:
                numbers[key] = len(sources) + 1
                sources.append({**clause, "number": numbers[key]})
            cited.append(numbers[key])
        fresh = [reason for reason in item.get("reasons", []) if reason not in said]
        said.update(fresh)
        return {**item, "refs": cited, "shown_reasons": fresh}

    shown = dict(snapshot)
    if snapshot.get("verdict_detail"):
        shown["verdict_detail"] = refs(snapshot["verdict_detail"])
    for table in engine.LIST_TABLES:
        shown[table] = [refs(item) for item in snapshot.get(table, [])]
    shown["sources"] = sources
    return shown


# A convention of the data, not of any one policy: clauses whose id starts with this are the
# policy's standing "security and trust" links, shown on every result rather than cited by rules.
SECURITY_CLAUSE_PREFIX = "security-"


def security_links(version: engine.Version) -> list[dict[str, Any]]:
    return [
        clause_payload(clause)
        for clause in version.clauses
        if clause.key.startswith(SECURITY_CLAUSE_PREFIX)
    ]


def snapshot_payload(
    version: VersionRef, engine_version: engine.Version, decision: engine.Decision
) -> dict[str, Any]:
    """Everything a saved result shows, so that its page never reads the policy again: the API
    payload plus the questions as they were asked, the policy's title and its standing links."""
    questions = []
    for question in engine.path_questions(engine_version, decision.answers):
        answer = decision.answers[question.key]
        choice = question.choice(answer)
        questions.append(
            {
                "id": question.key,
                "text": question.text,
                "answer": answer,
                "label": choice.label if choice else answer,
            }
        )
    payload = decision_payload(version, decision)
    del payload["revoke_url"]  # a secret of the creator, never part of what a link shows
    return {
        **payload,
        "policy_title": version.policy.title,
        "effective_date": version.version_id,
        "questions": questions,
        "security_links": security_links(engine_version),
    }


def with_reviewed_drift(
    snapshot: Mapping[str, Any], reworded: Mapping[str, list[dict[str, str]]]
) -> dict[str, Any]:
    """A copy of the snapshot (or decision payload) whose every clause carries `reworded`: null,
    or the reviewed rewording of its page, `{"on", "reviewed", "verdict", "note"}`, for the line
    "the page was reworded on DATE (reviewed: meaning unchanged)". `reworded` is
    `catalog.reworded`: per clause, its reviewed drift findings by date.

    Added when a result is shown, never stored with it: a saved result keeps its clauses exactly
    as they were cited, and a review is a later fact about the page, not part of the citation. A
    result saved before a review (or one pinned to a version reviewed since) must say so when it
    is read, so the lookup is live. Nothing else of the clause is touched."""
    shown = copy.deepcopy(dict(snapshot))
    items = [shown.get("verdict_detail")] + [
        item for table in engine.LIST_TABLES for item in shown.get(table) or []
    ]
    clauses = [clause for item in items for clause in (item or {}).get("clauses") or []]
    for clause in clauses + list(shown.get("security_links") or []):
        clause["reworded"] = rewording_payload(reworded.get(clause.get("id", "")) or [])
    return shown


def rewording_payload(reviews: list[dict[str, str]]) -> dict[str, Any] | None:
    """The first reviewed rewording: `since` is the first copy of the page without the quote, so
    from that day on the page no longer says it; a later date is only found when the quote came
    back in between, and the first is the one a person needs to know about."""
    if not reviews:
        return None
    first = min(reviews, key=lambda review: review["since"])
    return {
        "on": first["since"],
        "reviewed": True,
        "verdict": first["verdict"],
        "note": first.get("note", ""),
    }


def payload_diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """What changed between two evaluations, item by item: the verdict before and after, and per
    list the items added, removed and kept, with the clauses that changed on kept items."""
    tables: dict[str, Any] = {}
    for table in engine.LIST_TABLES:
        before = {item["id"]: item for item in old.get(table, [])}
        after = {item["id"]: item for item in new.get(table, [])}
        changed = []
        for key in after.keys() & before.keys():
            old_clauses = {c["id"]: c for c in before[key]["clauses"]}
            new_clauses = {c["id"]: c for c in after[key]["clauses"]}
            added = [c for cid, c in new_clauses.items() if cid not in old_clauses]
            removed = [c for cid, c in old_clauses.items() if cid not in new_clauses]
            reworded = [
                c
                for cid, c in new_clauses.items()
                if cid in old_clauses
                and (c["quote"], c["version"])
                != (old_clauses[cid]["quote"], old_clauses[cid]["version"])
            ]
            if added or removed or reworded:
                changed.append(
                    {
                        "item": after[key],
                        "clauses_added": added,
                        "clauses_removed": removed,
                        "clauses_reworded": reworded,
                    }
                )
        tables[table] = {
            "added": [item for key, item in after.items() if key not in before],
            "removed": [item for key, item in before.items() if key not in after],
            "changed": sorted(changed, key=lambda entry: list(after).index(entry["item"]["id"])),
        }
    return {
        "verdict_before": old.get("verdict"),
        "verdict_after": new.get("verdict"),
        "verdict_changed": old.get("verdict") != new.get("verdict"),
        "tables": tables,
        "unchanged": old.get("verdict") == new.get("verdict")
        and not any(t["added"] or t["removed"] or t["changed"] for t in tables.values()),
    }


def with_what_would_change(
    snapshot: dict[str, Any], version: engine.Version, decision: engine.Decision, limit: int = 3
) -> dict[str, Any]:
    """The snapshot plus the few smallest answer changes that would change the verdict."""
    changes = preferred_changes(version, dict(decision.answers), limit=limit)
    return {
        **snapshot,
        "what_would_change": [
            {
                "sentence": change.sentence,
                "verdict": change.verdict.key,
                "edits": [_edit_payload(edit) for edit in change.edits],
                "alternatives": [_edit_payload(edit) for edit in change.alternatives],
                "more_questions": list(change.more_questions),
            }
            for change in changes
        ],
    }


def _edit_payload(edit: Any) -> dict[str, str | None]:
    return {"question": edit.question, "from": edit.from_choice, "to": edit.to_choice}


# --- the policy's public history -------------------------------------------------------------


def conditions_in_words(version: engine.Version, conj: engine.Conjunction) -> str:
    """ "Q1 is “Claude Pro” or “Claude Max”, and Q2 is …": questions by their number in the
    version's list (shown above the rules), in question order."""
    numbers = {q.key: i for i, q in enumerate(version.questions, start=1)}
    parts = []
    for key, choices in engine.conditions_in_order(version, conj).items():
        question = version.question(key)
        if question is None:
            continue
        labels = [c.label for c in question.choices if c.key in choices]
        others = [c.label for c in question.choices if c.key not in choices]
        if len(others) < len(labels):  # the shorter way to say it
            parts.append(f"Q{numbers[key]} is not " + " or ".join(f"“{o}”" for o in others))
        else:
            parts.append(f"Q{numbers[key]} is " + " or ".join(f"“{label}”" for label in labels))
    return ", and ".join(parts) if parts else "always"


def version_in_words(version: engine.Version) -> dict[str, Any]:
    """A version for readers: its questions (when each is asked) and its rules, grouped by
    outcome, with their conditions in words."""
    questions = [
        {
            "id": question.key,
            "text": question.text,
            "help": question.help,
            "choices": [choice.label for choice in question.choices],
            "number": number,
            "asked_when": " — or — ".join(
                conditions_in_words(version, conj) for conj in question.shown_when
            )
            or "always",
        }
        for number, question in enumerate(version.questions, start=1)
    ]
    tables = []
    for table in engine.TABLES:
        outcomes = []
        for outcome in version.outcomes_of(table):
            rules = [
                rule for rule in version.rules if (rule.table, rule.outcome) == (table, outcome.key)
            ]
            if rules:
                outcomes.append(
                    {
                        "id": outcome.key,
                        "title": outcome.title,
                        "rules": [
                            {
                                "id": rule.key,
                                "when": conditions_in_words(version, rule.conditions),
                                "reason": rule.reason,
                            }
                            for rule in rules
                        ],
                    }
                )
        tables.append({"table": table, "outcomes": outcomes})
    return {"questions": questions, "tables": tables}


def comparison_payload(before: engine.Version, after: engine.Version) -> dict[str, Any]:
    """Which answers get another result in `after`, for readers: counts and a few examples with
    the answers and both verdicts in words."""
    found = diffing.impact(before, after)

    def title(version: engine.Version, key: str | None) -> str:
        outcome = version.outcome(engine.VERDICT, key) if key else None
        return outcome.title if outcome else "no verdict"

    def answers_in_words(answers: Mapping[str, str]) -> list[str]:
        words = []
        for key, value in answers.items():
            question = after.question(key) or before.question(key)
            choice = question.choice(value) if question else None
            words.append(
                f"{question.text if question else key} {choice.label if choice else value}"
            )
        return words

    return {
        "compared": found.compared,
        "changed": found.changed,
        "verdict_changed": found.verdict_changed,
        "not_comparable": found.not_comparable,
        "complete": found.complete,
        "examples": [
            {
                "answers": answers_in_words(example.answers),
                "before": title(before, example.before.verdict),
                "after": title(after, example.after.verdict),
                "verdict_changed": example.verdict_changed,
            }
            for example in found.examples
        ],
    }
