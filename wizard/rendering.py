"""How the wizard's pages answer: the whole page or its htmx `swap` partial, question pages reused
across requests, and the URLs of the steps.

With JavaScript on, htmx enhances the wizard's own forms (policy start, questions) without changing
the flow: a form posts to the same URL, and the browser follows the same redirect, but as an htmx
request, so the page it lands on answers with only its `swap` partial for #main-content and pushes
its URL into the history. A history restore (Back or Forward) gets the whole page.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.core.cache import caches
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django_htmx.http import push_url
from django_htmx.middleware import HtmxDetails

from policies import catalog, engine

CHANGE_PARAM = "change"


class HtmxHttpRequest(HttpRequest):
    """A request that has been through django-htmx's middleware."""

    htmx: HtmxDetails


def page(
    request: HtmxHttpRequest, template: str, context: dict[str, Any], *, status: int = 200
) -> HttpResponse:
    """A wizard page: the whole of it, or for an htmx swap only its `swap` partial (title, back
    link, messages and main content). The page an htmx form ends up on after the redirect pushes
    its own URL, so Back and Forward walk the same URLs as without JavaScript; a form shown again
    with an error stays on its URL."""
    name = _template_name(request, template)
    return _finish(request, render(request, name, _enhanced(context), status=status))


def _template_name(request: HtmxHttpRequest, template: str) -> str:
    return f"{template}#swap" if _swapping(request) else template


def _swapping(request: HtmxHttpRequest) -> bool:
    return bool(request.htmx) and not request.htmx.history_restore_request


def _enhanced(context: dict[str, Any]) -> dict[str, Any]:
    return {**context, "htmx_enhanced": True}  # base.html loads htmx for these pages only


def _finish(request: HtmxHttpRequest, response: HttpResponse) -> HttpResponse:
    if _swapping(request) and request.method in ("GET", "HEAD"):
        push_url(response, request.get_full_path())
    # The same URL answers with a fragment or a page: caches must keep them apart.
    patch_vary_headers(response, ["HX-Request"])
    return response


# --- question pages, rendered once and reused ----------------------------------------------------


@dataclass(frozen=True)
class QuestionPage:
    """Everything a question page shows when it has no error, message or preview notice to show:
    the template is rendered from this value alone (`context`), and the value is also the key
    under which the rendering is reused, so nothing the page shows can be missing from the key."""

    version: catalog.VersionRef
    question: engine.Question
    selected: str | None
    number: int
    at_most: int
    action_url: str
    back_url: str

    def context(self) -> dict[str, Any]:
        return {
            "policy": self.version.policy,
            "version": self.version,
            "question": self.question,
            "selected": self.selected,
            "first_choice": self.question.choices[0] if self.question.choices else None,
            "number": self.number,
            "at_most": self.at_most,
            "action_url": self.action_url,
            "back_url": self.back_url,
            "error": None,
            "preview": False,
        }


TEMPLATE_QUESTION = "wizard/question.html"

# Rendered in place of the CSRF token in a page kept for reuse. Random per process, so that no
# policy text can contain it.
_CSRF_HOLE = secrets.token_hex(32)


def question_page(
    request: HtmxHttpRequest,
    shown: QuestionPage,
    *,
    error: str | None = None,
    preview: bool = False,
    reusable: bool,
    status: int = 200,
) -> HttpResponse:
    """A question page. `reusable` (a published version, no error, no message, no preview) says
    that `shown` decides everything on it: it is then rendered once per process and reused, with
    this response's own CSRF token put in.

    Rendering is most of the cost of a question page, and Django's template engine is slow
    compared with everything else a step does. The token is the one part that must differ per
    response: Django masks it afresh each time (so that compression cannot leak it), and
    get_token also renews the CSRF cookie, as {% csrf_token %} would."""
    name = _template_name(request, TEMPLATE_QUESTION)
    if not reusable:
        context = {**shown.context(), "error": error, "preview": preview}
        return _finish(request, render(request, name, _enhanced(context), status=status))
    # One process's cache (locmem): repr is stable within a process, which is all a key needs.
    digest = hashlib.sha256(repr((name, shown)).encode()).hexdigest()
    html = caches["rendered"].get_or_set(
        f"page:{digest}",
        lambda: render_to_string(
            name, _enhanced({**shown.context(), "csrf_token": _CSRF_HOLE}), request
        ),
        timeout=None,
    )
    response = HttpResponse(str(html).replace(_CSRF_HOLE, get_token(request)), status=status)
    return _finish(request, response)


# --- the URLs of the steps ------------------------------------------------------------------------


def question_url(slug: str, key: str, *, changing: bool) -> str:
    url = reverse("wizard:question", args=[slug, key])
    return f"{url}?{urlencode({CHANGE_PARAM: 1})}" if changing else url


def redirect_to_question(
    slug: str, question: engine.Question | None, *, changing: bool
) -> HttpResponseRedirect:
    """To the given question, or to the check page once nothing is left to ask."""
    if question is None:
        return HttpResponseRedirect(reverse("wizard:check", args=[slug]))
    return HttpResponseRedirect(question_url(slug, question.key, changing=changing))


def back_url(
    slug: str, version: engine.Version, path: engine.Path, key: str, *, changing: bool
) -> str:
    if changing:
        return reverse("wizard:check", args=[slug])
    previous = engine.previous_question(version, path, key)
    if previous is None:
        return reverse("wizard:policy_start", args=[slug])
    return question_url(slug, previous.key, changing=False)
