"""Where a person is in a policy's wizard, kept in a signed cookie of its own.

    cookie "wizard-<policy slug>" = signed({"version": <PolicyVersion pk>,
                                           "answers": {"<question id>": "<choice id>", ...},
                                           "preview": true})  # "preview" only in staff previews

Why a cookie and not the session: every answer changes this state, and a database-backed session
turns each answer into a database write (a commit per click, the slowest part of a wizard step). A
signed cookie costs no query at all, and the state is small (a version and a dozen ids).

The value is signed with the project's SECRET_KEY (django.core.signing, salted per policy) and
timestamped, so it cannot be forged or moved to another policy, and it expires like a session.
Signed is not secret: the person can read their own answers in it, as they could on the page.
The cookie's path is the policy's own pages, so no other request carries it. What comes back is
still client input: the views validate its contents against the version on every read.

Browsers keep a cookie of up to 4096 bytes, name and attributes included. A state too large for
that (a policy asking well over a hundred questions on one path) is kept in the session instead,
and the cookie only says so: slower, but nothing is lost.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

COOKIE_PREFIX = "wizard-"
# The longest cookie value kept as is; the rest of the 4096 bytes is the name and attributes.
MAX_VALUE_BYTES = 3800
IN_SESSION = {"in_session": True}

Response = TypeVar("Response", bound=HttpResponse)


class Unreadable:
    """A cookie that is there but was not signed by us (tampered, truncated, another key)."""


UNREADABLE = Unreadable()


def cookie_name(slug: str) -> str:
    return f"{COOKIE_PREFIX}{slug}"


def _salt(slug: str) -> str:
    # Per policy: a value signed for one policy is refused by another's cookie.
    return f"wizard.progress:{slug}"


def _path(slug: str) -> str:
    return reverse("wizard:policy_start", args=[slug])


def encode(slug: str, state: dict[str, Any]) -> str:
    """The cookie value for `state`: JSON, compressed, timestamped and signed."""
    return signing.dumps(state, salt=_salt(slug), compress=True)


def decode(slug: str, value: str) -> Any:
    """The state in a cookie value (any JSON value, for the caller to validate); None when the
    value is empty or has expired; UNREADABLE when its signature fails."""
    if not value:
        return None  # what a browser may send back for a cookie that was deleted
    try:
        return signing.loads(value, salt=_salt(slug), max_age=settings.SESSION_COOKIE_AGE)
    except signing.SignatureExpired:
        return None  # as if the browser had already dropped it
    except signing.BadSignature:
        return UNREADABLE


def _session_key(slug: str) -> str:
    return f"wizard:{slug}"


def read(request: HttpRequest, slug: str) -> Any:
    """The state the browser sent back for this policy (see `decode`), or the one kept in the
    session when it was too large for a cookie."""
    state = decode(slug, request.COOKIES.get(cookie_name(slug), ""))
    if state == IN_SESSION:
        return request.session.get(_session_key(slug))  # None once the session has gone
    return state


def store(
    request: HttpRequest,
    response: Response,
    slug: str,
    pk: int,
    answers: dict[str, str],
    *,
    preview: bool = False,
) -> Response:
    """Pin the person to version `pk` with these answers (replacing what was there)."""
    state: dict[str, Any] = {"version": pk, "answers": answers}
    if preview:
        state["preview"] = True
    value = encode(slug, state)
    if len(value) > MAX_VALUE_BYTES:
        request.session[_session_key(slug)] = state
        value = encode(slug, IN_SESSION)
    response.set_cookie(
        cookie_name(slug),
        value,
        max_age=settings.SESSION_COOKIE_AGE,
        path=_path(slug),
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
    return response


def forget(response: Response, slug: str) -> Response:
    response.delete_cookie(cookie_name(slug), path=_path(slug), samesite="Lax")
    return response
