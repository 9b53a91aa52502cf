"""Policy records as admins edit them. Small models; the logic lives in engine.py and analysis.py.

Everything below PolicyVersion belongs to exactly one version, so a published version can be frozen
as a whole: its records refuse to be saved, updated or deleted (see `VersionLockedError`). Changes
go into a new draft. Conditions are stored as JSON keyed by question and choice ids, because ids
are what admins read and what YAML, the API and the engine all speak.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import (
    MaxValueValidator,
    MinValueValidator,
    RegexValidator,
    URLValidator,
)
from django.db import models
from django.urls import reverse
from django.utils import timezone

from . import engine

KEY_REGEX = r"^[a-z0-9][a-z0-9_\-.]*$"
KEY_PATTERN = re.compile(KEY_REGEX)
key_validator = RegexValidator(
    KEY_REGEX,
    "Use lower-case letters, digits, and _ - . (starting with a letter or digit).",
    code="invalid_key",
)


class VersionLockedError(ValidationError):
    """Raised when anything tries to change a record of a published version."""

    def __init__(self, version: PolicyVersion | None = None) -> None:
        label = f" {version}" if version is not None else ""
        super().__init__(
            f"Version{label} is published and cannot be changed; make a new draft instead.",
            code="published_version_locked",
        )


# Links people follow: a `javascript:` or `data:` URL must never get in, whoever writes.
web_url_validator = URLValidator(
    schemes=["https", "http"], message="Enter an https:// or http:// URL."
)
WEB_URL_IN_DB = models.Q(url__startswith="https://") | models.Q(url__startswith="http://")


def is_web_url(url: str) -> bool:
    return url.lower().startswith(("https://", "http://"))


class Policy(models.Model):
    """A policy. Its title and summary as people see them are those of the version in effect
    (each version carries its own); the policy's are the newest published version's, kept for
    the admin's lists, for a new policy's first draft and for the seed's top level."""

    slug = models.SlugField(unique=True, help_text="Used in URLs and the API, e.g. claude-code.")
    title = models.CharField(max_length=200)
    summary = models.TextField(blank=True, help_text="Shown on the start page.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "policies"
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("wizard:policy_start", args=[self.slug])


def recorded_user() -> models.ForeignKey[Any, Any]:
    """Who did something to a record (published, withdrew, created, recorded, reviewed): set by
    the code that does it, never edited, kept (as empty) when the account is deleted."""
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )


class PolicySlug(models.Model):
    """A slug the policy had before a rename: its old wizard, API, history, sources and feed
    URLs redirect to the same path under the policy's slug now (`catalog.moved_to`). No other
    policy may take it, so an old link never comes to mean another policy."""

    policy = models.ForeignKey(Policy, on_delete=models.CASCADE, related_name="previous_slugs")
    slug = models.SlugField(unique=True)
    renamed_at = models.DateTimeField(default=timezone.now, editable=False)
    renamed_by = recorded_user()

    class Meta:
        ordering = ["policy", "-renamed_at"]

    def __str__(self) -> str:
        return f"{self.slug} (now {self.policy.slug})"


class LockedQuerySet(models.QuerySet):
    """Bulk writes go around save(), so each checks the lock itself: every write the ORM can make
    (`update`, `delete`, `bulk_create`, `bulk_update`) is refused when a row it touches belongs, or
    would come to belong, to a published version. One extra query per bulk write."""

    def _check_unlocked(self) -> None:
        """Refuse when any row of this queryset belongs to a published version."""
        raise NotImplementedError

    def _check_new_rows(self, objs: list[Any]) -> None:
        """Refuse when any of these (maybe unsaved) rows would belong to a published version."""
        raise NotImplementedError

    def update(self, **kwargs: Any) -> int:
        self._check_unlocked()
        return super().update(**kwargs)

    def delete(self) -> tuple[int, dict[str, int]]:
        self._check_unlocked()
        return super().delete()

    def bulk_create(self, objs: Iterable[Any], *args: Any, **kwargs: Any) -> list[Any]:
        objs = list(objs)
        self._check_new_rows(objs)
        return super().bulk_create(objs, *args, **kwargs)

    def bulk_update(self, objs: Iterable[Any], fields: Any, *args: Any, **kwargs: Any) -> int:
        objs = list(objs)
        # Where the rows are now, and where they would be moved to.
        self.filter(pk__in=[obj.pk for obj in objs])._check_unlocked()
        self._check_new_rows(objs)
        return super().bulk_update(objs, fields, *args, **kwargs)


class PolicyVersionQuerySet(LockedQuerySet):
    """A published (or withdrawn) version's own row is frozen too, and no row becomes published
    in bulk: publishing is `services.version_publish`, which saves a draft's row (allowed: its
    stored status is still draft)."""

    def _check_unlocked(self) -> None:
        if self.filter(status__in=LOCKED_STATUSES).exists():
            raise VersionLockedError()

    def _check_new_rows(self, objs: list[Any]) -> None:
        if any(obj.status in LOCKED_STATUSES for obj in objs):
            raise VersionLockedError()  # a version is published only by version_publish


class PolicyVersion(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"
        # Published by mistake and taken back: it no longer applies on any day, but stays frozen
        # and visible, and the saved results pinned to it keep working.
        WITHDRAWN = "withdrawn", "Withdrawn"

    policy = models.ForeignKey(Policy, on_delete=models.CASCADE, related_name="versions")
    effective_date = models.DateField(
        null=True,
        blank=True,
        help_text="The day this version takes effect; it is also the version's id.",
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    published_at = models.DateTimeField(null=True, blank=True, editable=False)
    published_by = recorded_user()
    notes = models.TextField(blank=True, help_text="What changed, in plain words.")
    # The policy's title and summary as this version shows them, copied into every version
    # (a draft from its source) rather than "unchanged" markers: a published version stays
    # self-contained, and a result or history page pinned to it reads them from its own row.
    title = models.CharField(
        max_length=200,
        blank=True,
        help_text="The policy's title while this version is in effect. Empty: the policy's.",
    )
    summary = models.TextField(
        blank=True, help_text="Shown on the start page while this version is in effect."
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True, editable=False)
    withdrawn_by = recorded_user()
    withdrawn_because = models.TextField(
        blank=True, editable=False, help_text="Why the version was withdrawn."
    )
    based_on = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The version this draft was copied from.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = recorded_user()
    objects = PolicyVersionQuerySet.as_manager()

    class Meta:
        ordering = ["policy", "-effective_date"]
        permissions = [("publish_policyversion", "Can publish a policy version")]
        constraints = [
            models.UniqueConstraint(
                fields=["policy", "effective_date"],
                condition=models.Q(status="published"),
                name="one_published_version_per_date",
            ),
            models.CheckConstraint(
                condition=models.Q(status="draft") | models.Q(effective_date__isnull=False),
                name="published_version_has_date",
            ),
        ]

    def __str__(self) -> str:
        label = self.version_id or "undated"
        return f"{self.policy.slug} {label}" + (" (draft)" if self.is_draft else "")

    @property
    def version_id(self) -> str:
        return self.effective_date.isoformat() if self.effective_date else ""

    def label(self) -> str:
        """How the admin names a version where one is chosen: a draft by the version it was
        copied from and the day it was made, since drafts have no date of their own yet."""
        if not self.is_draft:
            return str(self)
        words = [f"{self.policy.slug} draft"]
        if self.effective_date:
            words.append(f"for {self.version_id}")
        if self.based_on_id is not None and self.based_on is not None:
            words.append(f"from {self.based_on.version_id or 'a draft'}")
        if self.created_at:
            words.append(f"made {timezone.localdate(self.created_at).isoformat()}")
        return " ".join(words)

    @property
    def is_draft(self) -> bool:
        return self.status == self.Status.DRAFT

    def clean(self) -> None:
        if not self.is_draft and self.effective_date is None:
            raise ValidationError(
                {"effective_date": "A published version needs an effective date."},
                code="required",
            )

    # Why the guard is in save(): the rule "published versions never change" must hold for every
    # writer (admin, shell, loader), and the compiled cache relies on it.
    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk and _stored_status(self.pk) in LOCKED_STATUSES:
            raise VersionLockedError(self)
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        if self.pk and _stored_status(self.pk) in LOCKED_STATUSES:
            raise VersionLockedError(self)
        return super().delete(*args, **kwargs)


# A withdrawn version was published: it stays as frozen as it was.
LOCKED_STATUSES = (PolicyVersion.Status.PUBLISHED, PolicyVersion.Status.WITHDRAWN)


def _stored_status(pk: int) -> str | None:
    return PolicyVersion.objects.filter(pk=pk).values_list("status", flat=True).first()


class VersionRecordQuerySet(LockedQuerySet):
    """The records of a version: locked by the status of the version they belong to."""

    def _check_unlocked(self) -> None:
        path = self.model.version_path
        if self.filter(**{f"{path}__status__in": LOCKED_STATUSES}).exists():
            raise VersionLockedError()

    def _check_new_rows(self, objs: list[Any]) -> None:
        first, _, rest = self.model.version_path.partition("__")
        owners = {getattr(obj, f"{first}_id") for obj in objs} - {None}
        if not owners:
            return
        if rest:  # e.g. a choice: its question's version
            related = self.model._meta.get_field(first).related_model
            locked = related._base_manager.filter(
                pk__in=owners, **{f"{rest}__status__in": LOCKED_STATUSES}
            )
        else:
            locked = PolicyVersion.objects.filter(pk__in=owners, status__in=LOCKED_STATUSES)
        if locked.exists():
            raise VersionLockedError()


class VersionRecord(models.Model):
    """A record that belongs to one policy version and is frozen once that version is published."""

    version_path: ClassVar[str] = "version"
    objects = VersionRecordQuerySet.as_manager()

    class Meta:
        abstract = True

    def owning_version(self) -> PolicyVersion:
        raise NotImplementedError

    def _check_unlocked(self) -> None:
        version = self.owning_version()
        if version.pk and _stored_status(version.pk) in LOCKED_STATUSES:
            raise VersionLockedError(version)

    def save(self, *args: Any, **kwargs: Any) -> None:
        self._check_unlocked()
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        self._check_unlocked()
        return super().delete(*args, **kwargs)


def _check_conditions(version: PolicyVersion, conditions: object, field: str) -> None:
    """Conditions map question ids to lists of choice ids, all of this version."""
    if not isinstance(conditions, dict):
        raise ValidationError(
            {field: 'Write an object such as {"plan": ["pro", "max"]}.'}, code="invalid"
        )
    choices_by_question = {
        key: set(choice_keys) for key, choice_keys in _choice_keys(version).items()
    }
    for key, choices in conditions.items():
        if key not in choices_by_question:
            raise ValidationError(
                {
                    field: f"Unknown question {key!r}; questions are "
                    + ", ".join(sorted(choices_by_question))
                },
                code="unknown_question",
            )
        if not isinstance(choices, list) or not choices:
            raise ValidationError(
                {field: f"The choices for {key!r} must be a non-empty list."}, code="invalid"
            )
        unknown = [c for c in choices if c not in choices_by_question[key]]
        if unknown:
            raise ValidationError(
                {
                    field: f"Unknown choices for {key!r}: {', '.join(map(str, unknown))}; "
                    f"allowed: {', '.join(sorted(choices_by_question[key]))}"
                },
                code="unknown_choice",
            )


def _choice_keys(version: PolicyVersion) -> dict[str, list[str]]:
    keys: dict[str, list[str]] = {}
    for question_key, choice_key in Choice.objects.filter(question__version=version).values_list(
        "question__key", "key"
    ):
        keys.setdefault(question_key, []).append(choice_key)
    for question_key in Question.objects.filter(version=version).values_list("key", flat=True):
        keys.setdefault(question_key, [])
    return keys


class Question(VersionRecord):
    version = models.ForeignKey(PolicyVersion, on_delete=models.CASCADE, related_name="questions")
    key = models.CharField(max_length=60, validators=[key_validator], help_text="e.g. plan")
    text = models.CharField(max_length=300)
    help = models.TextField(blank=True, verbose_name="why we ask")
    order = models.PositiveIntegerField(default=0)
    actionable = models.BooleanField(
        default=True,
        help_text="A choice the person can make (a plan, a tool), not a circumstance (who the "
        "users are, health data): only these are varied by “what would change this”.",
    )
    change_cost = models.PositiveSmallIntegerField(
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(9)],
        help_text="What a person gives up by changing this answer, 1 to 9: 1 for a detail, more "
        "for what they came to do (the tool they use). Among equally few changes, “what would "
        "change this” shows those of lowest total cost first.",
    )
    error = models.CharField(
        max_length=200,
        blank=True,
        help_text="The message when no answer is chosen, e.g. “Choose how you get access”. "
        "Empty: “Select an answer to” and the question.",
    )
    shown_when = models.JSONField(
        default=list,
        blank=True,
        help_text="Empty means always asked. Otherwise a list of alternatives, each an object "
        'such as {"tool": ["agent_sdk"], "plan": ["pro", "max"]} (all must hold).',
    )

    class Meta:
        ordering = ["version", "order", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["version", "key"], name="unique_question_key"),
        ]

    def __str__(self) -> str:
        return self.key

    def owning_version(self) -> PolicyVersion:
        return self.version

    def clean(self) -> None:
        if not isinstance(self.shown_when, list):
            raise ValidationError(
                {"shown_when": "Write a list of alternatives (or leave it empty)."}, code="invalid"
            )
        if self.version_id is not None:
            for alternative in self.shown_when:
                _check_conditions(self.version, alternative, "shown_when")


class Choice(VersionRecord):
    version_path = "question__version"
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="choices")
    key = models.CharField(max_length=60, validators=[key_validator])
    label = models.CharField(max_length=200)
    help = models.TextField(blank=True)
    order = models.PositiveIntegerField(default=0)
    sensitive = models.BooleanField(
        default=False,
        help_text="A sensitive answer (health data, say): saving a link then defaults to the "
        "outcome only, expiring after 30 days.",
    )

    class Meta:
        ordering = ["question", "order", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["question", "key"], name="unique_choice_key"),
        ]

    def __str__(self) -> str:
        return f"{self.question.key}={self.key}"

    def owning_version(self) -> PolicyVersion:
        return self.question.version


class Outcome(VersionRecord):
    class Table(models.TextChoices):
        VERDICT = engine.VERDICT, "Verdict"
        AUTH_METHOD = engine.AUTH_METHODS, "Authentication method"
        TERMS = engine.TERMS, "Terms"
        STEP = engine.STEPS, "Compliance step"

    version = models.ForeignKey(PolicyVersion, on_delete=models.CASCADE, related_name="outcomes")
    table = models.CharField(
        max_length=20, choices=Table.choices, help_text="The decision table it is an outcome of."
    )
    key = models.CharField(max_length=60, validators=[key_validator])
    title = models.CharField(max_length=200)
    text = models.TextField(blank=True, help_text="The plain-language explanation.")
    detail = models.TextField(
        blank=True, help_text="Set-up detail: commands, environment variables, links."
    )
    order = models.PositiveIntegerField(
        default=0, help_text="Order within its table; for verdicts, the strictest comes first."
    )
    action = models.TextField(
        blank=True,
        help_text="What to do, in one sentence, for the line under the verdict (steps: "
        "preconditions; leave standing obligations empty). On a verdict: the words that lead "
        "that line in.",
    )

    class Meta:
        ordering = ["version", "table", "order", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["version", "key"], name="unique_outcome_key"),
        ]

    def __str__(self) -> str:
        return f"{self.table}: {self.key}"

    def owning_version(self) -> PolicyVersion:
        return self.version


class Clause(VersionRecord):
    version = models.ForeignKey(PolicyVersion, on_delete=models.CASCADE, related_name="clauses")
    key = models.CharField(max_length=80, validators=[key_validator])
    quote = models.TextField()
    url = models.URLField(max_length=500, validators=[web_url_validator])
    source = models.CharField(max_length=200, help_text="The title of the source page.")
    # `version` everywhere else (engine, YAML, JSON); here that name is the owning PolicyVersion.
    source_version = models.CharField(
        max_length=40, help_text="The version or date of the source page the quote comes from."
    )
    document = models.ForeignKey(
        "SourceDocument",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="clauses",
        help_text="The page the quote comes from; its snapshot of the date above is checked.",
    )
    later_statement = models.BooleanField(
        default=False,
        help_text="The quote is from a text dated after this version took effect (no text in "
        "force then says it); shown to people as said later.",
    )
    later_statement_reason = models.TextField(
        blank=True, help_text="Why a later text is cited: what the texts in force lack."
    )

    class Meta:
        ordering = ["version", "key"]
        constraints = [
            models.UniqueConstraint(fields=["version", "key"], name="unique_clause_key"),
            models.CheckConstraint(
                condition=WEB_URL_IN_DB | models.Q(url=""), name="clause_url_is_web"
            ),
        ]

    def __str__(self) -> str:
        return self.key

    def owning_version(self) -> PolicyVersion:
        return self.version


class Rule(VersionRecord):
    version = models.ForeignKey(PolicyVersion, on_delete=models.CASCADE, related_name="rules")
    key = models.CharField(max_length=120, validators=[key_validator])
    priority = models.IntegerField(
        default=0, help_text="Lower comes first; decides ties for the 'first' hit policy."
    )
    conditions = models.JSONField(
        default=dict,
        blank=True,
        help_text='All must hold, e.g. {"plan": ["pro", "max"], "tool": ["agent_sdk"]}. '
        "Empty means always.",
    )
    outcome = models.ForeignKey(Outcome, on_delete=models.RESTRICT, related_name="rules")
    reason = models.TextField(help_text="Why this outcome applies, in plain words.")
    clauses: models.ManyToManyField[Clause, Citation] = models.ManyToManyField(
        Clause, related_name="rules", blank=True, through="Citation"
    )

    class Meta:
        ordering = ["version", "priority", "key"]
        constraints = [
            models.UniqueConstraint(fields=["version", "key"], name="unique_rule_key"),
        ]

    def __str__(self) -> str:
        return self.key

    def owning_version(self) -> PolicyVersion:
        return self.version

    def clean(self) -> None:
        if self.version_id is None:
            return
        _check_conditions(self.version, self.conditions, "conditions")
        if self.outcome_id is not None and self.outcome.version_id != self.version_id:
            raise ValidationError(
                {"outcome": "Choose an outcome of the same version."}, code="other_version"
            )


class Citation(VersionRecord):
    """A rule citing a clause. A model of its own (the table Django made for the many-to-many
    field) so that its writes pass the same lock as every other record: `rule.clauses.add()`,
    `.set()` and `.clear()` are bulk writes of this model."""

    version_path = "rule__version"
    rule = models.ForeignKey(Rule, on_delete=models.CASCADE)
    clause = models.ForeignKey(Clause, on_delete=models.CASCADE)

    class Meta:
        db_table = "policies_rule_clauses"
        unique_together = [("rule", "clause")]

    def __str__(self) -> str:
        return f"{self.rule_id} cites {self.clause_id}"

    def owning_version(self) -> PolicyVersion:
        return self.rule.version


class SourceDocument(models.Model):
    """A page that clauses quote, with its dated snapshots. Not part of any version: a page is
    the same page whichever version (or policy) cites it, and its snapshots only accumulate."""

    class Kind(models.TextChoices):
        PRIMARY = "primary", "Primary page"
        SECONDARY = "secondary", "Secondary report"
        REFERENCE = "reference", "Reference (we hold no text)"

    key = models.CharField(
        max_length=80,
        unique=True,
        validators=[key_validator],
        help_text="e.g. legal-and-compliance",
    )
    url = models.URLField(
        max_length=500, unique=True, validators=[web_url_validator], help_text="The URL as cited."
    )
    other_urls = models.JSONField(
        default=list, blank=True, help_text="Earlier URLs of the same page, a list."
    )
    title = models.CharField(max_length=300)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.PRIMARY)

    class Meta:
        ordering = ["key"]
        constraints = [
            models.CheckConstraint(condition=WEB_URL_IN_DB, name="document_url_is_web"),
        ]

    def __str__(self) -> str:
        return self.title or self.key

    def get_absolute_url(self) -> str:
        return reverse("sources:document", args=[self.key])

    def clean(self) -> None:
        urls = self.other_urls
        if not isinstance(urls, list) or not all(
            isinstance(u, str) and is_web_url(u) for u in urls
        ):
            raise ValidationError(
                {"other_urls": 'Write a list of https:// or http:// URLs, e.g. ["https://…"].'},
                code="invalid_urls",
            )


class Snapshot(models.Model):
    """A page's text as it was seen on a day, exactly as received (bytes decoded as UTF-8)."""

    document = models.ForeignKey(SourceDocument, on_delete=models.CASCADE, related_name="snapshots")
    date = models.DateField(help_text="The day the text was seen (UTC).")
    text = models.TextField()
    sha256 = models.CharField(max_length=64, editable=False)
    provenance = models.JSONField(
        default=dict, blank=True, help_text="Where the text came from (a mirror and commit, a URL)."
    )
    note = models.TextField(blank=True, help_text="What changed from the copy before.")
    recorded_by = recorded_user()
    recorded_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["document", "date"]
        constraints = [
            models.UniqueConstraint(fields=["document", "date"], name="one_snapshot_per_day"),
        ]

    def __str__(self) -> str:
        return f"{self.document.key} as of {self.date.isoformat()}"

    def get_absolute_url(self) -> str:
        return reverse("sources:snapshot", args=[self.document.key, self.date.isoformat()])


class DriftReview(models.Model):
    """An admin's review of a drift finding (`citations.drift`): the page changed after the
    version quoted it, and someone read the new text and recorded what it means. Not a record
    of the version (reviewing never changes what the version says), so published versions may
    be reviewed."""

    class Verdict(models.TextChoices):
        MEANING_UNCHANGED = "meaning_unchanged", "Reworded, meaning unchanged"

    version = models.ForeignKey(PolicyVersion, on_delete=models.CASCADE, related_name="reviews")
    clause = models.CharField(max_length=80, validators=[key_validator])
    since = models.DateField(help_text="The first snapshot that no longer holds the quote.")
    verdict = models.CharField(
        max_length=30, choices=Verdict.choices, default=Verdict.MEANING_UNCHANGED
    )
    note = models.TextField(help_text="What changed, and why the clause still holds.")
    reviewed_by = recorded_user()
    reviewed_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["version", "clause", "since"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "clause", "since"], name="one_review_per_finding"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.version} {self.clause} since {self.since.isoformat()}"


class ReviewItem(VersionRecord):
    """A clause of a draft, or a rule citing it, to review because the page the clause quotes
    changed (a drift finding of the version the draft was copied from). Cleared when the draft
    changes it (`services.review_items_sync`, on every admin save and before publishing) or when
    an admin confirms it unchanged; publishing is refused while one is open. A record of the
    draft: never copied into a further draft, and frozen with the version once published."""

    class Kind(models.TextChoices):
        CLAUSE = "clause", "Clause"
        RULE = "rule", "Rule"

    class Cleared(models.TextChoices):
        OPEN = "", "Open"
        EDITED = "edited", "Edited in the draft"
        CONFIRMED = "confirmed", "Confirmed unchanged"

    version = models.ForeignKey(
        PolicyVersion, on_delete=models.CASCADE, related_name="review_items"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    key = models.CharField(max_length=120, help_text="The clause's or the rule's id.")
    # The finding that caused it, as `check_sources` reported it when the draft was made.
    clause = models.CharField(max_length=80, help_text="The clause whose page changed.")
    finding_version = models.CharField(
        max_length=40, help_text="The version whose quote no longer holds."
    )
    status = models.CharField(max_length=20, help_text="changed, missing or not_in_force.")
    since = models.DateField(help_text="The first copy of the page that no longer holds it.")
    closest = models.TextField(blank=True, help_text="The page's closest passage on that date.")
    similarity = models.FloatField(default=0.0)
    # What the clause or rule said when the draft was made; a save that changes it clears it.
    as_made = models.JSONField(default=dict, editable=False)
    cleared = models.CharField(max_length=10, choices=Cleared.choices, blank=True, default="")
    cleared_by = recorded_user()
    cleared_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["version", "clause", "kind", "key"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "kind", "key", "clause"], name="one_review_item_per_finding"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display().lower()} {self.key}"

    def owning_version(self) -> PolicyVersion:
        return self.version

    @property
    def is_open(self) -> bool:
        return not self.cleared


class ScenarioQuerySet(LockedQuerySet):
    """A scenario of a published (or withdrawn) version is part of what was published: the
    publish page showed its results. Locked like the version's records; the policy's own
    scenarios (no version) are not."""

    def _check_unlocked(self) -> None:
        if self.filter(version__status__in=LOCKED_STATUSES).exists():
            raise VersionLockedError()

    def _check_new_rows(self, objs: list[Any]) -> None:
        owners = {obj.version_id for obj in objs} - {None}
        if (
            owners
            and PolicyVersion.objects.filter(pk__in=owners, status__in=LOCKED_STATUSES).exists()
        ):
            raise VersionLockedError()


class Scenario(models.Model):
    """A test case: answers, and what the decision must (and must not) contain.

    A scenario of a version tests that version alone: a new draft gets copies of its source's
    scenarios, so fixing one in a draft changes nothing that is published, and once the version
    is published its scenarios are frozen with it (`ScenarioQuerySet`, `save`, `delete`). A
    scenario without a version (the policy's own, as older data and hand-made tests have them)
    tests the versions its `as_of` picks (see `scenarios.applies_to`)."""

    policy = models.ForeignKey(Policy, on_delete=models.CASCADE, related_name="scenarios")
    version = models.ForeignKey(
        PolicyVersion,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="scenarios",
        help_text="The version this scenario tests; empty: the versions its 'as of' picks.",
    )
    name = models.CharField(max_length=200, help_text="What the case shows, in a few words.")
    answers = models.JSONField(
        default=dict,
        help_text='Question ids mapped to choice ids, e.g. {"plan": "pro", "tool": "claude_code"}.',
    )
    as_of = models.DateField(
        null=True,
        blank=True,
        verbose_name="as of",
        help_text="Empty: test every draft and the newest published version. A date: test the "
        "version in effect that day (a draft counts from its effective date).",
    )
    verdict = models.CharField(
        max_length=60,
        blank=True,
        validators=[key_validator],
        help_text="The verdict id the answers must get; empty accepts any verdict.",
    )
    must_include = models.JSONField(
        default=list,
        blank=True,
        help_text="Outcome ids that must appear in the result (any table).",
    )
    must_exclude = models.JSONField(
        default=list,
        blank=True,
        help_text="Outcome ids that must not appear in the result.",
    )

    class Meta:
        ordering = ["policy", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["policy", "name"],
                condition=models.Q(version__isnull=True),
                name="unique_scenario_name",
                violation_error_message="Scenario with this Policy and Name already exists.",
            ),
            models.UniqueConstraint(
                fields=["version", "name"],
                name="unique_scenario_name_per_version",
                violation_error_message="This version already has a scenario of this name.",
            ),
        ]

    version_path: ClassVar[str] = "version"  # as on VersionRecord: where the lock looks
    objects = ScenarioQuerySet.as_manager()

    def owning_version(self) -> PolicyVersion | None:
        return self.version

    def __str__(self) -> str:
        return self.name

    def check_unlocked(self) -> None:
        """Refuse when the version the scenario belongs to, or the one it is being moved to
        (or out of), is published: the stored row's version as well as the new one."""
        versions = {self.version_id} - {None}
        if self.pk:
            versions |= set(
                Scenario._base_manager.filter(pk=self.pk, version__isnull=False).values_list(
                    "version_id", flat=True
                )
            )
        if not versions:
            return
        locked = (
            PolicyVersion.objects.filter(pk__in=versions, status__in=LOCKED_STATUSES)
            .select_related("policy")
            .first()
        )
        if locked is not None:
            raise VersionLockedError(locked)

    # As for the version's records: every writer (admin, shell, loader) meets the lock.
    def save(self, *args: Any, **kwargs: Any) -> None:
        self.check_unlocked()
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        self.check_unlocked()
        return super().delete(*args, **kwargs)

    def clean(self) -> None:
        errors: dict[str, ValidationError] = {}
        version = self.version if self.version_id is not None else None
        if version is not None and self.policy_id not in (None, version.policy_id):
            errors["version"] = ValidationError(
                "Choose a version of the scenario's policy.", code="other_policy"
            )
        if not isinstance(self.answers, dict) or not self.answers:
            errors["answers"] = ValidationError(
                'Write an object of question ids and choice ids, e.g. {"plan": "pro"}.',
                code="invalid_answers",
            )
        else:
            bad = [
                str(key)
                for key, value in self.answers.items()
                if not isinstance(value, str) or not value
            ]
            if bad:
                errors["answers"] = ValidationError(
                    f"The answer to {', '.join(bad)} must be one choice id, written as a string.",
                    code="invalid_answers",
                )
        for field in ("must_include", "must_exclude"):
            ids = getattr(self, field)
            if not isinstance(ids, list) or not all(
                isinstance(i, str) and KEY_PATTERN.match(i) for i in ids
            ):
                errors[field] = ValidationError(
                    'Write a list of outcome ids, e.g. ["claude_login", "consumer_terms"].',
                    code="invalid_ids",
                )
        if "must_include" not in errors and "must_exclude" not in errors:
            both = sorted(set(self.must_include) & set(self.must_exclude))
            if both:
                errors["must_exclude"] = ValidationError(
                    f"{', '.join(both)} cannot both appear and not appear.", code="contradiction"
                )
        if errors:
            raise ValidationError(errors)
