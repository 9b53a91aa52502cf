"""Request-level guards: rate limits on the expensive or abusable writes, and a plain 503 page
when the database is unreachable.

Both live here rather than in the views so that every route is covered by one table, and so a
view never has to know about them.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect, JsonResponse
from django.http.response import HttpResponseRedirectBase
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django_ratelimit.core import get_usage

from policies import catalog

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limit:
    group: str  # routes in one group share one count per client
    setting: str  # the setting that holds the rate, e.g. "RATE_LIMIT_API" = "120/m"
    per: str  # what one count belongs to: "address" (client_address) or "username"


API = Limit("api", "RATE_LIMIT_API", "address")
SAVE = Limit("save", "RATE_LIMIT_SAVE", "address")
LOGIN = Limit("login", "RATE_LIMIT_LOGIN", "address")
LOGIN_USERNAME = Limit("login-username", "RATE_LIMIT_LOGIN_USERNAME", "username")

# The POST routes that are limited, and what each counts against, in order: the first limit
# exceeded answers 429, and the ones after it are not counted. An API evaluation that asks to
# save also counts against SAVE (`asks_to_save`), like saving from the pages.
LIMITS: dict[str, tuple[Limit, ...]] = {
    "api:policy_evaluate": (API,),
    "wizard:result": (SAVE,),
    "results:recheck": (SAVE,),
    "admin:login": (LOGIN, LOGIN_USERNAME),
}
# The API body is read (once; the view reuses it) to see whether it asks to save. A body larger
# than this, or of unknown length, is counted as a save rather than parsed.
SAVE_PEEK_BYTES = 64 * 1024


def client_address(request: HttpRequest) -> str:
    """The address that rate limits count: REMOTE_ADDR, or behind WIZARD_TRUSTED_PROXIES = n
    proxies, the address the outermost of them saw. Each proxy appends the address it got the
    request from to X-Forwarded-For, so the n-th entry from the right is the last one written by
    a proxy of ours; anything left of it came from the client and may be forged. (django-ratelimit
    calls this through RATELIMIT_IP_META_KEY and groups IPv6 addresses by /64.)"""
    remote = str(request.META.get("REMOTE_ADDR", ""))
    trusted = int(getattr(settings, "TRUSTED_PROXIES", 0))
    if trusted <= 0:
        return remote
    header = str(request.META.get("HTTP_X_FORWARDED_FOR", ""))
    forwarded = [entry.strip() for entry in header.split(",") if entry.strip()]
    if not forwarded:
        return remote  # not through the proxies at all
    # Fewer entries than proxies: the request entered after the outermost; the leftmost entry is
    # still one a proxy of ours wrote.
    candidate = forwarded[-min(trusted, len(forwarded))]
    if candidate.count(":") == 1 and "." in candidate:  # "203.0.113.7:51234"
        candidate = candidate.split(":", 1)[0]
    candidate = candidate.removeprefix("[").split("]", 1)[0]  # "[2001:db8::1]:443"
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        logger.warning("X-Forwarded-For entry is not an address; counting REMOTE_ADDR")
        return remote


class RateLimitMiddleware:
    """429 with Retry-After once a client (by `client_address`) exceeds the rate of a guarded route.
    It acts in process_view, where Django has already resolved the URL (`resolver_match`), so
    no request pays for a second resolution."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: Callable[..., HttpResponse], *args: object
    ) -> HttpResponse | None:
        match = request.resolver_match
        if request.method != "POST" or match is None or match.view_name not in LIMITS:
            return None
        limits = LIMITS[match.view_name]
        if (
            match.view_name == "api:policy_evaluate"
            and settings.RATE_LIMIT_SAVE
            and asks_to_save(request)
        ):
            limits = (*limits, SAVE)
        for limit in limits:
            rate = getattr(settings, limit.setting, "")
            key = limit_key(limit, request)
            if not rate or key is None:
                continue
            if outage.active():
                return None
            try:
                usage = get_usage(request, group=limit.group, key=key, rate=rate, increment=True)
            except Exception as exc:  # whatever the cache's client raises when it is down
                outage.begin(exc)
                return None
            if usage is not None and usage["should_limit"]:
                return too_many(request, limit, rate, usage)
        return None


class CacheOutage:
    """Rate limiting fails open: when the cache that counts limits fails (Redis stopped or
    hanging), requests go through uncounted rather than answering 500. After a failure this
    process stops asking the cache for RETRY_SECONDS, so an outage costs one request one socket
    timeout, not every request, and the log gets one warning per interval, not one per request."""

    RETRY_SECONDS = 5.0

    def __init__(self) -> None:
        self.until = 0.0

    def active(self) -> bool:
        return time.monotonic() < self.until

    def begin(self, exc: Exception) -> None:
        self.until = time.monotonic() + self.RETRY_SECONDS
        logger.warning(
            "Rate limits are not applied for %.0f s: the cache that counts them failed (%s: %s)",
            self.RETRY_SECONDS,
            type(exc).__name__,
            exc,
        )


outage = CacheOutage()


def limit_key(limit: Limit, request: HttpRequest) -> Any:
    """What django-ratelimit counts by: the client address, or for LOGIN_USERNAME the username
    tried (None, not counted, when there is none: the login form refuses it anyway)."""
    if limit.per == "address":
        return "ip"  # client_address, through RATELIMIT_IP_META_KEY
    username = str(request.POST.get("username", "")).strip().casefold()[:150]
    if not username:
        return None
    return lambda group, request: username


def asks_to_save(request: HttpRequest) -> bool:
    """Whether an API evaluation's JSON body says "save": true. Invalid JSON is not a save (the
    API answers 400); a body too large to peek at counts as one."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or -1)
    except ValueError:
        length = -1
    if not 0 <= length <= SAVE_PEEK_BYTES:
        return True
    try:
        payload = orjson.loads(request.body)
    except (orjson.JSONDecodeError, RequestDataTooBig):
        return False  # the API refuses it, and stores nothing
    return isinstance(payload, dict) and payload.get("save") is True


def too_many(request: HttpRequest, limit: Limit, rate: str, usage: dict[str, Any]) -> HttpResponse:
    retry_after = max(1, math.ceil(usage["time_left"]))
    whose = "from one address" if limit.per == "address" else "for one username"
    message = (
        f"Too many requests: at most {rate.replace('/', ' per ')} {whose}. "
        f"Try again in {retry_after} seconds."
    )
    response: HttpResponse
    if request.path_info.startswith("/api/"):
        response = JsonResponse({"errors": {"rate": message}}, status=429)
    else:
        response = HttpResponse(
            render_to_string("429.html", {"message": message, "retry_after": retry_after}),
            status=429,
        )
    response["Retry-After"] = str(retry_after)
    return response


class DatabaseUnavailableMiddleware:
    """A database that cannot be reached answers 503 with a plain page (or JSON for the API),
    never a traceback. /healthz never touches the database, so it keeps answering."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            return self.get_response(request)
        except (OperationalError, InterfaceError) as exc:
            # Raised outside the view, e.g. by the session middleware saving on the way out.
            return self._unavailable(request, exc)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, OperationalError | InterfaceError):
            return self._unavailable(request, exception)
        return None

    def _unavailable(self, request: HttpRequest, exc: Exception) -> HttpResponse:
        logger.error("Database unavailable: %s", type(exc).__name__)
        response: HttpResponse
        if request.path_info.startswith("/api/"):
            response = JsonResponse(
                {"errors": {"service": "The database is unavailable; try again shortly."}},
                status=503,
            )
        else:
            response = HttpResponse(render_to_string("503.html"), status=503)
        response["Retry-After"] = "30"
        response["Cache-Control"] = "no-store"
        return response


class ApiMethodNotAllowedMiddleware:
    """The API answers a method it does not take (GET on evaluate, say) in its own error shape,
    not Django's empty 405, keeping the Allow header that names the methods it does take."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code != 405 or not request.path.startswith("/api/"):
            return response
        allowed = response.get("Allow", "")
        message = f"This address does not take {request.method}"
        message += f"; use {allowed}." if allowed else "."
        replaced = JsonResponse({"errors": {"method": message}}, status=405)
        if allowed:
            replaced["Allow"] = allowed
        return replaced


class HttpResponsePermanentRedirectSameMethod(HttpResponseRedirectBase):
    """308: moved for good, and the client repeats the same method with the same body."""

    status_code = 308


class MovedPolicyMiddleware:
    """A slug a policy had before a rename leads to the same path under its slug now: a page,
    the API, the history, the sources and the feed alike. Only a 404 whose URL named a slug asks
    the catalog (one query), so no other response costs anything. GET and HEAD get a 301; other
    methods a 308, which repeats the POST with its body, and the API's 308 carries its error
    shape naming the new slug, for clients that do not follow redirects."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        match = request.resolver_match
        if response.status_code != 404 or match is None or "slug" not in match.kwargs:
            return response
        old = str(match.kwargs["slug"])
        new = catalog.moved_to(old)
        if new is None:
            return response
        try:
            location = reverse(match.view_name, kwargs={**match.kwargs, "slug": new})
        except NoReverseMatch:
            return response
        query = request.META.get("QUERY_STRING", "")
        if query:
            location += "?" + query
        if request.method in ("GET", "HEAD"):
            return HttpResponsePermanentRedirect(location)
        moved = HttpResponsePermanentRedirectSameMethod(location)
        if request.path.startswith("/api/"):
            moved["Content-Type"] = "application/json"
            moved.content = orjson.dumps(
                {
                    "errors": {
                        "policy": f"Policy {old!r} is now {new!r}: send this request to {location}."
                    }
                }
            )
        return moved
