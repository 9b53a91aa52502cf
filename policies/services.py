"""Writes of the policy app, and the report that decides whether a draft may be published.

Each write that touches several rows is one keyword-only function in a transaction:
`version_copy` (a new draft from any version) and `version_publish` (checks, then publishes).
`version_report` only reads: the static checks, the scenarios that test the version, and the
rules no scenario exercises. The admin shows it on every view and save of a version, and
`version_publish` refuses while it reports an error or a failing scenario.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from . import analysis, engine, scenarios
from . import compile as policy_compile
from .compile import forget_published_versions
from .models import (
    Choice,
    Clause,
    Outcome,
    Policy,
    PolicyVersion,
    Question,
    Rule,
    Scenario,
    VersionLockedError,
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


def scenario_cases(policy: Policy) -> list[scenarios.Scenario]:
    return [
        scenarios.Scenario(
            name=s.name,
            answers=dict(s.answers) if isinstance(s.answers, dict) else {},
            verdict=s.verdict,
            includes=tuple(s.must_include or ()),
            excludes=tuple(s.must_exclude or ()),
            as_of=s.as_of,
        )
        for s in Scenario.objects.filter(policy=policy).order_by("name")
    ]


def version_report(
    *, version: PolicyVersion, effective_date: dt.date | None = None
) -> VersionReport:
    """Static checks and scenarios for `version`; `effective_date` overrides its own (the date
    a draft is about to be published with)."""
    try:
        built = policy_compile.compiled(version)
    except engine.PolicyError as exc:
        return VersionReport(None, build_error=str(exc))
    day = effective_date or version.effective_date
    published = list(
        PolicyVersion.objects.filter(
            policy_id=version.policy_id, status=PolicyVersion.Status.PUBLISHED
        )
        .exclude(pk=version.pk)
        .values_list("effective_date", flat=True)
    )
    published_dates = [d for d in published if d is not None]
    runs, skipped = [], []
    for case in scenario_cases(version.policy):
        if scenarios.applies_to(
            case, effective_date=day, is_draft=version.is_draft, published_dates=published_dates
        ):
            runs.append(scenarios.run(built, case))
        else:
            skipped.append((case, _why_not(case, day, version.is_draft)))
    return VersionReport(
        built,
        findings=analysis.check(built),
        runs=runs,
        skipped=skipped,
        uncovered=scenarios.uncovered_rules(built, runs),
    )


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
    choices, outcomes, clauses, and rules with the clauses they cite."""
    draft = PolicyVersion.objects.create(
        policy_id=version.policy_id,
        effective_date=None,
        notes="",
        based_on=version,
        created_by=by if getattr(by, "pk", None) else None,
    )
    questions = list(Question.objects.filter(version=version).order_by("order", "pk"))
    copies = Question.objects.bulk_create(
        Question(
            version=draft,
            key=q.key,
            text=q.text,
            help=q.help,
            order=q.order,
            shown_when=q.shown_when,
        )
        for q in questions
    )
    question_ids = {old.pk: new.pk for old, new in zip(questions, copies, strict=True)}
    Choice.objects.bulk_create(
        Choice(
            question_id=question_ids[c.question_id],
            key=c.key,
            label=c.label,
            help=c.help,
            order=c.order,
        )
        for c in Choice.objects.filter(question__version=version).order_by("pk")
    )
    outcomes = list(Outcome.objects.filter(version=version).order_by("pk"))
    outcome_copies = Outcome.objects.bulk_create(
        Outcome(
            version=draft,
            kind=o.kind,
            key=o.key,
            title=o.title,
            text=o.text,
            detail=o.detail,
            order=o.order,
        )
        for o in outcomes
    )
    outcome_ids = {old.pk: new.pk for old, new in zip(outcomes, outcome_copies, strict=True)}
    clauses = list(Clause.objects.filter(version=version).order_by("pk"))
    clause_copies = Clause.objects.bulk_create(
        Clause(
            version=draft,
            key=c.key,
            quote=c.quote,
            url=c.url,
            source_title=c.source_title,
            source_version=c.source_version,
        )
        for c in clauses
    )
    clause_ids = {old.pk: new.pk for old, new in zip(clauses, clause_copies, strict=True)}
    rules = list(Rule.objects.filter(version=version).order_by("pk"))
    rule_copies = Rule.objects.bulk_create(
        Rule(
            version=draft,
            key=r.key,
            priority=r.priority,
            conditions=r.conditions,
            outcome_id=outcome_ids[r.outcome_id],
            reason=r.reason,
        )
        for r in rules
    )
    rule_ids = {old.pk: new.pk for old, new in zip(rules, rule_copies, strict=True)}
    links = Rule.clauses.through.objects.filter(rule__version=version).order_by("pk")
    Rule.clauses.through.objects.bulk_create(
        Rule.clauses.through(rule_id=rule_ids[link.rule_id], clause_id=clause_ids[link.clause_id])
        for link in links
    )
    return draft


def version_publish(
    *, version: PolicyVersion, by: Any, effective_date: dt.date | None, notes: str
) -> PolicyVersion:
    """Publish a draft on `effective_date` with `notes` on what changed, recording who and when.

    Refused (PublishRefused, nothing written) when the version is no longer a draft, another
    version is already published on that date, the checks report an error or a scenario fails.
    Publishing is serialised per policy by locking the policy's row, so of two admins publishing
    at once exactly one succeeds and the other is told why; the database's constraint of one
    published version per date stands behind the lock."""
    if effective_date is None:
        raise PublishRefused(
            "Give the day this version takes effect.", code="required", field="effective_date"
        )
    if not notes.strip():
        raise PublishRefused(
            "Say in a few words what changed in this version.", code="required", field="notes"
        )
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
        report = version_report(version=row, effective_date=effective_date)
        if report.build_error:
            raise PublishRefused(
                f"This version cannot be checked: {report.build_error}", code="broken"
            )
        if report.errors:
            raise PublishRefused(
                f"The checks report {_count(len(report.errors), 'error')}; fix "
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
        # Now for this request, and again once committed, for requests that read in between.
        forget_published_versions()
        transaction.on_commit(forget_published_versions)
    return row


def version_in_effect_for(version: PolicyVersion) -> PolicyVersion | None:
    """The published version that people get today (for the impact of publishing `version`);
    before the first one takes effect, the earliest. None when nothing is published."""
    published = PolicyVersion.objects.filter(
        policy_id=version.policy_id, status=PolicyVersion.Status.PUBLISHED
    ).exclude(pk=version.pk)
    return (
        published.filter(effective_date__lte=timezone.localdate())
        .order_by("-effective_date")
        .select_related("policy")
        .first()
        or published.order_by("effective_date").select_related("policy").first()
    )


def version_as_of(*, candidate: PolicyVersion, as_of: dt.date | None) -> PolicyVersion:
    """The version people would get on `as_of` if `candidate` (usually a draft) were published
    on its effective date: for a staff preview "as of" a date. Without a date, the candidate
    itself. Otherwise the same rule as the scenarios (`scenarios.applies_to`): the candidate from
    its effective date until a later published version takes over; an undated draft stands for
    no date. Raises `compile.AsOfError` when nothing is in effect on that day."""
    if as_of is None:
        return candidate
    published_dates = list(
        PolicyVersion.objects.filter(
            policy_id=candidate.policy_id, status=PolicyVersion.Status.PUBLISHED
        )
        .exclude(pk=candidate.pk)
        .values_list("effective_date", flat=True)
    )
    probe = scenarios.Scenario(name="", answers={}, as_of=as_of)
    if scenarios.applies_to(
        probe,
        effective_date=candidate.effective_date,
        is_draft=candidate.is_draft,
        published_dates=[day for day in published_dates if day is not None],
    ):
        return candidate
    try:
        return policy_compile.version_in_effect(candidate.policy.slug, as_of)
    except policy_compile.PolicyNotFound:
        raise policy_compile.AsOfError(
            f"Nothing of {candidate.policy.slug} is in effect on {as_of.isoformat()}."
        ) from None


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
