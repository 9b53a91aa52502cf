"""Writes of the wizard app. Each is one keyword-only function in a transaction."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Mapping

from django.db import IntegrityError, transaction
from django.utils import timezone

from policies import catalog, engine
from policies.payloads import snapshot_payload, with_what_would_change

from .models import TOKEN_BYTES, Result, secret_hash


class IncompleteAnswers(ValueError):
    """Only a complete, valid answer set has a result to save."""


class AlreadySaved(Exception):
    """The same save form was sent before: `result` is what it saved."""

    def __init__(self, result: Result) -> None:
        super().__init__(result.token)
        self.result = result


def result_create(
    *,
    version: catalog.VersionRef,
    answers: Mapping[str, str],
    outcome_only: bool = False,
    expires_in_days: int = 0,
    previous: Result | None = None,
    attempt: str | None = None,
) -> tuple[Result, str]:
    """Evaluate `answers` on `version` and store the decision as a result. Returns the result and
    its revoke secret, which is stored only as a hash and must be handed to the creator now.

    `attempt` is the id of the save form (see SaveAttemptForm): when a result was already saved
    from it, AlreadySaved is raised with that result, also when both submissions arrive at once
    (the database's unique constraint decides which one saves)."""
    if attempt and (earlier := Result.objects.filter(save_attempt=attempt).first()):
        raise AlreadySaved(earlier)
    engine_version = catalog.compiled(version)
    decision = engine.evaluate(engine_version, dict(answers))
    if not decision.complete:
        raise IncompleteAnswers(dict(decision.errors) or decision.next_question)
    snapshot = with_what_would_change(
        snapshot_payload(version, engine_version, decision), engine_version, decision
    )
    secret = secrets.token_urlsafe(TOKEN_BYTES)
    now = timezone.now()
    try:
        with transaction.atomic():
            result = Result.objects.create(
                version_id=version.pk,
                answers=dict(decision.answers),
                snapshot=snapshot,
                outcome_only=outcome_only,
                created_at=now,
                expires_at=now + dt.timedelta(days=expires_in_days) if expires_in_days else None,
                revoke_secret_hash=secret_hash(secret),
                previous=previous,
                save_attempt=attempt or None,
            )
    except IntegrityError:
        earlier = Result.objects.filter(save_attempt=attempt).first() if attempt else None
        if earlier is None:
            raise
        raise AlreadySaved(earlier) from None
    return result, secret


def result_revoke(*, result: Result, secret: str) -> bool:
    """Revoke once. False (and no change) when the secret is wrong or it is already revoked."""
    if not result.revoke_secret_matches(secret):
        return False
    with transaction.atomic():
        updated = Result.objects.filter(pk=result.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
    return updated == 1
