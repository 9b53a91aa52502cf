"""Writes of the policy app, and the report that decides whether a draft may be published.

Each write that touches several rows is one keyword-only function in a transaction:
`version_copy` (a new draft from any version), `version_publish` (checks, then publishes),
`version_withdraw` and `policy_rename` (a new slug; the old one redirects).
`version_report` only reads: the static checks, the scenarios that test the version, and the
rules no scenario exercises. The admin shows it on every view and save of a version, and
`version_publish` refuses while it reports an error or a failing scenario.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.utils import timezone

from . import analysis, catalog, citations, diffing, engine, quotes, records, scenarios
from .loading import sha256_of
from .models import (
    DriftReview,
    Policy,
    PolicySlug,
    PolicyVersion,
    ReviewItem,
    Scenario,
    Snapshot,
    SourceDocument,
    VersionLockedError,
    is_web_url,
)


class PublishRefused(Exception):
    """Publishing did not happen; `code` says why (for forms and tests), `field` where."""

    def __init__(self, message: str, *, code: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.field = field


@dataclass(frozen=True)
class VersionReport:
    """What the checks and scenarios say about one version."""

    version: engine.Version | None  # None when the records do not even make a version
    build_error: str = ""
    findings: list[analysis.Finding] = field(default_factory=list)
    runs: list[scenarios.Run] = field(default_factory=list)
    skipped: list[tuple[scenarios.Scenario, str]] = field(default_factory=list)
    uncovered: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[analysis.Finding]:
        return [f for f in self.findings if f.severity == analysis.ERROR]

    @property
    def warnings(self) -> list[analysis.Finding]:
        return [f for f in self.findings if f.severity == analysis.WARNING]

    @property
    def failing(self) -> list[scenarios.Run]:
        return [run for run in self.runs if not run.passed]

    @property
    def blocks_publishing(self) -> bool:
        return bool(self.build_error or self.errors or self.failing)

    def summary(self) -> str:
        """One line for a message after a save: "Checks: 1 error, 2 warnings. Scenarios: ..."."""
        if self.build_error:
            return f"This version cannot be checked: {self.build_error}"
        checks = f"Checks: {_count(len(self.errors), 'error')}, "
        checks += f"{_count(len(self.warnings), 'warning')}."
        if not self.runs:
            return checks + " No scenario tests this version."
        passed = len(self.runs) - len(self.failing)
        return checks + f" Scenarios: {passed} of {len(self.runs)} pass."


def version_report(
    *, version: PolicyVersion, effective_date: dt.date | None = None
) -> VersionReport:
    """Static checks and scenarios for `version`; `effective_date` overrides its own (the date
    a draft is about to be published with)."""
    try:
        built = catalog.compiled(catalog.ref(version))
    except engine.PolicyError as exc:
        return VersionReport(None, build_error=str(exc))
    day = effective_date or version.effective_date
    # A draft about to be published on a day is checked as it will then be: a published version
    # of that day, which undated scenarios test only when it is the newest.
    as_draft = version.is_draft and effective_date is None
    published = list(
        PolicyVersion.objects.filter(
            policy_id=version.policy_id, status=PolicyVersion.Status.PUBLISHED
        )
        .exclude(pk=version.pk)
        .values_list("effective_date", flat=True)
    )
    published_dates = [d for d in published if d is not None]
    runs, skipped = [], []
    # The version's own scenarios test it whatever their date; the policy's own, by `as_of`.
    own = catalog.scenarios_of_version(version.pk)
    for case in sorted(own, key=lambda c: c.name):
        runs.append(scenarios.run(built, case))
    for case in sorted(catalog.policy_scenarios(version.policy.slug), key=lambda c: c.name):
        if scenarios.applies_to(
            case, effective_date=day, is_draft=as_draft, published_dates=published_dates
        ):
            runs.append(scenarios.run(built, case))
        else:
            skipped.append((case, _why_not(case, day, as_draft)))
    findings = analysis.check(built)
    source = version.based_on if version.is_draft and version.based_on_id else None
    if source is not None:
        # A draft's situations against its source's: list rules left over from another verdict.
        with contextlib.suppress(engine.PolicyError):
            findings += diffing.stale_siblings(catalog.compiled(catalog.ref(source)), built)
    return VersionReport(
        built,
        findings=_errors_first(findings + citations.check(built, catalog.sources_of(built), day)),
        runs=runs,
        skipped=skipped,
        uncovered=scenarios.uncovered_rules(built, runs),
    )


def _errors_first(findings: list[analysis.Finding]) -> list[analysis.Finding]:
    return sorted(findings, key=lambda f: f.severity != analysis.ERROR)


def _why_not(case: scenarios.Scenario, day: dt.date | None, is_draft: bool) -> str:
    if case.as_of is None:
        return "It tests drafts and the newest published version."
    if day is None:
        return (
            f"It tests the version in effect on {case.as_of.isoformat()}; this draft has no "
            "effective date yet."
        )
    if day > case.as_of:
        return f"It tests the version in effect on {case.as_of.isoformat()}, before this one."
    return f"It tests the version in effect on {case.as_of.isoformat()}, a later one."


@transaction.atomic
def version_copy(*, version: PolicyVersion, by: Any = None) -> PolicyVersion:
    """A new, undated draft holding a copy of every record of `version`: questions with their
    choices, outcomes, clauses, rules with the clauses they cite, and its scenarios."""
    draft = PolicyVersion.objects.create(
        policy_id=version.policy_id,
        effective_date=None,
        notes="",
        title=catalog.policy_ref(version).title,
        summary=catalog.policy_ref(version).summary,
        based_on=version,
        created_by=by if getattr(by, "pk", None) else None,
    )
    records.write(version=draft, values=catalog.compiled(catalog.ref(version)))
    Scenario.objects.bulk_create(
        Scenario(
            policy_id=row.policy_id,
            version=draft,
            name=row.name,
            answers=row.answers,
            as_of=row.as_of,
            verdict=row.verdict,
            must_include=row.must_include,
            must_exclude=row.must_exclude,
        )
        for row in Scenario.objects.filter(version=version).order_by("pk")
    )
    return draft


def version_publish(
    *,
    version: PolicyVersion,
    by: Any,
    effective_date: dt.date | None,
    notes: str,
    past_confirmed: bool = True,
) -> PolicyVersion:
    """Publish a draft on `effective_date` with `notes` on what changed, recording who and when.

    Refused (PublishRefused, nothing written) when the version is no longer a draft, another
    version is already published on that date, the checks report an error or a scenario fails.
    Publishing is serialised per policy by locking the policy's row, so of two admins publishing
    at once exactly one succeeds and the other is told why; the database's constraint of one
    published version per date stands behind the lock.

    With `past_confirmed=False` (the admin, until its admin ticks the confirmation) a date on or
    before the version in effect's is refused too (`code="into_the_past"`): it would rewrite what
    applied in the past and reach nobody today. The loader and tests publish history on purpose."""
    if effective_date is None:
        raise PublishRefused(
            "Give the day this version takes effect.", code="required", field="effective_date"
        )
    if not notes.strip():
        raise PublishRefused(
            "Say in a few words what changed in this version.", code="required", field="notes"
        )
    # Edits made where no admin save saw them (the shell, say) clear their items too.
    with contextlib.suppress(VersionLockedError, engine.PolicyError):
        review_items_sync(version=version, by=by)
    with transaction.atomic():
        # Waits here while another publish of this policy is under way.
        list(Policy.objects.select_for_update().filter(pk=version.policy_id).values_list("pk"))
        row = PolicyVersion.objects.select_related("policy").get(pk=version.pk)
        if not row.is_draft:
            raise PublishRefused(f"{row} is already published.", code="already_published")
        taken = PolicyVersion.objects.filter(
            policy_id=row.policy_id,
            status=PolicyVersion.Status.PUBLISHED,
            effective_date=effective_date,
        ).exists()
        if taken:
            raise PublishRefused(
                f"A version taking effect on {effective_date.isoformat()} is already published; "
                "choose another day.",
                code="date_taken",
                field="effective_date",
            )
        if not past_confirmed:
            earlier = into_the_past(row, effective_date)
            if earlier is not None:
                raise PublishRefused(
                    f"{effective_date.isoformat()} is not later than {earlier.version_id}, the "
                    f"date of {earlier}, the version in effect: this version would apply only "
                    "in the past. Choose a later date, or confirm that it goes into the past.",
                    code="into_the_past",
                    field="effective_date",
                )
        # Blocked, not warned: the draft exists to have these read against the page's new
        # text, and publishing unread items would present a quote the page no longer holds as
        # checked. Confirming one unchanged is a click, so the block costs little.
        still_open = list(ReviewItem.objects.filter(version=row, cleared=ReviewItem.Cleared.OPEN))
        if still_open:
            named = ", ".join(str(item) for item in still_open[:5])
            more = f" and {len(still_open) - 5} more" if len(still_open) > 5 else ""
            raise PublishRefused(
                f"{_count(len(still_open), 'item')} to review "
                f"{'is' if len(still_open) == 1 else 'are'} still open ({named}{more}): edit "
                f"{'it' if len(still_open) == 1 else 'them'} in the draft, or confirm "
                f"{'it' if len(still_open) == 1 else 'them'} unchanged on the draft's page.",
                code="open_review_items",
            )
        report = version_report(version=row, effective_date=effective_date)
        if report.build_error:
            raise PublishRefused(
                f"This version cannot be checked: {report.build_error}", code="broken"
            )
        if report.errors:
            named = "; ".join(f"{f.subject}: {f.message}" for f in report.errors[:3])
            more = f"; and {len(report.errors) - 3} more" if len(report.errors) > 3 else ""
            raise PublishRefused(
                f"The checks report {_count(len(report.errors), 'error')} ({named}{more}); fix "
                f"{'it' if len(report.errors) == 1 else 'them'} first.",
                code="check_errors",
            )
        if report.failing:
            names = ", ".join(f"“{run.scenario.name}”" for run in report.failing)
            raise PublishRefused(
                f"{_count(len(report.failing), 'scenario')} "
                f"{'fails' if len(report.failing) == 1 else 'fail'}: {names}.",
                code="scenario_failures",
            )
        row.effective_date = effective_date
        row.notes = notes.strip()
        if not row.title:  # written without one (by hand): it keeps the policy's of today
            row.title, row.summary = row.policy.title, row.summary or row.policy.summary
        row.status = PolicyVersion.Status.PUBLISHED
        row.published_at = timezone.now()
        row.published_by = by if getattr(by, "pk", None) else None
        try:
            with transaction.atomic():
                row.save()
        except (IntegrityError, VersionLockedError):
            raise PublishRefused(
                f"Another version was published on {effective_date.isoformat()} meanwhile.",
                code="date_taken",
                field="effective_date",
            ) from None
        _policy_fields_follow_newest(row.policy_id)
        # Now for this request, and again once committed, for requests that read in between.
        catalog.forget_published_versions()
        transaction.on_commit(catalog.forget_published_versions)
    return row


def _policy_fields_follow_newest(policy_id: int) -> None:
    """The policy's own title and summary are its newest published version's (for the admin's
    lists, a seed's top level and commands); what people see comes from the version in effect."""
    newest = (
        PolicyVersion.objects.filter(policy_id=policy_id, status=PolicyVersion.Status.PUBLISHED)
        .exclude(title="")
        .order_by("-effective_date")
        .values("title", "summary")
        .first()
    )
    if newest is not None:
        Policy.objects.filter(pk=policy_id).update(**newest)


class RenameRefused(Exception):
    """A slug that cannot be given to the policy; `message` says why and what is allowed."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def slug_refusal(slug: str, *, policy: Policy | None) -> RenameRefused | None:
    """Why `slug` cannot be `policy`'s (None for a new policy), or None when it can: the form
    and length of a slug, not another policy's slug now, nor one it had (its old links
    redirect to it)."""
    if not re.fullmatch(r"[-a-zA-Z0-9_]{1,50}", slug):
        return RenameRefused(
            "A slug is 1 to 50 letters, digits, hyphens or underscores, e.g. claude-code.",
            code="invalid_slug",
        )
    others = Policy.objects.filter(slug=slug)
    earlier = PolicySlug.objects.filter(slug=slug)
    if policy is not None:
        others = others.exclude(pk=policy.pk)
        earlier = earlier.exclude(policy=policy)
    if others.exists():
        return RenameRefused(f"Another policy has the slug {slug!r}.", code="slug_taken")
    if earlier.exists():
        return RenameRefused(
            f"{slug!r} was another policy's slug: its old links lead there, so it cannot be "
            "given to this one.",
            code="slug_was_taken",
        )
    return None


@transaction.atomic
def policy_rename(*, policy: Policy, slug: str, by: Any) -> Policy:
    """Give the policy a new slug, keeping the old one as a `PolicySlug`: every old wizard, API,
    history, sources and feed URL then redirects to the same path under the new slug. Renaming
    back to a slug the policy had takes that slug out of the old ones. RenameRefused (nothing
    written) for a slug that is malformed, the same, or another policy's now or before."""
    row = Policy.objects.select_for_update().get(pk=policy.pk)
    if slug == row.slug:
        raise RenameRefused(f"The policy's slug is {slug!r} already.", code="same_slug")
    refusal = slug_refusal(slug, policy=row)
    if refusal is not None:
        raise refusal
    old = row.slug
    PolicySlug.objects.filter(policy=row, slug=slug).delete()
    row.slug = slug
    row.save(update_fields=["slug"])
    PolicySlug.objects.create(
        policy=row, slug=old, renamed_by=by if getattr(by, "pk", None) else None
    )
    # The catalog keeps published versions by slug: every worker must drop the old slug's.
    catalog.forget_published_versions()
    transaction.on_commit(catalog.forget_published_versions)
    policy.slug = slug
    return row


def into_the_past(version: PolicyVersion, effective_date: dt.date) -> PolicyVersion | None:
    """The version in effect today when `effective_date` is not later than its date (publishing
    then changes only the past); None when the date is later, or nothing is in effect."""
    in_effect = version_in_effect_for(version)
    if in_effect is None or in_effect.effective_date is None:
        return None
    if in_effect.effective_date > catalog.today():  # nothing in effect yet: the earliest
        return None
    return in_effect if effective_date <= in_effect.effective_date else None


@dataclass(frozen=True)
class PastEffect:
    """What publishing a version on a past day does: the days it would apply on, the version
    people got on those days before, and that the version in effect today stays."""

    start: dt.date
    end: dt.date | None  # the day the next published version takes effect
    replaces: PolicyVersion | None  # what applied on those days until now; None: nothing did
    in_effect: PolicyVersion


def past_effect(version: PolicyVersion, effective_date: dt.date) -> PastEffect | None:
    in_effect = into_the_past(version, effective_date)
    if in_effect is None:
        return None
    published = list(
        PolicyVersion.objects.filter(
            policy_id=version.policy_id, status=PolicyVersion.Status.PUBLISHED
        )
        .exclude(pk=version.pk)
        .select_related("policy")
    )
    later = sorted(
        (row.effective_date for row in published if row.effective_date > effective_date),
    )
    replaces = engine.in_effect(
        published, effective_date, effective_date=lambda r: r.effective_date
    )
    return PastEffect(effective_date, later[0] if later else None, replaces, in_effect)


@transaction.atomic
def version_withdraw(*, version: PolicyVersion, by: Any, because: str) -> PolicyVersion:
    """Take back a mistaken publish: the version stops applying on any day (the one before it
    applies again), stays frozen and visible, and results saved with it keep working. Recorded
    like a publish: who, when and why."""
    if not because.strip():
        raise PublishRefused(
            "Say in a few words why this version is withdrawn.", code="required", field="because"
        )
    list(Policy.objects.select_for_update().filter(pk=version.policy_id).values_list("pk"))
    row = PolicyVersion.objects.select_related("policy").get(pk=version.pk)
    if row.status != PolicyVersion.Status.PUBLISHED:
        raise PublishRefused(f"{row} is not a published version.", code="not_published")
    # The one write that changes a published row: the lock's queryset refuses updates, so this
    # goes around it on purpose, touching nothing but the status and its record.
    fields = {
        "status": PolicyVersion.Status.WITHDRAWN,
        "withdrawn_at": timezone.now(),
        "withdrawn_by": by if getattr(by, "pk", None) else None,
        "withdrawn_because": because.strip(),
    }
    models.QuerySet.update(PolicyVersion.objects.filter(pk=row.pk), **fields)
    _policy_fields_follow_newest(row.policy_id)
    catalog.forget_published_versions()
    transaction.on_commit(catalog.forget_published_versions)
    row.refresh_from_db()
    return row


def version_in_effect_for(version: PolicyVersion) -> PolicyVersion | None:
    """The published version other than `version` that people get today (for the impact of
    publishing `version`); before the first one takes effect, the earliest. None when nothing is
    published."""
    published = list(
        PolicyVersion.objects.filter(
            policy_id=version.policy_id, status=PolicyVersion.Status.PUBLISHED
        )
        .exclude(pk=version.pk)
        .select_related("policy")
        .order_by("effective_date")
    )
    in_effect = engine.in_effect(
        published, catalog.today(), effective_date=lambda row: row.effective_date
    )
    return in_effect or (published[0] if published else None)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


# --- snapshots ------------------------------------------------------------------------------------


class SnapshotRefused(Exception):
    """Nothing was stored; the message says why."""


# Tracking parameters in bare URLs are no more a change of the page than link targets are
# (which `quotes.normalise` drops).
_TRACKING = re.compile(r"([?&])(?:utm_[a-z]+|gclid|fbclid|mc_[a-z]+|ref_src)=[^&\s)\]>\"']*&?")


def comparable(text: str) -> str:
    """The form in which two copies of a page are the same page: `quotes.normalise` of the text
    without tracking parameters."""
    return quotes.normalise(_TRACKING.sub(r"\1", text))


def document_for(name: str) -> SourceDocument:
    """A document by key, by the URL clauses cite, or by one of its earlier URLs."""
    found = SourceDocument.objects.filter(Q(key=name) | Q(url=name)).first()
    if found is None and is_web_url(name):
        found = next(
            (d for d in SourceDocument.objects.all() if name in (d.other_urls or [])), None
        )
    if found is None:
        raise SnapshotRefused(
            f"No source document {name!r}; give a document's key or the URL its clauses cite."
        )
    return found


@dataclass(frozen=True)
class SnapshotResult:
    snapshot: Snapshot | None  # None: the text is that of the copy before it
    unchanged_since: dt.date | None = None
    replaced: bool = False


def snapshot_record(
    *,
    document: SourceDocument,
    text: str,
    date: dt.date,
    by: Any = None,
    note: str = "",
    provenance: dict[str, Any] | None = None,
    replace: bool = False,
) -> SnapshotResult:
    """Store a page's text as seen on `date`, unless it is the same page as the latest copy on
    or before that date (then nothing is stored). A second copy on one date replaces the first
    only with `replace`. SnapshotRefused, nothing written, otherwise."""
    if date > today():
        raise SnapshotRefused(f"{date.isoformat()} is in the future; give the day it was seen.")
    if not text.strip():
        raise SnapshotRefused("The text is empty.")
    with transaction.atomic():
        earlier = (
            Snapshot.objects.select_for_update()
            .filter(document=document, date__lte=date)
            .order_by("-date")
            .first()
        )
        if earlier is not None and comparable(earlier.text) == comparable(text):
            return SnapshotResult(None, unchanged_since=earlier.date)
        fields = {
            "text": text,
            "sha256": sha256_of(text),
            "note": note.strip(),
            "provenance": provenance or {},
            "recorded_by": by if getattr(by, "pk", None) else None,
            "recorded_at": timezone.now(),
        }
        if earlier is not None and earlier.date == date:
            if not replace:
                raise SnapshotRefused(
                    f"{document.key} already has a copy of {date.isoformat()}; replace it with "
                    "--replace (in the admin: tick “replace”)."
                )
            for name, value in fields.items():
                setattr(earlier, name, value)
            earlier.save()
            return SnapshotResult(earlier, replaced=True)
        return SnapshotResult(Snapshot.objects.create(document=document, date=date, **fields))


def today() -> dt.date:
    return catalog.today()


class ReviewRefused(Exception):
    """The finding cannot be marked reviewed; the message says why."""


def drift_review(
    *, version: PolicyVersion, clause: str, since: dt.date, note: str, by: Any
) -> DriftReview:
    """Record that an admin read the page where it no longer holds a clause's quote and found the
    meaning unchanged. Only for a finding `check_sources` reports; every worker's results show it
    on their next request."""
    if not note.strip():
        raise ReviewRefused("Say what changed on the page and why the clause still holds.")
    findings = catalog.drift_findings(version.policy.slug, version.version_id)
    if not any(f.clause == clause and f.since == since for f in findings):
        raise ReviewRefused(f"{version} has no drift of {clause} since {since.isoformat()}.")
    try:
        with transaction.atomic():
            review = DriftReview.objects.create(
                version=version,
                clause=clause,
                since=since,
                note=note.strip(),
                reviewed_by=by if getattr(by, "pk", None) else None,
                reviewed_at=timezone.now(),
            )
    except IntegrityError:
        raise ReviewRefused("This finding is already reviewed.") from None
    catalog.forget_published_versions()
    transaction.on_commit(catalog.forget_published_versions)
    return review


# --- review of a draft made from drift findings -----------------------------------------------


def draft_from_findings(
    *, version: PolicyVersion, findings: list[catalog.DriftFinding], by: Any = None
) -> PolicyVersion:
    """A new draft copied from `version` whose items to review are each finding's clause and
    every rule citing it, each with the finding that caused it. The copy's records and the
    items are written together, or neither is."""
    if not findings:
        raise ReviewRefused("Choose at least one drift finding to start a draft from.")
    with transaction.atomic():
        draft = version_copy(version=version, by=by)
        built = catalog.compiled(catalog.ref(draft))
        items: dict[tuple[str, str, str], ReviewItem] = {}
        for finding in findings:
            wanted = [(ReviewItem.Kind.CLAUSE, finding.clause)]
            wanted += [(ReviewItem.Kind.RULE, key) for key in finding.rules]
            for kind, key in wanted:
                values = _review_values(built, kind, key)
                if values is None or (kind, key, finding.clause) in items:
                    continue
                items[kind, key, finding.clause] = ReviewItem(
                    version=draft,
                    kind=kind,
                    key=key,
                    clause=finding.clause,
                    finding_version=finding.version,
                    status=finding.status,
                    since=finding.since,
                    closest=finding.closest,
                    similarity=finding.similarity,
                    as_made=values,
                )
        ReviewItem.objects.bulk_create(items.values())
        listed = "; ".join(
            f"{f.clause} ({f.status} since {f.since.isoformat()}; rules {', '.join(f.rules)})"
            for f in findings
        )
        draft.notes = f"To review against the pages' new text (the checklist): {listed}."
        draft.save(update_fields=["notes"])
    return draft


def _review_values(built: engine.Version, kind: str, key: str) -> dict[str, Any] | None:
    """What an edit of the item changes: a clause's quote and the date of the copy it quotes;
    a rule's conditions, outcome, reason and clauses (not its place in the table: moving a rule
    says nothing about its words). None when the draft no longer has it."""
    if kind == ReviewItem.Kind.CLAUSE:
        clause = built.clause(key)
        return None if clause is None else {"quote": clause.quote, "version": clause.version}
    rule = next((r for r in built.rules if r.key == key), None)
    if rule is None:
        return None
    return {
        "conditions": {q: sorted(choices) for q, choices in sorted(rule.conditions)},
        "outcome": [rule.table, rule.outcome],
        "reason": rule.reason,
        "clauses": sorted(rule.clauses),
    }


def review_items_sync(
    *, version: PolicyVersion, by: Any = None, built: engine.Version | None = None
) -> list[ReviewItem]:
    """Clear the open items of a draft that the draft has changed (or removed) since it was
    made, recording who saved it and when; the items cleared. One query when none is open."""
    still_open = list(ReviewItem.objects.filter(version=version, cleared=ReviewItem.Cleared.OPEN))
    if not still_open:
        return []
    if built is None:
        built = catalog.compiled(catalog.ref(version))
    now = timezone.now()
    edited = []
    for item in still_open:
        if _review_values(built, item.kind, item.key) != item.as_made:
            item.cleared = ReviewItem.Cleared.EDITED
            item.cleared_by = by if getattr(by, "pk", None) else None
            item.cleared_at = now
            edited.append(item)
    if edited:
        ReviewItem.objects.bulk_update(edited, ["cleared", "cleared_by", "cleared_at"])
    return edited


def review_item_confirm(*, item: ReviewItem, by: Any) -> ReviewItem:
    """An admin read the item against the page's new text and found nothing to change: cleared
    as "confirmed unchanged", with who and when. Refused once cleared, or once published."""
    with transaction.atomic():
        row = ReviewItem.objects.select_for_update().select_related("version").get(pk=item.pk)
        if not row.version.is_draft:
            raise ReviewRefused(f"{row.version} is published; its review is closed.")
        if not row.is_open:
            raise ReviewRefused(f"{row} is already cleared ({row.get_cleared_display().lower()}).")
        row.cleared = ReviewItem.Cleared.CONFIRMED
        row.cleared_by = by if getattr(by, "pk", None) else None
        row.cleared_at = timezone.now()
        row.save(update_fields=["cleared", "cleared_by", "cleared_at"])
    return row
