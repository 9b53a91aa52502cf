"""The one door to policy records for pages, the API, saved results and commands.

It hands out what callers may show of a version as a frozen `VersionRef` (never a model row) and
the compiled `engine.Version` for it, and it owns the one rule for the version in effect
(`engine.in_effect`): on `as_of` or today, published versions only, drafts only when a staff
preview asks for them by primary key. Its errors carry no HTTP status: `LookupFailed` (unknown
policy or version) and `InputRefused` (a bad `as_of`, bad answers) each hold their messages keyed
by field, and the API, the CLI and the pages map them to 404 and 400, exit 2, or a page.

The admin and the writes of `services.py` read and write records directly; everything that shows a
policy to the public comes through here.

Caching, per process: a published version never changes (models.py refuses every write to it), so
its compiled form is kept by primary key for good; drafts are rebuilt on every call so that staff
previews show the latest edit. The list of each policy's published versions is kept for
`POLICY_VERSIONS_CACHE_SECONDS` (it is kept by slug, which a rename moves, and a publish in
another process must show up). A publish, a withdrawal or a rename of a policy bumps
a generation counter in the default cache (`forget_published_versions`): with a shared cache
(Redis) every worker on every host sees the change on its next request; with local memory, its
own process at once and the others within the TTL. A cache that is down costs nothing but that:
the TTL still bounds the delay.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, F, OuterRef, Prefetch, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from . import citations, engine, quotes, records, scenarios
from .loading import DocumentDoc, ReviewDoc, SnapshotDoc
from .models import (
    DriftReview,
    Policy,
    PolicySlug,
    PolicyVersion,
    Scenario,
    Snapshot,
    SourceDocument,
)

# --- errors ---------------------------------------------------------------------------------------


# However much bad input comes in, the errors that answer it stay small: a few dozen fields, each
# name and message cut to a readable length, and any text a JSON encoder cannot write (a lone
# surrogate, say) escaped rather than crashing the response.
MAX_ERRORS = 20
MAX_FIELD_CHARS = 80
MAX_MESSAGE_CHARS = 500
MORE_ERRORS = "more"


def bounded_errors(errors: Mapping[Any, Any]) -> dict[str, str]:
    """`errors` as at most MAX_ERRORS entries of short, encodable text; the rest counted under
    the key "more"."""
    already_bounded = len(errors) == MAX_ERRORS + 1 and MORE_ERRORS in errors
    bounded: dict[str, str] = {}
    for field, message in errors.items():
        if len(bounded) == MAX_ERRORS and not already_bounded:
            left = len(errors) - MAX_ERRORS
            bounded[MORE_ERRORS] = f"{left} more error{'s' if left != 1 else ''} not shown."
            break
        bounded[_clip(_encodable(str(field)), MAX_FIELD_CHARS)] = _clip(
            _encodable(str(message)), MAX_MESSAGE_CHARS
        )
    return bounded


def _encodable(text: str) -> str:
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class CatalogError(Exception):
    """A request the catalog cannot answer; `errors` maps the field at fault to a message that
    names what is allowed (bounded in number and size, see `bounded_errors`)."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = bounded_errors(errors)
        super().__init__("; ".join(self.errors.values()))


class LookupFailed(CatalogError, LookupError):
    """Nothing by that name: an unknown policy, or a version it does not have."""


class InputRefused(CatalogError, ValueError):
    """Input that cannot be answered: a malformed date, answers that do not fit the version."""


class PolicyNotFound(LookupFailed):
    def __init__(self, slug: str) -> None:
        super().__init__({"policy": f"Unknown policy {slug!r}."})
        self.slug = slug


class VersionNotFound(LookupFailed):
    def __init__(self, version: object) -> None:
        super().__init__({"version": f"No such version: {version!r}."})


class AsOfError(InputRefused):
    """`as_of` is not a date, or nothing of the policy is in effect on it."""

    def __init__(self, message: str) -> None:
        super().__init__({"as_of": message})
        self.message = message


class AnswersRefused(InputRefused):
    """Answers naming unknown questions or choices, or of the wrong type; keyed by question."""


# --- what pages may show of a version -------------------------------------------------------------


@dataclass(frozen=True)
class PolicyRef:
    slug: str
    title: str
    summary: str


@dataclass(frozen=True)
class VersionRef:
    """One version as pages, the API and results may show it."""

    pk: int
    policy: PolicyRef
    version_id: str  # the effective date written YYYY-MM-DD; empty for an undated draft
    effective_date: dt.date | None
    is_draft: bool
    notes: str  # what changed, in the admin's words
    status: str = "published"  # "draft", "published" or "withdrawn" (a publish taken back)

    def __str__(self) -> str:
        label = self.version_id or "undated"
        return f"{self.policy.slug} {label}" + (" (draft)" if self.is_draft else "")


@dataclass(frozen=True)
class PolicyListing:
    """A policy with its published versions, newest first."""

    policy: PolicyRef
    versions: tuple[VersionRef, ...]

    def in_effect(self, day: dt.date | None = None) -> VersionRef | None:
        return _in_effect(self.versions, day or today())


def _listing(versions: tuple[VersionRef, ...]) -> PolicyListing:
    """A policy is named as the version in effect names it (before its first version takes
    effect: as that first version does)."""
    shown = _in_effect(versions, today()) or versions[-1]
    return PolicyListing(shown.policy, versions)


def policy_ref(row: PolicyVersion) -> PolicyRef:
    """The policy as this version shows it: the title and summary the version carries (a row
    written without them, by hand or by older code, shows the policy's own)."""
    if row.title:
        return PolicyRef(slug=row.policy.slug, title=row.title, summary=row.summary)
    return PolicyRef(slug=row.policy.slug, title=row.policy.title, summary=row.policy.summary)


def ref(row: PolicyVersion) -> VersionRef:
    """The VersionRef of a row read elsewhere (a saved result's version, say)."""
    return VersionRef(
        pk=row.pk,
        policy=policy_ref(row),
        version_id=row.version_id,
        effective_date=row.effective_date,
        is_draft=row.is_draft,
        notes=row.notes,
        status=str(row.status),
    )


# --- the version in effect ------------------------------------------------------------------------


def today() -> dt.date:
    """The day "in effect" means, in the project's time zone."""
    return timezone.localdate()


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_date(value: object, field: str) -> dt.date | None:
    """None for no date; a date written exactly YYYY-MM-DD (not 20260822, not 2026-W34-6, which
    `date.fromisoformat` also reads); or AsOfError naming what is allowed. An empty string is an
    error, not "today": leave the field out (or send null) for today."""
    if value is None:
        return None
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."
    raise AsOfError(f"{field} must be a date written YYYY-MM-DD, not {shown}.")


def parse_as_of(value: object) -> dt.date | None:
    return parse_date(value, "as_of")


def _in_effect(versions: Sequence[VersionRef], day: dt.date) -> VersionRef | None:
    return engine.in_effect(versions, day, effective_date=lambda v: v.effective_date)


def version_in_effect(slug: str, as_of: dt.date | None = None) -> VersionRef:
    """The published version in effect on `as_of` (default today). At most one query, and none
    while the policy's published versions are cached. PolicyNotFound when nothing of the policy is
    published; AsOfError when its first version takes effect later."""
    day = as_of or today()
    versions = published_versions(slug)
    if not versions:
        raise PolicyNotFound(slug)
    found = _in_effect(versions, day)
    if found is None:
        raise AsOfError(
            f"as_of {day.isoformat()} is before the first version of {slug}, "
            f"which took effect on {versions[-1].version_id}."
        )
    return found


def version_as_of(*, candidate: VersionRef, as_of: dt.date | None) -> VersionRef:
    """For a staff preview "as of" a day: the version people would get on `as_of` if `candidate`
    (usually a draft) were published on its effective date. Without a day, the candidate itself.
    An undated draft stands for no day. AsOfError when nothing is in effect then."""
    if as_of is None:
        return candidate
    others = [
        v
        for v in published_versions(candidate.policy.slug)
        if v.pk != candidate.pk and v.effective_date != candidate.effective_date
    ]
    found = _in_effect([candidate, *others], as_of)
    if found is None:
        raise AsOfError(f"Nothing of {candidate.policy.slug} is in effect on {as_of.isoformat()}.")
    return found


# --- lookups --------------------------------------------------------------------------------------

_compiled: dict[int, engine.Version] = {}
# slug -> (expires at, generation seen, versions)
_published: dict[str, tuple[float, int | None, tuple[VersionRef, ...]]] = {}
# version pk -> (expires at, generation seen, reworded clauses), see `reworded`
_reworded: dict[int, tuple[float, int | None, dict[str, list[dict[str, str]]]]] = {}
_lock = threading.Lock()

GENERATION_KEY = "policies.catalog:generation"
logger = logging.getLogger(__name__)


# After the cache fails, this process stops asking it for this long: an outage (a Redis that is
# stopped or hangs) costs one request one timeout, not every request, and one warning.
CACHE_RETRY_SECONDS = 5.0
_cache_down_until = 0.0


def _cache_failed(exc: Exception, what: str) -> None:
    global _cache_down_until
    _cache_down_until = time.monotonic() + CACHE_RETRY_SECONDS
    logger.warning(
        "The cache failed (%s: %s); for %.0f s %s.",
        type(exc).__name__,
        exc,
        CACHE_RETRY_SECONDS,
        what,
    )


def _generation() -> int | None:
    """The shared count of publishes (None when the cache cannot say)."""
    if time.monotonic() < _cache_down_until:
        return None
    try:
        value = cache.get(GENERATION_KEY)
    except Exception as exc:  # the cache is down: fall back on the TTL alone
        _cache_failed(exc, "published versions rely on their TTL alone")
        return None
    return value if isinstance(value, int) else 0


def published_versions(slug: str) -> tuple[VersionRef, ...]:
    """The policy's published versions, newest first (empty for an unknown policy)."""
    now = time.monotonic()
    generation = _generation()
    cached = _published.get(slug)
    if cached is not None and cached[0] > now and cached[1] == generation:
        return cached[2]
    rows = list(
        PolicyVersion.objects.filter(policy__slug=slug, status=PolicyVersion.Status.PUBLISHED)
        .select_related("policy")
        .annotate(review_count=_review_count())
        .order_by("-effective_date")
    )
    versions = tuple(ref(row) for row in rows)
    ttl = settings.POLICY_VERSIONS_CACHE_SECONDS
    if versions and ttl > 0:  # unknown slugs are not kept, so junk requests cannot grow the cache
        with _lock:
            _published[slug] = (now + ttl, generation, versions)
            # A version without reviewed drift needs no query for it on a result page.
            for row in rows:
                if not row.review_count:
                    _reworded[row.pk] = (now + ttl, generation, {})
    return versions


def _review_count() -> Coalesce:
    """The number of reviewed drift findings of each version, in the same query."""
    return Coalesce(
        Subquery(
            DriftReview.objects.filter(version=OuterRef("pk"))
            .order_by()
            .values("version")
            .annotate(count=Count("pk"))
            .values("count")[:1]
        ),
        0,
    )


def forget_published_versions() -> None:
    """Call after publishing (or withdrawing, or renaming a policy): this process forgets the
    lists at once, and every process sharing the cache on its next request."""
    with _lock:
        _published.clear()
        _reworded.clear()
    if time.monotonic() < _cache_down_until:
        return
    try:
        cache.add(GENERATION_KEY, 0, timeout=None)  # atomic: of two first publishes, one adds
        try:
            cache.incr(GENERATION_KEY)  # atomic in Redis
        except ValueError:  # evicted in between
            cache.set(GENERATION_KEY, 1, timeout=None)
    except Exception as exc:
        _cache_failed(exc, "other workers see publishes within the TTL")


def clear_cache() -> None:
    global _cache_down_until
    with _lock:
        _compiled.clear()
        _published.clear()
        _reworded.clear()
        _impacts.clear()
        _cache_down_until = 0.0


def published_policies() -> list[PolicyListing]:
    """Policies with at least one published version, by title. Two queries."""
    versions = PolicyVersion.objects.filter(status=PolicyVersion.Status.PUBLISHED).order_by(
        "-effective_date"
    )
    policies = (
        Policy.objects.filter(versions__status=PolicyVersion.Status.PUBLISHED)
        .distinct()
        .order_by("title")
        .prefetch_related(Prefetch("versions", queryset=versions, to_attr="published"))
    )
    listings = []
    for policy in policies:
        for row in policy.published:
            row.policy = policy  # read above: no query per version for it
        listings.append(_listing(tuple(ref(row) for row in policy.published)))
    # By the title people see, which the version in effect gives.
    return sorted(listings, key=lambda listing: listing.policy.title)


def published_policy(slug: str) -> PolicyListing:
    """One policy with its published versions; PolicyNotFound when none is published."""
    versions = published_versions(slug)
    if not versions:
        raise PolicyNotFound(slug)
    return _listing(versions)


def version_by_pk(pk: int, *, include_drafts: bool = False) -> VersionRef:
    """A version by primary key; drafts only when asked for (staff previews). One query."""
    rows = PolicyVersion.objects.select_related("policy")
    if not include_drafts:
        rows = rows.filter(status=PolicyVersion.Status.PUBLISHED)
    row = rows.filter(pk=pk).first()
    if row is None:
        raise VersionNotFound(pk)
    return ref(row)


def published_version(slug: str, pk: int) -> VersionRef:
    """A published version of `slug` by primary key, as the wizard pins it. No query while the
    policy's published versions are cached; one when the version is not among them (published in
    another process within the cache's few seconds, or of another policy: the caller checks the
    slug). VersionNotFound for a draft or a gone version."""
    for version in published_versions(slug):
        if version.pk == pk:
            return version
    return version_by_pk(pk)


def version_by_id(slug: str, version_id: str, *, include_drafts: bool = False) -> VersionRef:
    """A version by its id (the effective date). Drafts only when asked for (staff), and then a
    draft of that date wins over the published version."""
    try:
        day = parse_date(version_id, "version")
    except AsOfError:
        raise VersionNotFound(version_id) from None
    rows = PolicyVersion.objects.select_related("policy").filter(
        policy__slug=slug, effective_date=day
    )
    if not include_drafts:
        rows = rows.filter(status=PolicyVersion.Status.PUBLISHED)
    row = rows.order_by("status").first()  # "draft" < "published"
    if row is None:
        raise VersionNotFound(version_id)
    return ref(row)


def versions(slug: str) -> tuple[VersionRef, ...]:
    """Every version of a policy, drafts included (for commands and staff), by effective date,
    undated drafts last, a draft before the published version of its date. PolicyNotFound when
    there is no such policy."""
    rows = list(
        PolicyVersion.objects.filter(policy__slug=slug)
        .select_related("policy")
        .order_by(F("effective_date").asc(nulls_last=True), "status", "pk")
    )
    if not rows and not Policy.objects.filter(slug=slug).exists():
        raise PolicyNotFound(slug)
    return tuple(ref(row) for row in rows)


def moved_to(slug: str) -> str | None:
    """The slug now of a policy that had `slug` before a rename, or None (never renamed, or no
    such slug). One query; asked only where a slug found nothing (a 404 on its way out)."""
    return PolicySlug.objects.filter(slug=slug).values_list("policy__slug", flat=True).first()


def errors_naming_new_slug(slug: str, error: CatalogError) -> dict[str, str]:
    """`error`'s fields, and where the policy was renamed, its slug now (for the commands, whose
    users have no redirect to follow; one query more, on failure only)."""
    errors = dict(error.errors)
    now = moved_to(slug) if isinstance(error, PolicyNotFound) else None
    if now:
        errors["policy"] = f"Unknown policy {slug!r}: it was renamed to {now!r}; use that."
    return errors


def policy(slug: str) -> PolicyRef:
    """A policy, published or not (commands); PolicyNotFound when there is none."""
    row = Policy.objects.filter(slug=slug).first()
    if row is None:
        raise PolicyNotFound(slug)
    return PolicyRef(slug=row.slug, title=row.title, summary=row.summary)


def scenarios_of(slug: str) -> list[scenarios.Scenario]:
    """The policy's scenarios, in the order they were written: its own and its versions', one
    per name (a name in several versions, the copy of the newest version that has it, drafts
    counting as newest), as the YAML seed lists them."""
    rows = list(Scenario.objects.filter(policy__slug=slug).select_related("version").order_by("pk"))

    def recency(row: Scenario) -> tuple[int, dt.date, int]:
        version = row.version
        if version is None:
            return (0, dt.date.min, 0)
        if version.is_draft:
            return (2, version.effective_date or dt.date.max, version.pk)
        return (1, version.effective_date or dt.date.min, version.pk)

    chosen: dict[str, Scenario] = {}
    first_seen: dict[str, int] = {}
    for row in rows:
        first_seen.setdefault(row.name, row.pk)
        if row.name not in chosen or recency(row) > recency(chosen[row.name]):
            chosen[row.name] = row
    return [_scenario(chosen[name]) for name in sorted(chosen, key=first_seen.__getitem__)]


def scenarios_of_version(pk: int) -> list[scenarios.Scenario]:
    """The scenarios that belong to one version, in the order they were written."""
    return [_scenario(s) for s in Scenario.objects.filter(version_id=pk).order_by("pk")]


def policy_scenarios(slug: str) -> list[scenarios.Scenario]:
    """The scenarios of the policy that belong to no version (their `as_of` picks versions)."""
    return [
        _scenario(s)
        for s in Scenario.objects.filter(policy__slug=slug, version__isnull=True).order_by("pk")
    ]


def _scenario(s: Scenario) -> scenarios.Scenario:
    return scenarios.Scenario(
        name=s.name,
        answers=dict(s.answers) if isinstance(s.answers, dict) else {},
        verdict=s.verdict,
        includes=tuple(s.must_include or ()),
        excludes=tuple(s.must_exclude or ()),
        as_of=s.as_of,
    )


def compiled(version: VersionRef) -> engine.Version:
    """The engine's form of a version: built once per published version, every time for drafts."""
    if version.is_draft:
        return _build(version)
    cached = _compiled.get(version.pk)
    if cached is None:
        built = _build(version)
        with _lock:
            cached = _compiled.setdefault(version.pk, built)
    return cached


def _build(version: VersionRef) -> engine.Version:
    return records.build_by_pk(
        version.pk, policy=version.policy.slug, version_id=version.version_id
    )


# --- evaluating -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Evaluation:
    version: VersionRef
    engine_version: engine.Version
    decision: engine.Decision


def evaluate(slug: str, answers: object, as_of: object = None) -> Evaluation:
    """Evaluate answers on the version of `slug` in effect on `as_of` (default today). Reads only.
    Raises AsOfError, PolicyNotFound, or AnswersRefused naming each bad answer's question; answers
    that are merely incomplete are not an error (the decision says what to ask next)."""
    version = version_in_effect(slug, parse_as_of(as_of))
    engine_version = compiled(version)
    if not isinstance(answers, Mapping):
        raise AnswersRefused(engine.validate(engine_version, answers))
    # The engine validates before it walks, so an unknown question or choice is reported even
    # when the answers are also incomplete.
    decision = engine.evaluate(engine_version, answers)
    if decision.errors:
        raise AnswersRefused(decision.errors)
    return Evaluation(version, engine_version, decision)


# --- sources --------------------------------------------------------------------------------------


def sources(keys: Iterable[str] | None = None) -> dict[str, citations.Source]:
    """Source documents (those named, or all) with their snapshots, each page prepared once for
    the quote check. Two queries."""
    documents = SourceDocument.objects.all()
    if keys is not None:
        documents = documents.filter(key__in=set(keys))
    rows = list(documents)
    texts: dict[int, list[tuple[dt.date, str]]] = {row.pk: [] for row in rows}
    for document_id, day, text in Snapshot.objects.filter(document__in=rows).values_list(
        "document_id", "date", "text"
    ):
        texts[document_id].append((day, text))
    return {
        row.key: citations.Source.of(row.key, row.kind, row.title, texts[row.pk]) for row in rows
    }


def sources_of(version: engine.Version) -> dict[str, citations.Source]:
    return sources({c.document for c in version.clauses if c.document})


def documents_for_export(keys: Iterable[str]) -> list[DocumentDoc]:
    """The documents named, with every snapshot, in the seed format's terms."""
    rows = SourceDocument.objects.filter(key__in=set(keys)).prefetch_related(
        Prefetch("snapshots", queryset=Snapshot.objects.order_by("date"))
    )
    return [
        DocumentDoc(
            key=row.key,
            url=row.url,
            title=row.title,
            kind=row.kind,
            other_urls=tuple(row.other_urls or ()),
            snapshots=tuple(
                SnapshotDoc(
                    date=s.date,
                    text=s.text,
                    sha256=s.sha256,
                    note=s.note,
                    provenance=dict(s.provenance or {}),
                )
                for s in row.snapshots.all()
            ),
        )
        for row in rows
    ]


@dataclass(frozen=True)
class Review:
    since: dt.date
    verdict: str
    note: str
    by: str  # the reviewer's user name, "" when loaded from a seed
    at: dt.datetime

    def payload(self) -> dict[str, Any]:
        return {
            "since": self.since.isoformat(),
            "verdict": self.verdict,
            "note": self.note,
            "by": self.by or None,
            "at": self.at.isoformat(),
        }


def reviews(version: VersionRef) -> dict[tuple[str, dt.date], Review]:
    """The reviewed drift findings of a version, by (clause, since). One query."""
    found = {}
    for row in DriftReview.objects.filter(version_id=version.pk).select_related("reviewed_by"):
        found[row.clause, row.since] = Review(
            since=row.since,
            verdict=row.get_verdict_display(),
            note=row.note,
            by=row.reviewed_by.get_username() if row.reviewed_by else "",
            at=row.reviewed_at,
        )
    return found


def review_docs(versions: Iterable[VersionRef]) -> list[ReviewDoc]:
    """The reviews of these (dated) versions in the seed format's terms."""
    by_pk = {v.pk: v for v in versions if v.effective_date is not None}
    return [
        ReviewDoc(by_pk[r.version_id].effective_date, r.clause, r.since, r.note)  # type: ignore[arg-type]
        for r in DriftReview.objects.filter(version_id__in=by_pk)
    ]


@dataclass(frozen=True)
class DriftFinding:
    version: str
    clause: str
    document: str  # the URL the clause cites
    status: str
    since: dt.date
    closest: str
    similarity: float
    rules: tuple[str, ...]
    answer_sets: int
    saved_results: int
    reviewed: Review | None

    def payload(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "clause": self.clause,
            "document": self.document,
            "status": self.status,
            "since": self.since.isoformat(),
            "closest": self.closest,
            "similarity": self.similarity,
            "rules": list(self.rules),
            "answer_sets": self.answer_sets,
            "saved_results": self.saved_results,
            "reviewed": self.reviewed.payload() if self.reviewed else None,
        }


def drift_findings(slug: str, version_id: str | None = None) -> list[DriftFinding]:
    """`citations.drift` for each published version of `slug` (or the one named), each over its
    time in effect, with what each finding touches. PolicyNotFound, VersionNotFound."""
    published = sorted(published_versions(slug), key=lambda v: v.effective_date or dt.date.min)
    if not published:
        policy(slug)  # PolicyNotFound when there is no such policy at all
        if version_id is not None:
            raise VersionNotFound(version_id)
        return []
    if version_id is not None and version_id not in {v.version_id for v in published}:
        raise VersionNotFound(version_id)
    spans = citations.windows([v.effective_date for v in published if v.effective_date])
    found = []
    for version, (start, end) in zip(published, spans, strict=True):
        if version_id is not None and version.version_id != version_id:
            continue
        built = compiled(version)
        drifts = citations.drift(built, sources_of(built), start=start, end=end)
        if not drifts:
            continue
        reviewed = reviews(version)
        fired = _fired_rules_per_answer_set(built)
        cited_in = _saved_results_citing(version)
        clauses = {c.key: c for c in built.clauses}
        for d in drifts:
            rules = tuple(r.key for r in built.rules if d.clause in r.clauses)
            found.append(
                DriftFinding(
                    version=version.version_id,
                    clause=d.clause,
                    document=clauses[d.clause].url,
                    status=d.status,
                    since=d.since,
                    closest=d.closest,
                    similarity=d.similarity,
                    rules=rules,
                    answer_sets=sum(1 for keys in fired if keys & set(rules)),
                    saved_results=cited_in.get(d.clause, 0),
                    reviewed=reviewed.get((d.clause, d.since)),
                )
            )
    return found


def _fired_rules_per_answer_set(version: engine.Version) -> list[frozenset[str]]:
    from .analysis import reachable_answer_sets

    return [
        frozenset(engine.evaluate(version, answers).fired_rules)
        for answers in reachable_answer_sets(version)
    ]


def _saved_results_citing(version: VersionRef) -> dict[str, int]:
    """How many saved results of the version cite each clause, read from their snapshots (the
    clauses exactly as they were shown). Through the reverse relation, so that the policy app
    needs no import of the wizard's models."""
    counts: dict[str, int] = {}
    results = getattr(PolicyVersion, "results", None)
    if results is None:
        return counts
    for snapshot in PolicyVersion.objects.get(pk=version.pk).results.values_list(
        "snapshot", flat=True
    ):
        cited: set[str] = set()
        if isinstance(snapshot, dict):
            items = [snapshot.get("verdict_detail") or {}]
            for table in engine.LIST_TABLES:
                items += snapshot.get(table) or []
            for item in items:
                for clause in item.get("clauses") or []:
                    if isinstance(clause, dict) and "id" in clause:
                        cited.add(str(clause["id"]))
        for key in cited:
            counts[key] = counts.get(key, 0) + 1
    return counts


@dataclass(frozen=True)
class SourcePage:
    """What the public page of a stored copy shows."""

    document: str
    title: str
    url: str
    kind: str
    date: dt.date
    text: str
    highlights: tuple[tuple[int, int], ...]  # spans of `text` that the quote covers
    dates: tuple[dt.date, ...]  # every snapshot of the document: the dates of its changes
    quote: str = ""
    later_statement: bool = False

    def pieces(self) -> list[tuple[str, bool]]:
        """The text cut into (piece, highlighted) for a template."""
        out: list[tuple[str, bool]] = []
        at = 0
        for start, end in self.highlights:
            if start > at:
                out.append((self.text[at:start], False))
            out.append((self.text[start:end], True))
            at = end
        out.append((self.text[at:], False))
        return [piece for piece in out if piece[0]]


def source_page(document: str, day: object, quote: str = "") -> SourcePage:
    """The stored copy of `document` as of `day` (a date, or "latest"), with `quote` (if given)
    highlighted. Two queries. LookupFailed when there is no such document or copy."""
    row = SourceDocument.objects.filter(key=document).first()
    if row is None:
        raise LookupFailed({"document": f"No source document {document!r}."})
    snapshots = list(Snapshot.objects.filter(document=row).order_by("date").values("date", "text"))
    if day == "latest" and snapshots:
        day = snapshots[-1]["date"]
    try:
        date = parse_date(day, "date")
    except AsOfError:
        date = None
    if date is None:
        raise LookupFailed({"date": f"No copy of {document} as of {day!r}."})
    text = next((s["text"] for s in snapshots if s["date"] == date), None)
    if text is None:
        raise LookupFailed({"date": f"No copy of {document} as of {date.isoformat()}."})
    spans: tuple[tuple[int, int], ...] = ()
    if quote:
        page = quotes.prepare(text)
        match = quotes.find(quote, page)
        if match.found:
            spans = tuple(page.original_span(a, b) for a, b in match.spans)
    return SourcePage(
        document=row.key,
        title=row.title,
        url=row.url,
        kind=row.kind,
        date=date,
        text=text,
        highlights=spans,
        dates=tuple(s["date"] for s in snapshots),
        quote=quote,
    )


def clause_source_page(slug: str, version_id: str, clause_key: str) -> SourcePage:
    """The stored copy a published version's clause quotes, the quote highlighted."""
    version = version_by_id(slug, version_id)
    clause = compiled(version).clause(clause_key)
    if clause is None or not clause.document or clause.kind != engine.QUOTE:
        raise LookupFailed({"clause": f"No quoted clause {clause_key!r} in {version}."})
    page = source_page(clause.document, clause.version, clause.quote)
    return replace(page, later_statement=clause.later_statement)


def reworded(version: VersionRef) -> dict[str, list[dict[str, str]]]:
    """Per clause, the reviewed drift a result shows under its quote ("the page was reworded on
    DATE (reviewed: meaning unchanged)"). Kept like the lists of published versions (a review
    calls `forget_published_versions`), so a result page makes no query for it while cached."""
    now = time.monotonic()
    generation = _generation()
    cached = _reworded.get(version.pk)
    if cached is not None and cached[0] > now and cached[1] == generation:
        return cached[2]
    shown: dict[str, list[dict[str, str]]] = {}
    for (clause, since), review in sorted(reviews(version).items()):
        shown.setdefault(clause, []).append(
            {"since": since.isoformat(), "verdict": review.verdict.lower(), "note": review.note}
        )
    ttl = settings.POLICY_VERSIONS_CACHE_SECONDS
    if ttl > 0 and not version.is_draft:
        with _lock:
            _reworded[version.pk] = (now + ttl, generation, shown)
    return shown


# --- the feed of changes --------------------------------------------------------------------------


@dataclass(frozen=True)
class ChangeEntry:
    """One entry of a policy's feed: a published version (its note, its impact against the one
    before) or a reviewed drift finding."""

    key: str  # stable, for the entry's id
    title: str
    text: str
    day: dt.date
    at: dt.datetime | None
    link: str  # a site path


_impacts: dict[tuple[int, int], Any] = {}


def changes(slug: str) -> list[ChangeEntry]:
    """The published versions of `slug` with their what-changed notes and impact, and the
    reviewed drift of their quotes, newest first. PolicyNotFound when nothing is published."""
    from . import diffing  # the impact is only needed here

    published = sorted(
        published_policy(slug).versions, key=lambda v: v.effective_date or dt.date.min
    )
    entries = []
    before: VersionRef | None = None
    for version in published:
        built = compiled(version)
        text = version.notes
        if before is not None:
            # Published versions never change, so neither does the impact of one on the next.
            found = _impacts.get((before.pk, version.pk))
            if found is None:
                found = diffing.impact(compiled(before), built)
                with _lock:
                    _impacts[before.pk, version.pk] = found
            text += (
                f" Changes the outcome for {found.changed} of {found.compared} answer sets "
                f"({found.verdict_changed} with another verdict)."
            )
        assert version.effective_date is not None
        entries.append(
            ChangeEntry(
                key=f"{slug}:version:{version.version_id}",
                title=f"Version {version.version_id} of {version.policy.title}",
                text=text,
                day=version.effective_date,
                at=None,
                link=f"/{slug}/",
            )
        )
        before = version
    by_pk = {v.pk: v for v in published}
    for review in DriftReview.objects.filter(version_id__in=by_pk).order_by("reviewed_at"):
        version = by_pk[review.version_id]
        entries.append(
            ChangeEntry(
                key=f"{slug}:review:{version.version_id}:{review.clause}:{review.since.isoformat()}",
                title=f"{review.clause} ({version.version_id}): the page was reworded on "
                f"{review.since.isoformat()}, reviewed: {review.get_verdict_display().lower()}",
                text=review.note,
                day=review.since,
                at=review.reviewed_at,
                link=f"/sources/{slug}/{version.version_id}/{review.clause}/",
            )
        )
    return sorted(entries, key=lambda e: e.at or _midnight(e.day), reverse=True)


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
