"""Request-level guards: rate limits on the expensive or abusable writes, and a plain 503 page
when the database is unreachable.

Both live here rather than in the views so that every route is covered by one table, and so a
view never has to know about them.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django_ratelimit.core import get_usage

logger = logging.getLogger(__name__)

# (namespace:url_name, method) -> the setting that holds its rate, e.g. "60/m".
RATE_LIMITED = {
    ("api:policy_evaluate", "POST"): "RATE_LIMIT_API",
    ("wizard:result", "POST"): "RATE_LIMIT_SAVE",
    ("results:recheck", "POST"): "RATE_LIMIT_SAVE",
    ("admin:login", "POST"): "RATE_LIMIT_LOGIN",
}


class RateLimitMiddleware:
    """429 with Retry-After once a client (by IP address) exceeds the rate of a guarded route.
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
        if request.method != "POST" or match is None:
            return None
        setting = RATE_LIMITED.get((match.view_name, request.method))
        rate = getattr(settings, setting, "") if setting else ""
        if not rate:
            return None
        usage = get_usage(request, group=match.view_name, key="ip", rate=rate, increment=True)
        if usage is None or not usage["should_limit"]:
            return None
        retry_after = max(1, math.ceil(usage["time_left"]))
        message = (
            f"Too many requests: at most {rate.replace('/', ' per ')} from one address. "
            f"Try again in {retry_after} seconds."
        )
        response: HttpResponse
        if match.view_name.startswith("api:"):
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
