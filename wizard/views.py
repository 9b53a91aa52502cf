"""The browser flow: start page, one question per page, check your answers, result.

Every step is a real URL that renders a full page and works without JavaScript (form POST,
redirect, GET). The answers live in a signed cookie per policy (`cookie_state`), pinned to the
version that was in effect when the person pressed "Start now", so a version published halfway
through never changes their result:

    {"version": <PolicyVersion pk>, "answers": {"<question id>": "<choice id>", ...}}

That state comes back from the browser, so it is checked on every read; anything unexpected (a bad
signature, wrong types, unknown ids, a version that is gone) restarts the wizard with a message.
All policy data is read through `policies.compile`; all decisions are made by `policies.engine`.

Staff can walk any version in the same pages, drafts included, as of any date (`preview_start`):
the state then carries `"preview": true`, which lets `_load` accept a draft only while the user is
staff, marks every page as a preview, and keeps its results from being saved.

With JavaScript on, htmx enhances the wizard's own forms (policy start, questions) without changing
this flow: a form posts to the same URL, and the browser follows the same redirect, but as an htmx
request, so the page it lands on (`_page`) answers with only its `swap` partial for #main-content
and pushes its URL into the history. The server decides where each answer leads, exactly as without
JavaScript; a history restore (Back or Forward) gets the whole page.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.messages import get_messages
from django.core.cache import caches
from django.core.cache.utils import make_template_fragment_key
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import get_conditional_response, patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe
from django_htmx.http import push_url
from django_htmx.middleware import HtmxDetails

from policies import engine
from policies.compile import (
    AsOfError,
    PolicyNotFound,
    VersionNotFound,
    compiled,
    published_policies,
    published_version,
    version_by_pk,
    version_in_effect,
)
from policies.models import PolicyVersion
from policies.payloads import payload_diff, snapshot_payload, with_what_would_change
from policies.services import version_as_of

from . import cookie_state
from .forms import AnswerForm, SaveAttemptForm, SaveResultForm
from .models import Result, find_result
from .services import AlreadySaved, result_create, result_revoke

CHANGE_PARAM = "change"
CREATED_RESULTS_KEY = "created_results"

UNREADABLE_ANSWERS = "We could not read your saved answers, so you need to start again."
VERSION_GONE = (
    "The version of the policy you started with is no longer available, so you need to start again."
)
STALE_STEP = (
    "That question no longer applies to your answers, which may have changed in another tab or "
    "window. The answer you sent was not saved: carry on from here."
)
NOT_FINISHED = "Some questions still need an answer, so nothing was saved. Carry on from here."
PREVIEW_NOT_SAVED = "This is a preview, so its result is not saved."


class HtmxHttpRequest(HttpRequest):
    """A request that has been through django-htmx's middleware."""

    htmx: HtmxDetails


@dataclass(frozen=True)
class Progress:
    """A person's place in one policy: the pinned version and their answers so far."""

    row: PolicyVersion
    version: engine.Version
    answers: dict[str, str]
    preview: bool = False  # a staff preview, which may be of a draft


# --- pages ---------------------------------------------------------------------------------------


def _page(
    request: HtmxHttpRequest,
    template: str,
    context: dict[str, Any],
    *,
    status: int = 200,
    same_for: tuple[object, ...] | None = None,
) -> HttpResponse:
    """A wizard page: the whole of it, or for an htmx swap only its `swap` partial (title, back
    link, messages and main content). The page an htmx form ends up on after the redirect pushes
    its own URL, so Back and Forward walk the same URLs as without JavaScript; a form shown again
    with an error stays on its URL.

    `same_for` says that the page is the same for everyone for whom these values are the same (a
    published version, no error, no message): it is then rendered once per process and reused,
    with each response's own CSRF token put in (`_reused_html`)."""
    swapping = bool(request.htmx) and not request.htmx.history_restore_request
    name = f"{template}#swap" if swapping else template
    context = {**context, "htmx_enhanced": True}  # base.html loads htmx for these pages only
    if same_for is None:
        response = render(request, name, context, status=status)
    else:
        response = HttpResponse(_reused_html(request, name, same_for, context), status=status)
    if swapping and request.method in ("GET", "HEAD"):
        push_url(response, request.get_full_path())
    # The same URL answers with a fragment or a page: caches must keep them apart.
    patch_vary_headers(response, ["HX-Request"])
    return response


# Rendered in place of the CSRF token in a page kept for reuse. Random per process, so that no
# policy text can contain it.
_CSRF_HOLE = secrets.token_hex(32)


def _reused_html(
    request: HttpRequest, name: str, same_for: tuple[object, ...], context: dict[str, Any]
) -> str:
    """The page rendered once per process for `same_for`, with this response's CSRF token.

    Rendering is most of the cost of a question page, and Django's template engine is slow
    compared with everything else a step does. The token is the one part that must differ per
    response: Django masks it afresh each time (so that compression cannot leak it), and
    get_token also renews the CSRF cookie, as {% csrf_token %} would."""
    key = make_template_fragment_key(f"page:{name}", [repr(value) for value in same_for])
    html = caches["rendered"].get_or_set(
        key,
        lambda: render_to_string(name, {**context, "csrf_token": _CSRF_HOLE}, request),
        timeout=None,
    )
    return str(html).replace(_CSRF_HOLE, get_token(request))


@require_safe
def start(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    policies = []
    for policy, versions in published_policies():
        # Versions come newest first; one that has not taken effect yet is not offered.
        in_effect = next(
            (v for v in versions if v.effective_date and v.effective_date <= today), None
        )
        if in_effect is not None:
            policies.append({"policy": policy, "version": in_effect})
    return render(request, "wizard/start.html", {"policies": policies})


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def policy_start(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    row = _version_in_effect_or_404(slug)
    if request.method == "POST":
        # "Start now" (and "Start again") pins the version in effect and forgets earlier answers.
        first = engine.next_question(compiled(row), {})
        onwards = _redirect_to_question(slug, first, changing=False)
        return cookie_state.store(request, onwards, slug, row.pk, {})
    return _page(
        request,
        "wizard/policy_start.html",
        {
            "policy": row.policy,
            "row": row,
            "in_progress": _has_answers(request, slug),
        },
    )


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def question(request: HtmxHttpRequest, slug: str, key: str) -> HttpResponse:
    progress = _load(request, slug)
    if isinstance(progress, HttpResponse):
        return progress
    version = progress.version
    asked = version.question(key)
    if asked is None:
        raise Http404(f"No question {key!r} in this policy.")
    path = engine.walk(version, progress.answers)
    changing = CHANGE_PARAM in request.GET
    if not _may_visit(path, key):
        if request.method == "POST":
            # A stale tab or window: its answer is dropped, and the person is told so.
            messages.info(request, STALE_STEP)
        return _redirect_to_question(slug, path.next_question, changing=changing)

    # Only an answer needs the form; the page itself shows the stored answer (if any).
    form = AnswerForm(asked, data=request.POST) if request.method == "POST" else None
    if form is not None and form.is_valid():
        answers = {**progress.answers, key: form.answer}
        path = engine.walk(version, answers)
        # Answers that the new answer takes off the path are dropped, not kept in reserve.
        answers = {k: v for k, v in answers.items() if k not in path.ignored}
        if changing:
            onwards = _redirect_to_question(slug, path.next_question, changing=True)
        else:
            following = engine.following_question(version, path, key)
            onwards = _redirect_to_question(slug, following, changing=False)
        return cookie_state.store(
            request, onwards, slug, progress.row.pk, answers, preview=progress.preview
        )

    number, about = engine.position(version, path, key)
    selected = path.answers.get(key) if form is None else form.selected
    action_url = _question_url(slug, key, changing=changing)
    back_url = _back_url(slug, version, path, key, changing=changing)
    # A published version never changes, so without an error to show (a form), a message or a
    # staff preview (maybe of a draft), these values decide everything on the page.
    reusable = form is None and not progress.preview and not get_messages(request)
    same_for = (progress.row.pk, progress.row.policy.title, key, selected, number, about)
    return _page(
        request,
        "wizard/question.html",
        {
            "policy": progress.row.policy,
            "row": progress.row,
            "preview": progress.preview,
            "question": asked,
            "error": None if form is None else form.error,
            "selected": selected,
            "first_choice": asked.choices[0] if asked.choices else None,
            "number": number,
            "about": about,
            "action_url": action_url,
            "back_url": back_url,
        },
        same_for=(*same_for, action_url, back_url) if reusable else None,
    )


@never_cache
@require_safe
def check(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    progress = _load(request, slug)
    if isinstance(progress, HttpResponse):
        return progress
    path = engine.walk(progress.version, progress.answers)
    if path.next_question is not None:
        return _redirect_to_question(slug, path.next_question, changing=False)
    return _render_check(request, slug, progress, SaveResultForm(slug=slug))


def _render_check(
    request: HtmxHttpRequest,
    slug: str,
    progress: Progress,
    save_form: SaveResultForm,
    status: int = 200,
) -> HttpResponse:
    version = progress.version
    path = engine.walk(version, progress.answers)
    rows = []
    last: str | None = None
    for asked in engine.path_questions(version, path.answers):
        last = asked.key
        choice = asked.choice(path.answers[asked.key])
        rows.append(
            {
                "question": asked,
                "answer": choice.label if choice else path.answers[asked.key],
                "change_url": _question_url(slug, asked.key, changing=True),
            }
        )
    return _page(
        request,
        "wizard/check.html",
        {
            "policy": progress.row.policy,
            "row": progress.row,
            "preview": progress.preview,
            "rows": rows,
            "save_form": save_form,
            "back_url": (
                _question_url(slug, last, changing=False)
                if last
                else reverse("wizard:policy_start", args=[slug])
            ),
        },
        status=status,
    )


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def result(request: HttpRequest, slug: str) -> HttpResponse:
    """GET shows the result of the answers so far; POST saves it as a shareable result
    (with the privacy options of SaveResultForm) and leads to its permanent link."""
    progress = _load(request, slug)
    if isinstance(progress, HttpResponse):
        return progress
    version = progress.version
    decision = engine.evaluate(version, progress.answers)
    if decision.errors:
        return _restart(request, slug, UNREADABLE_ANSWERS)
    if not decision.complete:
        if request.method == "POST":
            messages.info(request, NOT_FINISHED)
        return _redirect_to_question(slug, decision.next_question, changing=False)
    if request.method == "POST" and progress.preview:
        messages.info(request, PREVIEW_NOT_SAVED)
        return redirect("wizard:result", slug=slug)
    save_form = SaveResultForm(request.POST if request.method == "POST" else None, slug=slug)
    if request.method == "POST" and save_form.is_valid():
        try:
            saved, secret = result_create(
                version=progress.row,
                answers=progress.answers,
                outcome_only=save_form.cleaned_data["outcome_only"],
                expires_in_days=save_form.expires_in_days,
                attempt=save_form.attempt_id,
            )
        except AlreadySaved as already:
            return redirect("results:saved", token=already.result.token)
        _remember_created(request, saved.token, secret)
        return redirect("results:saved", token=saved.token)
    snapshot = with_what_would_change(
        snapshot_payload(progress.row, version, decision), version, decision
    )
    return render(
        request,
        "wizard/result.html",
        {
            "snap": snapshot,
            "save_form": save_form,
            "row": progress.row,
            "preview": progress.preview,
        },
        status=400 if save_form.errors else 200,
    )


# --- the person's progress, and the results they created -----------------------------------------


def _remember_created(request: HttpRequest, token: str, secret: str) -> None:
    """The creator's browser keeps each result's revoke secret, to show it on the saved page. In
    the session, on the server, not in a cookie: the secret need not travel with every request,
    and saving a result writes to the database anyway."""
    created = request.session.get(CREATED_RESULTS_KEY)
    created = dict(created) if isinstance(created, dict) else {}
    created[token] = secret
    request.session[CREATED_RESULTS_KEY] = created


def created_secret(request: HttpRequest, token: str) -> str | None:
    created = request.session.get(CREATED_RESULTS_KEY)
    secret = created.get(token) if isinstance(created, dict) else None
    return secret if isinstance(secret, str) else None


def _load(request: HttpRequest, slug: str) -> Progress | HttpResponse:
    """The person's progress in this policy, or the redirect that puts them back on track."""
    state = cookie_state.read(request, slug)
    if state is None:
        _version_in_effect_or_404(slug)  # an unknown policy is a 404, not a redirect to one
        return redirect("wizard:policy_start", slug=slug)
    pk = state.get("version") if isinstance(state, dict) else None
    answers = state.get("answers") if isinstance(state, dict) else None
    if type(pk) is not int or not isinstance(answers, dict):
        return _restart(request, slug, UNREADABLE_ANSWERS)
    # Drafts only in a preview, and only for staff (a preview outlives no logout).
    preview = state.get("preview") is True
    if preview and not _is_staff(request):
        return _restart(request, slug, VERSION_GONE)
    try:
        # Published versions only: outside a preview, a draft pk is as good as a gone one.
        row = version_by_pk(pk, include_drafts=True) if preview else published_version(slug, pk)
    except VersionNotFound:
        return _restart(request, slug, VERSION_GONE)
    if row.policy.slug != slug:
        return _restart(request, slug, UNREADABLE_ANSWERS)
    version = compiled(row)
    if engine.validate(version, answers):
        return _restart(request, slug, UNREADABLE_ANSWERS)
    return Progress(row=row, version=version, answers=dict(answers), preview=preview)


def _has_answers(request: HttpRequest, slug: str) -> bool:
    state = cookie_state.read(request, slug)
    return isinstance(state, dict) and bool(state.get("answers"))


def _restart(request: HttpRequest, slug: str, message: str) -> HttpResponseRedirect:
    messages.info(request, message)
    response = HttpResponseRedirect(reverse("wizard:policy_start", args=[slug]))
    return cookie_state.forget(response, slug)


def _version_in_effect_or_404(slug: str) -> PolicyVersion:
    try:
        return version_in_effect(slug)
    except PolicyNotFound:
        raise Http404(f"No published policy {slug!r}.") from None
    except AsOfError:
        # Published, but only with versions that take effect later: not public yet.
        raise Http404(f"Policy {slug!r} is not in effect yet.") from None


def _is_staff(request: HttpRequest) -> bool:
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_active and user.is_staff)


# --- staff preview -------------------------------------------------------------------------------


class PreviewForm(forms.Form):
    as_of = forms.DateField(
        required=False,
        label="As of",
        help_text="Leave empty to walk this version. With a date, you walk the version people "
        "would get that day if this one were published (a draft counts from its effective date).",
        error_messages={"invalid": "Write the date as YYYY-MM-DD."},
        widget=forms.DateInput(attrs={"type": "date"}),
    )


@never_cache
@staff_member_required
@require_http_methods(["GET", "HEAD", "POST"])
def preview_start(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Staff walk a version (a draft included) in the real wizard, as of any date. Never public:
    the preview lives in the staff member's browser and its results are not saved."""
    try:
        candidate = version_by_pk(pk, include_drafts=True)
    except VersionNotFound:
        raise Http404("No such version.") from None
    if candidate.policy.slug != slug:
        raise Http404("No such version of this policy.")
    form = PreviewForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        try:
            row = version_as_of(candidate=candidate, as_of=form.cleaned_data["as_of"])
        except AsOfError as exc:
            form.add_error("as_of", forms.ValidationError(str(exc), code="not_in_effect"))
        else:
            first = engine.next_question(compiled(row), {})
            onwards = _redirect_to_question(slug, first, changing=False)
            return cookie_state.store(request, onwards, slug, row.pk, {}, preview=True)
    return render(
        request,
        "policies/preview_start.html",
        {"policy": candidate.policy, "row": candidate, "form": form, "preview": True},
        status=400 if form.errors else 200,
    )


# --- the path through the questions --------------------------------------------------------------


def _may_visit(path: engine.Path, key: str) -> bool:
    """A question already answered on the path, or the next one; nothing further ahead."""
    return key in path.answers or (path.next_question is not None and path.next_question.key == key)


def _back_url(
    slug: str, version: engine.Version, path: engine.Path, key: str, *, changing: bool
) -> str:
    if changing:
        return reverse("wizard:check", args=[slug])
    previous = engine.previous_question(version, path, key)
    if previous is None:
        return reverse("wizard:policy_start", args=[slug])
    return _question_url(slug, previous.key, changing=False)


def _question_url(slug: str, key: str, *, changing: bool) -> str:
    url = reverse("wizard:question", args=[slug, key])
    return f"{url}?{urlencode({CHANGE_PARAM: 1})}" if changing else url


def _redirect_to_question(
    slug: str, question: engine.Question | None, *, changing: bool
) -> HttpResponseRedirect:
    """To the given question, or to the check page once nothing is left to ask."""
    if question is None:
        return HttpResponseRedirect(reverse("wizard:check", args=[slug]))
    return HttpResponseRedirect(_question_url(slug, question.key, changing=changing))


# --- saved results: the share page and what hangs off it ------------------------------------------


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
    return response


def _gone(request: HttpRequest, found: Result) -> HttpResponse:
    revoked = found.revoked_at is not None
    return _private(
        render(request, "results/gone.html", {"revoked": revoked, "result": found}, status=410)
    )


def _newer_version(found: Result) -> PolicyVersion | None:
    """The version in effect now, when it is not the one the result was checked against."""
    try:
        current = version_in_effect(found.version.policy.slug)
    except (PolicyNotFound, AsOfError):
        return None
    return current if current.pk != found.version_id else None


def _share_context(found: Result, newer: PolicyVersion | None) -> dict[str, Any]:
    return {
        "result": found,
        "snap": found.public_snapshot,
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
    # The snapshot never changes; only the "policy changed" notice can, so it is in the tag.
    etag = f'"{found.token}-{newer.version_id if newer else "current"}-1"'
    not_modified = get_conditional_response(request, etag=etag)
    if not_modified is not None:
        return _private(not_modified)
    response = render(request, "results/share.html", _share_context(found, newer))
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
    context = _share_context(found, _newer_version(found))
    context["share_url"] = request.build_absolute_uri(found.get_absolute_url())
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
    snapshot = {
        **found.public_snapshot,
        "result_url": request.build_absolute_uri(found.get_absolute_url()),
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
    current = _version_in_effect_or_404(found.version.policy.slug)
    version = compiled(current)
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
        _remember_created(request, saved.token, secret)
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
    if found.outcome_only or request.method != "POST":
        return redirect("results:recheck", token=token)
    slug = found.version.policy.slug
    row = _version_in_effect_or_404(slug)
    version = compiled(row)
    answers = engine.still_valid(version, found.answers)
    onwards = _redirect_to_question(slug, engine.next_question(version, answers), changing=False)
    return cookie_state.store(request, onwards, slug, row.pk, answers)


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


# --- errors --------------------------------------------------------------------------------------


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: a form came without a valid token (cookies blocked or cleared, or a
    page from another site posting here). Nothing was saved; the link leads back, by GET, to the
    page the form was on. Same page for htmx requests, which swap it into the body."""
    back = request.get_full_path()
    if not url_has_allowed_host_and_scheme(back, allowed_hosts=set()):
        back = reverse("wizard:start")
    return render(request, "403_csrf.html", {"back_url": back}, status=403)
