"""A person's progress in one policy, read back from the browser and checked on every request.

The state (`cookie_state.WizardState`) comes back from the browser, so it is client input:
anything unexpected (a bad signature, wrong types, unknown ids, a version that is gone) restarts
the wizard with a message saying why. `load` raises `Restart` (holding the redirect) instead of
returning a response; views that load progress are wrapped in `restarts_on_lost_progress`, which
answers with it.

Staff can walk any version in the same pages, drafts included (`preview.preview_start`): the state
then says `preview`, which lets `load` accept a draft only while the user is staff, marks every
page as a preview, and keeps its results from being saved.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Concatenate, ParamSpec, TypeVar

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from policies import catalog, engine

from . import cookie_state

UNREADABLE_ANSWERS = cookie_state.TAMPERED
VERSION_GONE = (
    "The version of the policy you started with is no longer available, so you need to start again."
)
STALE_STEP = (
    "That question no longer applies to your answers, which may have changed in another tab or "
    "window. The answer you sent was not saved: carry on from here."
)
NOT_FINISHED = "Some questions still need an answer, so nothing was saved. Carry on from here."
PREVIEW_NOT_SAVED = "This is a preview, so its result is not saved."


@dataclass(frozen=True)
class Progress:
    """A person's place in one policy: the pinned version and their answers so far."""

    version: catalog.VersionRef
    engine_version: engine.Version
    answers: dict[str, str]
    preview: bool = False  # a staff preview, which may be of a draft

    @property
    def slug(self) -> str:
        return self.version.policy.slug

    def state(self, answers: dict[str, str]) -> cookie_state.WizardState:
        """The state to store after an answer: same version and preview, these answers."""
        return cookie_state.WizardState(self.version.pk, answers, preview=self.preview)


class Restart(Exception):
    """Progress cannot go on from here; `response` puts the person back on track."""

    def __init__(self, response: HttpResponse) -> None:
        super().__init__(response.status_code)
        self.response = response


P = ParamSpec("P")
Request = TypeVar("Request", bound=HttpRequest)


def restarts_on_lost_progress(
    view: Callable[Concatenate[Request, P], HttpResponse],
) -> Callable[Concatenate[Request, P], HttpResponse]:
    @functools.wraps(view)
    def wrapped(request: Request, *args: P.args, **kwargs: P.kwargs) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except Restart as restart:
            return restart.response

    return wrapped


def load(request: HttpRequest, slug: str) -> Progress:
    """The person's progress in this policy; Restart when there is none (to the start page) or
    it cannot be used (the same, with a message); Http404 for an unknown policy."""
    try:
        state = cookie_state.read(request, slug)
    except cookie_state.StateLost as lost:
        raise Restart(restart(request, slug, lost.reason)) from None
    if state is None:
        version_in_effect_or_404(slug)  # an unknown policy is a 404, not a redirect to one
        raise Restart(HttpResponseRedirect(reverse("wizard:policy_start", args=[slug])))
    # Drafts only in a preview, and only for staff (a preview outlives no logout).
    if state.preview and not is_staff(request):
        raise Restart(restart(request, slug, VERSION_GONE))
    try:
        # Published versions only: outside a preview, a draft pk is as good as a gone one.
        if state.preview:
            version = catalog.version_by_pk(state.version, include_drafts=True)
        else:
            version = catalog.published_version(slug, state.version)
    except catalog.VersionNotFound:
        raise Restart(restart(request, slug, VERSION_GONE)) from None
    if version.policy.slug != slug:
        raise Restart(restart(request, slug, UNREADABLE_ANSWERS))
    engine_version = catalog.compiled(version)
    if engine.validate(engine_version, state.answers):
        raise Restart(restart(request, slug, UNREADABLE_ANSWERS))
    return Progress(version, engine_version, state.answers, preview=state.preview)


def has_answers(request: HttpRequest, slug: str) -> bool:
    try:
        state = cookie_state.read(request, slug)
    except cookie_state.StateLost:
        return False
    return state is not None and bool(state.answers)


def restart(request: HttpRequest, slug: str, message: str) -> HttpResponseRedirect:
    messages.info(request, message)
    response = HttpResponseRedirect(reverse("wizard:policy_start", args=[slug]))
    return cookie_state.forget(response, slug)


def version_in_effect_or_404(slug: str) -> catalog.VersionRef:
    try:
        return catalog.version_in_effect(slug)
    except catalog.PolicyNotFound:
        raise Http404(f"No published policy {slug!r}.") from None
    except catalog.AsOfError:
        # Published, but only with versions that take effect later: not public yet.
        raise Http404(f"Policy {slug!r} is not in effect yet.") from None


def is_staff(request: HttpRequest) -> bool:
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_active and user.is_staff)
