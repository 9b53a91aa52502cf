"""Where a person is in a policy's wizard, kept in a signed cookie of its own.

    cookie "wizard-<policy slug>" = signed({"version": <PolicyVersion pk>,  # a WizardState
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

from dataclasses import dataclass, field
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


@dataclass(frozen=True)
class WizardState:
    """A person's place in one policy: the pinned version (a PolicyVersion pk) and the answers so
    far. The contents are checked for shape here; whether the ids fit the version is for the
    caller, which has the version."""

    version: int
    answers: dict[str, str] = field(default_factory=dict)
    preview: bool = False  # a staff preview, which may walk a draft

    def as_json(self) -> dict[str, Any]:
        state: dict[str, Any] = {"version": self.version, "answers": self.answers}
        if self.preview:
            state["preview"] = True
        return state


class StateLost(Exception):
    """The browser sent a state we cannot use: `reason` says why, in words for the person."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


TAMPERED = "We could not read your saved answers, so you need to start again."
EXPIRED = (
    "Your answers were not kept: they are kept for {days} after your last answer, and that time "
    "has passed. Start again."
)
SESSION_GONE = (
    "Your answers were not kept: they were kept on the server for this browser, and that has "
    "ended (you may have signed out, or cleared your cookies). Start again."
)


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
    """The JSON value in a cookie value, unchecked; None when the value is empty. Raises
    StateLost when it has expired or its signature fails (tampered, truncated, another key)."""
    if not value:
        return None  # what a browser may send back for a cookie that was deleted
    try:
        return signing.loads(value, salt=_salt(slug), max_age=settings.SESSION_COOKIE_AGE)
    except signing.SignatureExpired:
        days = round(settings.SESSION_COOKIE_AGE / 86400)
        raise StateLost(EXPIRED.format(days=f"{days} day" + ("s" if days != 1 else ""))) from None
    except signing.BadSignature:
        raise StateLost(TAMPERED) from None


def _session_key(slug: str) -> str:
    return f"wizard:{slug}"


def parse(value: object) -> WizardState:
    """The state in a decoded value, or StateLost when its shape is not one we wrote."""
    if not isinstance(value, dict):
        raise StateLost(TAMPERED)
    pk, answers, preview = value.get("version"), value.get("answers"), value.get("preview", False)
    if (
        type(pk) is not int
        or not isinstance(answers, dict)
        or not all(isinstance(k, str) and isinstance(v, str) for k, v in answers.items())
        or type(preview) is not bool
    ):
        raise StateLost(TAMPERED)
    return WizardState(version=pk, answers=dict(answers), preview=preview)


def read(request: HttpRequest, slug: str) -> WizardState | None:
    """The state the browser sent back for this policy (or the one kept in the session when it
    was too large for a cookie); None when there is none. StateLost when there is one that we
    cannot use."""
    value = decode(slug, request.COOKIES.get(cookie_name(slug), ""))
    if value is None:
        return None
    if value == IN_SESSION:
        value = request.session.get(_session_key(slug))
        if value is None:
            raise StateLost(SESSION_GONE)
    return parse(value)


def store(request: HttpRequest, response: Response, slug: str, state: WizardState) -> Response:
    """Keep `state` for this policy (replacing what was there)."""
    value = encode(slug, state.as_json())
    if len(value) > MAX_VALUE_BYTES:
        request.session[_session_key(slug)] = state.as_json()
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
