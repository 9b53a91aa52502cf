"""The browser flow: start page, one question per page, check your answers, result.

Every step is a real URL that renders a full page and works without JavaScript (form POST,
redirect, GET). The answers live in the session, pinned to the version that was in effect when the
person pressed "Start now", so a version published halfway through never changes their result:

    session["wizard"] = {
        "<policy slug>": {
            "version": <PolicyVersion pk>,
            "answers": {"<question id>": "<choice id>", ...},
        },
    }

Session data comes back from the client's session store, so it is checked on every read; anything
unexpected (wrong types, unknown ids, a version that is gone) restarts the wizard with a message.
All policy data is read through `policies.compile`; all decisions are made by `policies.engine`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from policies import engine
from policies.compile import (
    AsOfError,
    PolicyNotFound,
    VersionNotFound,
    compiled,
    published_policies,
    version_by_pk,
    version_in_effect,
)
from policies.models import PolicyVersion

from .forms import AnswerForm

SESSION_KEY = "wizard"
CHANGE_PARAM = "change"
SECURITY_CLAUSE_PREFIX = "security-"

UNREADABLE_ANSWERS = "We could not read your saved answers, so you need to start again."
VERSION_GONE = (
    "The version of the policy you started with is no longer available, so you need to start again."
)


@dataclass(frozen=True)
class Progress:
    """A person's place in one policy: the pinned version and their answers so far."""

    row: PolicyVersion
    version: engine.Version
    answers: dict[str, str]


# --- pages ---------------------------------------------------------------------------------------


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
def policy_start(request: HttpRequest, slug: str) -> HttpResponse:
    row = _version_in_effect_or_404(slug)
    if request.method == "POST":
        # "Start now" (and "Start again") pins the version in effect and forgets earlier answers.
        _save(request, slug, row.pk, {})
        version = compiled(row)
        return _redirect_to_question(slug, engine.next_question(version, {}), changing=False)
    return render(
        request,
        "wizard/policy_start.html",
        {
            "policy": row.policy,
            "row": row,
            "in_progress": bool(_answers_in_session(request, slug)),
        },
    )


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def question(request: HttpRequest, slug: str, key: str) -> HttpResponse:
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
        return _redirect_to_question(slug, path.next_question, changing=changing)

    form = AnswerForm(
        asked,
        data=request.POST if request.method == "POST" else None,
        initial={key: path.answers.get(key)},
    )
    if form.is_bound and form.is_valid():
        answers = {**progress.answers, key: form.answer}
        path = engine.walk(version, answers)
        # Answers that the new answer takes off the path are dropped, not kept in reserve.
        answers = {k: v for k, v in answers.items() if k not in path.ignored}
        _save(request, slug, progress.row.pk, answers)
        if changing:
            return _redirect_to_question(slug, path.next_question, changing=True)
        return _redirect_to_question(
            slug, engine.following_question(version, path, key), changing=False
        )

    number, about = engine.position(version, path, key)
    return render(
        request,
        "wizard/question.html",
        {
            "policy": progress.row.policy,
            "row": progress.row,
            "question": asked,
            "form": form,
            "error": form.error,
            "selected": form.selected,
            "first_choice": asked.choices[0] if asked.choices else None,
            "number": number,
            "about": about,
            "action_url": _question_url(slug, key, changing=changing),
            "back_url": _back_url(slug, version, path, key, changing=changing),
        },
    )


@never_cache
@require_safe
def check(request: HttpRequest, slug: str) -> HttpResponse:
    progress = _load(request, slug)
    if isinstance(progress, HttpResponse):
        return progress
    version = progress.version
    path = engine.walk(version, progress.answers)
    if path.next_question is not None:
        return _redirect_to_question(slug, path.next_question, changing=False)
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
    return render(
        request,
        "wizard/check.html",
        {
            "policy": progress.row.policy,
            "row": progress.row,
            "rows": rows,
            "back_url": (
                _question_url(slug, last, changing=False)
                if last
                else reverse("wizard:policy_start", args=[slug])
            ),
        },
    )


@never_cache
@require_safe
def result(request: HttpRequest, slug: str) -> HttpResponse:
    progress = _load(request, slug)
    if isinstance(progress, HttpResponse):
        return progress
    version = progress.version
    decision = engine.evaluate(version, progress.answers)
    if decision.errors:
        return _restart(request, slug, UNREADABLE_ANSWERS)
    if not decision.complete:
        return _redirect_to_question(slug, decision.next_question, changing=False)
    return render(
        request,
        "wizard/result.html",
        {
            "policy": progress.row.policy,
            "row": progress.row,
            "decision": decision,
            "verdict": decision.verdict,
            # The "Security and trust" links are clauses like any other, so admins edit them.
            "security_clauses": [
                clause
                for clause in version.clauses
                if clause.key.startswith(SECURITY_CLAUSE_PREFIX)
            ],
        },
    )


# --- the session ---------------------------------------------------------------------------------


def _load(request: HttpRequest, slug: str) -> Progress | HttpResponse:
    """The person's progress in this policy, or the redirect that puts them back on track."""
    wizard = request.session.get(SESSION_KEY)
    state = wizard.get(slug) if isinstance(wizard, dict) else wizard
    if state is None:
        _version_in_effect_or_404(slug)  # an unknown policy is a 404, not a redirect to one
        return redirect("wizard:policy_start", slug=slug)
    pk = state.get("version") if isinstance(state, dict) else None
    answers = state.get("answers") if isinstance(state, dict) else None
    if type(pk) is not int or not isinstance(answers, dict):
        return _restart(request, slug, UNREADABLE_ANSWERS)
    try:
        row = version_by_pk(pk)  # published versions only: a draft pk is as good as a gone one
    except VersionNotFound:
        return _restart(request, slug, VERSION_GONE)
    if row.policy.slug != slug:
        return _restart(request, slug, UNREADABLE_ANSWERS)
    version = compiled(row)
    if engine.validate(version, answers):
        return _restart(request, slug, UNREADABLE_ANSWERS)
    return Progress(row=row, version=version, answers=dict(answers))


def _answers_in_session(request: HttpRequest, slug: str) -> dict[str, Any]:
    wizard = request.session.get(SESSION_KEY)
    state = wizard.get(slug) if isinstance(wizard, dict) else None
    answers = state.get("answers") if isinstance(state, dict) else None
    return answers if isinstance(answers, dict) else {}


def _save(request: HttpRequest, slug: str, pk: int, answers: dict[str, str]) -> None:
    wizard = request.session.get(SESSION_KEY)
    wizard = dict(wizard) if isinstance(wizard, dict) else {}
    wizard[slug] = {"version": pk, "answers": answers}
    request.session[SESSION_KEY] = wizard  # a new dict, so the session knows it changed


def _restart(request: HttpRequest, slug: str, message: str) -> HttpResponseRedirect:
    wizard = request.session.get(SESSION_KEY)
    wizard = {k: v for k, v in wizard.items() if k != slug} if isinstance(wizard, dict) else {}
    request.session[SESSION_KEY] = wizard
    messages.info(request, message)
    return HttpResponseRedirect(reverse("wizard:policy_start", args=[slug]))


def _version_in_effect_or_404(slug: str) -> PolicyVersion:
    try:
        return version_in_effect(slug)
    except PolicyNotFound:
        raise Http404(f"No published policy {slug!r}.") from None
    except AsOfError:
        # Published, but only with versions that take effect later: not public yet.
        raise Http404(f"Policy {slug!r} is not in effect yet.") from None


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
