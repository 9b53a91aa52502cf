"""The browser flow: start page, one question per page, check your answers, result.

Every step is a real URL that renders a full page and works without JavaScript (form POST,
redirect, GET). The answers live in a signed cookie per policy (`cookie_state`), pinned to the
version that was in effect when the person pressed "Start now", so a version published halfway
through never changes their result (`progress`). Versions come from `policies.catalog`; all
decisions are made by `policies.engine`; pages answer through `rendering`.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.messages import get_messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from policies import catalog, engine
from policies.payloads import (
    snapshot_payload,
    with_reviewed_drift,
    with_sources,
    with_what_would_change,
)

from . import cookie_state, progress
from .creators import remember_created
from .forms import AnswerForm, SaveResultForm
from .progress import NOT_FINISHED, PREVIEW_NOT_SAVED, STALE_STEP, Progress
from .rendering import (
    CHANGE_PARAM,
    HtmxHttpRequest,
    QuestionPage,
    back_url,
    page,
    question_page,
    question_url,
    redirect_to_question,
)
from .services import AlreadySaved, result_create


@require_safe
def start(request: HttpRequest) -> HttpResponse:
    policies = []
    for listing in catalog.published_policies():
        # A policy whose first version has not taken effect yet is not offered.
        in_effect = listing.in_effect()
        if in_effect is not None:
            policies.append({"policy": listing.policy, "version": in_effect})
    return render(request, "wizard/start.html", {"policies": policies})


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def policy_start(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    version = progress.version_in_effect_or_404(slug)
    if request.method == "POST":
        # "Start now" (and "Start again") pins the version in effect and forgets earlier answers.
        first = engine.next_question(catalog.compiled(version), {})
        onwards = redirect_to_question(slug, first, changing=False)
        return cookie_state.store(request, onwards, slug, cookie_state.WizardState(version.pk))
    return page(
        request,
        "wizard/policy_start.html",
        {
            "policy": version.policy,
            "version": version,
            "in_progress": progress.has_answers(request, slug),
        },
    )


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
@progress.restarts_on_lost_progress
def question(request: HtmxHttpRequest, slug: str, key: str) -> HttpResponse:
    found = progress.load(request, slug)
    version = found.engine_version
    asked = version.question(key)
    if asked is None:
        raise Http404(f"No question {key!r} in this policy.")
    path = engine.walk(version, found.answers)
    changing = CHANGE_PARAM in request.GET
    if not _may_visit(path, key):
        if request.method == "POST":
            # A stale tab or window: its answer is dropped, and the person is told so.
            messages.info(request, STALE_STEP)
        return redirect_to_question(slug, path.next_question, changing=changing)

    # Only an answer needs the form; the page itself shows the stored answer (if any).
    form = AnswerForm(asked, data=request.POST) if request.method == "POST" else None
    if form is not None and form.is_valid():
        answers = {**found.answers, key: form.answer}
        path = engine.walk(version, answers)
        # Answers that the new answer takes off the path are dropped, not kept in reserve.
        answers = {k: v for k, v in answers.items() if k not in path.ignored}
        if changing:
            onwards = redirect_to_question(slug, path.next_question, changing=True)
        else:
            following = engine.following_question(version, path, key)
            onwards = redirect_to_question(slug, following, changing=False)
        return cookie_state.store(request, onwards, slug, found.state(answers))

    number, at_most = engine.position(version, path, key)
    shown = QuestionPage(
        version=found.version,
        question=asked,
        selected=path.answers.get(key) if form is None else form.selected,
        number=number,
        at_most=at_most,
        action_url=question_url(slug, key, changing=changing),
        back_url=back_url(slug, version, path, key, changing=changing),
    )
    # A published version never changes, so without an error to show (a form), a message or a
    # staff preview (maybe of a draft), `shown` decides everything on the page.
    return question_page(
        request,
        shown,
        error=None if form is None else form.error,
        preview=found.preview,
        reusable=form is None and not found.preview and not get_messages(request),
    )


@never_cache
@require_safe
@progress.restarts_on_lost_progress
def check(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    found = progress.load(request, slug)
    path = engine.walk(found.engine_version, found.answers)
    if path.next_question is not None:
        return redirect_to_question(slug, path.next_question, changing=False)
    return _render_check(request, found)


def _render_check(request: HtmxHttpRequest, found: Progress, status: int = 200) -> HttpResponse:
    version, slug = found.engine_version, found.slug
    path = engine.walk(version, found.answers)
    rows = []
    last: str | None = None
    for asked in engine.path_questions(version, path.answers):
        last = asked.key
        choice = asked.choice(path.answers[asked.key])
        rows.append(
            {
                "question": asked,
                "answer": choice.label if choice else path.answers[asked.key],
                "change_url": question_url(slug, asked.key, changing=True),
            }
        )
    return page(
        request,
        "wizard/check.html",
        {
            "policy": found.version.policy,
            "version": found.version,
            "preview": found.preview,
            "rows": rows,
            "back_url": (
                question_url(slug, last, changing=False)
                if last
                else reverse("wizard:policy_start", args=[slug])
            ),
        },
        status=status,
    )


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
@progress.restarts_on_lost_progress
def result(request: HttpRequest, slug: str) -> HttpResponse:
    """GET shows the result of the answers so far; POST saves it as a shareable result
    (with the privacy options of SaveResultForm) and leads to its permanent link."""
    found = progress.load(request, slug)
    version = found.engine_version
    decision = engine.evaluate(version, found.answers)
    if decision.errors:
        return progress.restart(request, slug, progress.UNREADABLE_ANSWERS)
    if not decision.complete:
        if request.method == "POST":
            messages.info(request, NOT_FINISHED)
        return redirect_to_question(slug, decision.next_question, changing=False)
    if request.method == "POST" and found.preview:
        messages.info(request, PREVIEW_NOT_SAVED)
        return redirect("wizard:result", slug=slug)
    save_form = SaveResultForm(
        request.POST if request.method == "POST" else None,
        slug=slug,
        sensitive=engine.sensitive_answers(version, decision.answers),
    )
    if request.method == "POST" and save_form.is_valid():
        try:
            saved, secret = result_create(
                version=found.version,
                answers=found.answers,
                outcome_only=save_form.cleaned_data["outcome_only"],
                expires_in_days=save_form.expires_in_days,
                attempt=save_form.attempt_id,
            )
        except AlreadySaved as already:
            return redirect("results:saved", token=already.result.token)
        remember_created(request, saved.token, secret)
        return redirect("results:saved", token=saved.token)
    # Reviewed drift on each clause first, then each clause once in the sources section.
    snapshot = with_sources(
        with_reviewed_drift(
            with_what_would_change(
                snapshot_payload(found.version, version, decision), version, decision
            ),
            catalog.reworded(found.version),
        )
    )
    return render(
        request,
        "wizard/result.html",
        {
            "snap": snapshot,
            "save_form": save_form,
            "version": found.version,
            "preview": found.preview,
        },
        status=400 if save_form.errors else 200,
    )


def _may_visit(path: engine.Path, key: str) -> bool:
    """A question already answered on the path, or the next one; nothing further ahead."""
    return key in path.answers or (path.next_question is not None and path.next_question.key == key)
