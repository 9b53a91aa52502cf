"""Saved results: a snapshot of one decision, pinned to the policy version that produced it.

A result holds no personal data: the answers are choice ids, the snapshot is the API's JSON for
them. Its URL carries an unguessable token; a second, separate secret (stored only as a hash)
lets the browser that created it revoke it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from typing import Any

from django.db import models
from django.urls import reverse
from django.utils import timezone

from policies import catalog

# 22 random bytes: 176 bits, written in 30 URL-safe characters.
TOKEN_BYTES = 22
TOKEN_LENGTH = 30
TOKEN_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


# A save form's id: 16 random bytes, 22 URL-safe characters.
SAVE_ATTEMPT_BYTES = 16
SAVE_ATTEMPT_LENGTH = 22


def new_save_attempt() -> str:
    return secrets.token_urlsafe(SAVE_ATTEMPT_BYTES)


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def looks_like_token(value: str) -> bool:
    return len(value) == TOKEN_LENGTH and set(value) <= TOKEN_ALPHABET


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def find_result(token: str) -> Result | None:
    """The result a token names, with its version and policy; None for anything malformed or
    unknown, without a query when the token cannot be one."""
    if not looks_like_token(token):
        return None
    return (
        Result.objects.select_related("version__policy", "previous__version__policy")
        .filter(token=token)
        .first()
    )


class Result(models.Model):
    class Expiry(models.IntegerChoices):
        NEVER = 0, "Never"
        WEEK = 7, "After 7 days"
        MONTH = 30, "After 30 days"
        QUARTER = 90, "After 90 days"

    token = models.CharField(
        max_length=TOKEN_LENGTH, unique=True, default=new_token, editable=False
    )
    revoke_secret_hash = models.CharField(max_length=64, editable=False)
    # By name: the wizard reaches the policy records only through policies.catalog.
    version = models.ForeignKey(
        "policies.PolicyVersion", on_delete=models.PROTECT, related_name="results"
    )
    answers = models.JSONField(help_text="Question ids mapped to choice ids.")
    snapshot = models.JSONField(help_text="The decision as the API returned it, frozen.")
    outcome_only = models.BooleanField(
        default=False, help_text="The share link shows the outcome but not the answers."
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    previous = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="rechecks",
        help_text="The older result this one re-checked.",
    )
    save_attempt = models.CharField(
        max_length=SAVE_ATTEMPT_LENGTH,
        unique=True,
        null=True,
        blank=True,
        editable=False,
        help_text="The random id of the save form this result came from: the same form sent "
        "again (a double click, a resent POST) finds this result instead of saving another.",
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.version} · {self.snapshot.get('verdict')} · {self.created_at:%Y-%m-%d}"

    def get_absolute_url(self) -> str:
        return reverse("results:show", args=[self.token])

    def is_gone(self, now: dt.datetime | None = None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is not None or (
            self.expires_at is not None and self.expires_at <= now
        )

    def revoke_secret_matches(self, secret: str) -> bool:
        return hmac.compare_digest(self.revoke_secret_hash, secret_hash(secret))

    def newer_recheck(self) -> Result | None:
        """The latest result that re-checked this one, if any (one query)."""
        return self.rechecks.order_by("-created_at").first()

    def links(self, absolute: Any) -> dict[str, str | None]:
        """The re-check chain as addresses: the result this one re-checked, and the newest
        re-check of it. `absolute` turns a path into a full URL."""
        newer = self.newer_recheck()
        return {
            "previous_result_url": absolute(self.previous.get_absolute_url())
            if self.previous
            else None,
            "newer_result_url": absolute(newer.get_absolute_url()) if newer else None,
        }

    @property
    def version_ref(self) -> catalog.VersionRef:
        """The version it was checked against (read with the result by `find_result`)."""
        return catalog.ref(self.version)

    @property
    def public_snapshot(self) -> dict[str, Any]:
        """What a share link shows: without the answers when the creator asked for that."""
        if not self.outcome_only:
            return self.snapshot
        # The fired rules too: their conditions spell out the answers.
        hidden = {"answers", "questions", "ignored", "what_would_change", "rules"}
        return {key: value for key, value in self.snapshot.items() if key not in hidden}
