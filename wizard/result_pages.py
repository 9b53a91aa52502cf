"""The saved-result pages: the permanent link, the creator's saved page, the downloads, the
re-check against the version in effect now, carrying answers back into the wizard, and revoking.

A saved result is a snapshot: its pages show it exactly as decided, pinned to its version, and
never re-evaluate it; only the "policy changed" notice and the re-check read the catalog.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import get_conditional_response
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from policies import catalog, engine
from policies.payloads import (
    payload_diff,
    snapshot_payload,
    with_reviewed_drift,
    with_sources,
)

from . import cookie_state
from .creators import created_secret, remember_created
from .forms import SaveAttemptForm
from .models import Result, find_result
from .progress import version_in_effect_or_404
from .rendering import redirect_to_question
from .services import AlreadySaved, result_create, result_revoke


def _find_result(token: str) -> Result:
    """The result for a token, or 404 for anything malformed or unknown. One query."""
    found = find_result(token)
    if found is None:
        raise Http404("No such result.")
    return found


def _private(response: HttpResponse, *, posts_forms: bool = False) -> HttpResponse:
    """Result pages are unlisted: no referrer carries the token anywhere, and search engines keep
    out. Pages with their own POST forms (revoke, save a re-check) use `same-origin` instead:
    under `no-referrer` browsers send `Origin: null` with those forms, which Django's CSRF check
    rightly refuses; `same-origin` still never sends the token to another site."""
    response["Referrer-Policy"] = "same-origin" if posts_forms else "no-referrer"
    response["X-Robots-Tag"] = "noindex, nofollow"
    # What a result shows is the creator's: no shared cache keeps it, and a browser keeps none
    # unless the page revalidates (the share page's ETag sets "private, no-cache" itself).
    if not response.has_header("Cache-Control"):
        response["Cache-Control"] = "private, no-store"
    return response


def _gone(request: HttpRequest, found: Result) -> HttpResponse:
    revoked = found.revoked_at is not None
    return _private(
        render(
            request,
            "results/gone.html",
            {"revoked": revoked, "result": found, "version": found.version_ref},
            status=410,
        )
    )


def _newer_version(found: Result) -> catalog.VersionRef | None:
    """The version in effect now, when it is not the one the result was checked against."""
    try:
        current = catalog.version_in_effect(found.version_ref.policy.slug)
    except (catalog.PolicyNotFound, catalog.AsOfError):
        return None
    return current if current.pk != found.version_id else None


def _share_context(
    request: HttpRequest,
    found: Result,
    newer: catalog.VersionRef | None,
    newer_result: Result | None,
    reworded: dict[str, list[dict[str, str]]] | None = None,
) -> dict[str, Any]:
    if reworded is None:
        reworded = catalog.reworded(found.version_ref)
    return {
        "previous_url": found.previous.get_absolute_url() if found.previous else None,
        "newer_result": newer_result,
        "newer_url": newer_result.get_absolute_url() if newer_result else None,
        "share_url": request.build_absolute_uri(found.get_absolute_url()),
        # The browser that saved it may change its answers; anyone else starts their own.
        "owner": created_secret(request, found.token) is not None,
        "result": found,
        # Exactly as cited when saved, plus what admins have since reviewed of those pages,
        # each clause once.
        "snap": with_sources(with_reviewed_drift(found.public_snapshot, reworded)),
        "newer": newer,
        "json_url": reverse("results:download", args=[found.token, "json"]),
        "markdown_url": reverse("results:download", args=[found.token, "md"]),
    }


@require_safe
def result_show(request: HttpRequest, token: str) -> HttpResponse:
    """The permanent link: the snapshot exactly as saved, never re-evaluated. Two queries; an
    unchanged page answers If-None-Match with 304."""
    found = _find_result(token)
    if found.is_gone():
        return _gone(request, found)
    newer = _newer_version(found)
    reworded = catalog.reworded(found.version_ref)
    reviewed = sum(len(dates) for dates in reworded.values())
    owner = created_secret(request, found.token) is not None
    newer_result = found.newer_recheck()
    # The snapshot never changes; what can is in the tag: the "policy changed" notice, the
    # reviewed rewordings of the pages it quotes, the owner's links, a later re-check it links
    # forward to, and the day the printed record names.
    etag = (
        f'"{found.token}-{newer.version_id if newer else "current"}-{reviewed}-{int(owner)}'
        f'-{newer_result.token if newer_result else ""}-{timezone.localdate().isoformat()}-2"'
    )
    not_modified = get_conditional_response(request, etag=etag)
    if not_modified is not None:
        not_modified["Cache-Control"] = "private, no-cache"
        return _private(not_modified)
    response = render(
        request,
        "results/share.html",
        _share_context(request, found, newer, newer_result, reworded),
    )
    response["ETag"] = etag
    response["Cache-Control"] = "private, no-cache"
    return _private(response)


@never_cache
@require_safe
def result_saved(request: HttpRequest, token: str) -> HttpResponse:
    """What the creator sees right after saving: the share link, and the revoke link that only
    their browser knows."""
    found = _find_result(token)
    if found.is_gone():
        return _gone(request, found)
    secret = created_secret(request, token)
    context = _share_context(request, found, _newer_version(found), found.newer_recheck())
    if secret:
        context["revoke_url"] = request.build_absolute_uri(
            reverse("results:revoke", args=[token, secret])
        )
    return _private(render(request, "results/saved.html", context))


@require_safe
def result_download(request: HttpRequest, token: str, fmt: str) -> HttpResponse:
    found = _find_result(token)
    if found.is_gone():
        return _gone(request, found)
    # As cited when saved, plus the reviewed rewordings known now (see `with_reviewed_drift`).
    reviewed = with_reviewed_drift(found.public_snapshot, catalog.reworded(found.version_ref))
    snapshot = {
        **reviewed,
        "result_url": request.build_absolute_uri(found.get_absolute_url()),
        "version_url": request.build_absolute_uri(
            reverse(
                "wizard:version", args=[found.version_ref.policy.slug, found.snapshot["version"]]
            )
        ),
        **found.links(request.build_absolute_uri),
    }
    filename = f"{snapshot['policy']}-{snapshot['version']}-result"
    if fmt == "json":
        response: HttpResponse = JsonResponse(snapshot, json_dumps_params={"indent": 2})
        response["Content-Disposition"] = f'attachment; filename="{filename}.json"'
    else:
        text = render_to_string("results/result.md", {"snap": snapshot, "result": found})
        response = HttpResponse(text, content_type="text/markdown; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{filename}.md"'
    return _private(response)


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def result_recheck(request: HttpRequest, token: str) -> HttpResponse:
    """The same answers under the version in effect now, and what changed item by item. GET only
    shows; POST saves the re-check as a new result linked to the old one."""
    found = _find_result(token)
    if found.is_gone():
        return _gone(request, found)
    current = version_in_effect_or_404(found.version_ref.policy.slug)
    version = catalog.compiled(current)
    # Questions the current version no longer asks, or choices it no longer offers, are left out.
    answers = engine.still_valid(version, found.answers)
    dropped = [key for key in found.answers if key not in answers]
    decision = engine.evaluate(version, answers)
    context: dict[str, Any] = {
        "result": found,
        "snap": found.public_snapshot,
        "current": current,
        "dropped": [] if found.outcome_only else dropped,
        "same_version": current.pk == found.version_id,
    }
    if not decision.complete:
        context["next_question"] = decision.next_question
        return _private(render(request, "results/recheck.html", context), posts_forms=True)
    save_form = SaveAttemptForm(request.POST if request.method == "POST" else None)
    context["save_form"] = save_form
    if request.method == "POST" and save_form.is_valid():
        expires_in = (
            (found.expires_at - found.created_at).days if found.expires_at is not None else 0
        )
        try:
            saved, secret = result_create(
                version=current,
                answers=answers,
                outcome_only=found.outcome_only,
                expires_in_days=expires_in,
                previous=found,
                attempt=save_form.attempt_id,
            )
        except AlreadySaved as already:
            return redirect("results:saved", token=already.result.token)
        remember_created(request, saved.token, secret)
        return redirect("results:saved", token=saved.token)
    new = snapshot_payload(current, version, decision)
    context["new"] = new
    context["diff"] = payload_diff(found.snapshot, new)
    status = 400 if save_form.errors else 200
    return _private(
        render(request, "results/recheck.html", context, status=status), posts_forms=True
    )


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def result_continue(request: HttpRequest, token: str) -> HttpResponse:
    """Carry a result's answers into the wizard, pinned to the version in effect now, to answer
    what the current version newly asks. Not for outcome-only links, which hide the answers."""
    found = _find_result(token)
    if found.is_gone():
        return _gone(request, found)
    # An outcome-only link hides the answers from others; the browser that saved it may still
    # carry them back ("Change your answers").
    owner = created_secret(request, token) is not None
    if (found.outcome_only and not owner) or request.method != "POST":
        return redirect("results:recheck", token=token)
    slug = found.version_ref.policy.slug
    current = version_in_effect_or_404(slug)
    version = catalog.compiled(current)
    answers = engine.still_valid(version, found.answers)
    onwards = redirect_to_question(slug, engine.next_question(version, answers), changing=False)
    return cookie_state.store(request, onwards, slug, cookie_state.WizardState(current.pk, answers))


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def result_revoke_view(request: HttpRequest, token: str, secret: str) -> HttpResponse:
    found = _find_result(token)
    context: dict[str, Any] = {"result": found, "secret": secret}
    if not found.revoke_secret_matches(secret):
        context["state"] = "wrong_secret"
        return _private(
            render(request, "results/revoke.html", context, status=403), posts_forms=True
        )
    if found.revoked_at is not None:
        context["state"] = "already_revoked"
        return _private(render(request, "results/revoke.html", context), posts_forms=True)
    if request.method == "POST":
        revoked = result_revoke(result=found, secret=secret)
        context["state"] = "revoked" if revoked else "already_revoked"
        return _private(render(request, "results/revoke.html", context), posts_forms=True)
    context["state"] = "confirm"
    return _private(render(request, "results/revoke.html", context), posts_forms=True)
