"""The only reader of policy models: picks the version in effect and builds the engine's structures.

A published version never changes (models.py enforces it), so its compiled form is cached by
primary key for the life of the process and never goes stale. Drafts are rebuilt on every call so
that staff previews always show the latest edit.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Prefetch

from . import engine
from .models import Choice, Clause, Policy, PolicyVersion, Question, Rule, today

_cache: dict[int, engine.Version] = {}
_cache_lock = threading.Lock()


class PolicyNotFound(LookupError):
    pass


class VersionNotFound(LookupError):
    pass


@dataclass(frozen=True)
class AsOfError(ValueError):
    message: str

    def __str__(self) -> str:
        return self.message


def parse_as_of(value: object) -> dt.date | None:
    """None for no date (meaning today); a date; or AsOfError naming what is allowed. An empty
    string is an error, not "today": leave as_of out (or send null) for today."""
    if value is None:
        return None
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise AsOfError(f"as_of must be a date written YYYY-MM-DD, not {value!r}.")


def version_in_effect(slug: str, as_of: dt.date | None = None) -> PolicyVersion:
    """The newest published version whose effective date is on or before `as_of` (default today).
    At most one query, and none while the policy's published versions are cached."""
    day = as_of or today()
    rows = _published_versions(slug)
    if not rows:
        raise PolicyNotFound(slug)
    for row in rows:  # newest first
        assert row.effective_date is not None  # published versions always have one
        if row.effective_date <= day:
            return row
    raise AsOfError(
        f"as_of {day.isoformat()} is before the first version of {slug}, "
        f"which took effect on {rows[-1].effective_date}."
    )


# The published versions of each policy, newest first, kept for a few seconds: every page and
# API call needs the version in effect, and a publish in this process clears it at once
# (`forget_published_versions`); another worker sees a new version within the TTL.
_published: dict[str, tuple[float, list[PolicyVersion]]] = {}


def _published_versions(slug: str) -> list[PolicyVersion]:
    now = time.monotonic()
    cached = _published.get(slug)
    if cached is not None and cached[0] > now:
        return cached[1]
    rows = list(
        PolicyVersion.objects.filter(policy__slug=slug, status=PolicyVersion.Status.PUBLISHED)
        .select_related("policy")
        .order_by("-effective_date")
    )
    ttl = getattr(settings, "POLICY_VERSIONS_CACHE_SECONDS", 10)
    if rows and ttl > 0:  # unknown slugs are not kept, so junk requests cannot grow the cache
        with _cache_lock:
            _published[slug] = (now + ttl, rows)
    return rows


def forget_published_versions() -> None:
    """Call after publishing (or deleting) a version, so this process sees it at once."""
    with _cache_lock:
        _published.clear()


def version_by_pk(pk: int, *, include_drafts: bool = False) -> PolicyVersion:
    versions = PolicyVersion.objects.select_related("policy")
    if not include_drafts:
        versions = versions.filter(status=PolicyVersion.Status.PUBLISHED)
    version = versions.filter(pk=pk).first()
    if version is None:
        raise VersionNotFound(pk)
    return version


def published_version(slug: str, pk: int) -> PolicyVersion:
    """A published version by primary key, as the wizard pins it. No query while the policy's
    published versions are cached; one when the version is not among them (published in another
    process within the cache's few seconds, or of another policy: the caller checks the slug)."""
    for row in _published_versions(slug):
        if row.pk == pk:
            return row
    return version_by_pk(pk)


def version_by_id(slug: str, version_id: str, *, include_drafts: bool = False) -> PolicyVersion:
    """A version by its id (the effective date). Drafts only when asked for (staff)."""
    try:
        day = dt.date.fromisoformat(version_id)
    except ValueError:
        raise VersionNotFound(version_id) from None
    versions = PolicyVersion.objects.select_related("policy").filter(
        policy__slug=slug, effective_date=day
    )
    if not include_drafts:
        versions = versions.filter(status=PolicyVersion.Status.PUBLISHED)
    version = versions.order_by("status").first()  # "draft" < "published": staff see their draft
    if version is None:
        raise VersionNotFound(version_id)
    return version


def published_policies() -> list[tuple[Policy, list[PolicyVersion]]]:
    """Policies with at least one published version, each with its published versions (newest
    first). Two queries."""
    versions = PolicyVersion.objects.filter(status=PolicyVersion.Status.PUBLISHED).order_by(
        "-effective_date"
    )
    policies = (
        Policy.objects.filter(versions__status=PolicyVersion.Status.PUBLISHED)
        .distinct()
        .order_by("title")
        .prefetch_related(Prefetch("versions", queryset=versions, to_attr="published"))
    )
    return [(policy, policy.published) for policy in policies]


def compiled(version: PolicyVersion) -> engine.Version:
    if version.is_draft:
        return build(version)
    cached = _cache.get(version.pk)
    if cached is None:
        built = build(version)
        with _cache_lock:
            cached = _cache.setdefault(version.pk, built)
    return cached


def clear_cache() -> None:
    with _cache_lock:
        _cache.clear()
        _published.clear()


def build(version: PolicyVersion) -> engine.Version:
    """Read one version's records (four queries) and turn them into engine dataclasses."""
    questions = Question.objects.filter(version=version).prefetch_related(
        Prefetch("choices", queryset=Choice.objects.order_by("order", "pk"))
    )
    rules = (
        Rule.objects.filter(version=version)
        .select_related("outcome")
        .prefetch_related(Prefetch("clauses", queryset=Clause.objects.only("key")))
    )
    return engine.Version(
        policy=version.policy.slug,
        version=version.version_id,
        questions=tuple(
            engine.Question(
                key=q.key,
                text=q.text,
                help=q.help,
                choices=tuple(
                    engine.Choice(key=c.key, label=c.label, help=c.help) for c in q.choices.all()
                ),
                shown_when=tuple(engine.conjunction(alt) for alt in q.shown_when),
            )
            for q in questions
        ),
        outcomes=tuple(
            engine.Outcome(table=o.kind, key=o.key, title=o.title, text=o.text, detail=o.detail)
            for o in sorted(
                version.outcomes.all(),
                key=lambda o: (engine.TABLES.index(o.kind), o.order, o.pk),
            )
        ),
        rules=tuple(
            engine.Rule(
                key=r.key,
                table=r.outcome.kind,
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
                source_title=c.source_title,
                version=c.source_version,
            )
            for c in version.clauses.all()
        ),
    )
