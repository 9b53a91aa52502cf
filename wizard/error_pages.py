"""Error pages that are views of their own: settings.CSRF_FAILURE_VIEW and the 400 handler."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form came without a valid token (cookies blocked or cleared, or a page from another site
    posting here). Nothing was saved; the link leads back, by GET, to the page the form was on.
    Same page for htmx requests, which swap it into the body."""
    back = request.get_full_path()
    if not url_has_allowed_host_and_scheme(back, allowed_hosts=set()):
        back = reverse("wizard:start")
    return render(request, "403_csrf.html", {"back_url": back}, status=403)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler400: a body over the size limit, a form with too many fields, a malformed request.
    The API answers in its own shape, `{"errors": {...}}`; pages get a page. Both say what is
    allowed, and nothing was saved."""
    if isinstance(exception, RequestDataTooBig):
        field = "body"
        reason = (
            f"The request body is larger than the {settings.DATA_UPLOAD_MAX_MEMORY_SIZE:,} bytes "
            "allowed."
        )
    elif isinstance(exception, TooManyFieldsSent):
        field = "body"
        reason = (
            f"The form sends more than the {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS:,} fields "
            "allowed."
        )
    else:
        field = "request"
        reason = "The request is malformed."
    if request.path.startswith("/api/"):
        return JsonResponse({"errors": {field: reason}}, status=400)
    return render(request, "400.html", {"reason": reason}, status=400)
