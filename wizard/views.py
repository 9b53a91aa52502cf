"""The browser flow: start page, one question per page, check your answers, result."""

from django.http import HttpRequest, HttpResponse


def start(request: HttpRequest) -> HttpResponse:
    return HttpResponse("Eligibility wizard")


def policy_start(request: HttpRequest, slug: str) -> HttpResponse:
    return HttpResponse(slug)
