"""Error pages that are views of their own (settings.CSRF_FAILURE_VIEW)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
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
