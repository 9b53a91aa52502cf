"""The policy's history in public: its published versions with their what-changed notes, one
version's questions and rules in plain words, and what changes between two versions.

Published versions never change, so each page depends only on the versions it names; versions
come from `policies.catalog` and are put in words by `policies.payloads`.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from policies import catalog
from policies.payloads import comparison_payload, version_in_words


def _listing(slug: str) -> catalog.PolicyListing:
    try:
        return catalog.published_policy(slug)
    except catalog.PolicyNotFound:
        raise Http404(f"No published policy {slug!r}.") from None


def _version(listing: catalog.PolicyListing, version_id: str | None) -> catalog.VersionRef:
    found = next((v for v in listing.versions if v.version_id == version_id), None)
    if found is None:
        raise Http404(f"No published version {version_id!r}.")
    return found


def _in_effect(listing: catalog.PolicyListing) -> catalog.VersionRef | None:
    try:
        return catalog.version_in_effect(listing.policy.slug)
    except (catalog.PolicyNotFound, catalog.AsOfError):
        return None


@require_safe
def versions(request: HttpRequest, slug: str) -> HttpResponse:
    """Every published version, newest first, with its date and what-changed note."""
    listing = _listing(slug)
    return render(
        request,
        "history/versions.html",
        {"policy": listing.policy, "versions": listing.versions, "in_effect": _in_effect(listing)},
    )


@require_safe
def version(request: HttpRequest, slug: str, version_id: str) -> HttpResponse:
    """One version's questions and rules in plain words."""
    listing = _listing(slug)
    shown = _version(listing, version_id)
    older = [
        v
        for v in listing.versions
        if v.effective_date and shown.effective_date and v.effective_date < shown.effective_date
    ]
    return render(
        request,
        "history/version.html",
        {
            # The title and summary this version carried, not those of the version in effect.
            "policy": shown.policy,
            "version": shown,
            "in_effect": _in_effect(listing),
            "previous": older[0] if older else None,
            "words": version_in_words(catalog.compiled(shown)),
        },
    )


@require_safe
def compare(request: HttpRequest, slug: str) -> HttpResponse:
    """What changes between two versions (?from=…&to=…): which answers get another result."""
    listing = _listing(slug)
    context = {"policy": listing.policy, "versions": listing.versions, "comparison": None}
    chosen_from, chosen_to = request.GET.get("from"), request.GET.get("to")
    if chosen_from and chosen_to:
        before, after = _version(listing, chosen_from), _version(listing, chosen_to)
        context.update(
            before=before,
            after=after,
            comparison=comparison_payload(catalog.compiled(before), catalog.compiled(after)),
        )
    else:
        newest = listing.versions
        context.update(before=newest[1] if len(newest) > 1 else newest[0], after=newest[0])
    return render(request, "history/compare.html", context)
