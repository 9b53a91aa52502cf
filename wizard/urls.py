from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.urls import include, path

from .api import api


def favicon(request: HttpRequest) -> HttpResponse:
    # The pages name no icon (base.html links an empty one); the admin's pages do not, and
    # browsers then ask for /favicon.ico: answer with nothing rather than a 404.
    response = HttpResponse(status=204)
    response["Cache-Control"] = "public, max-age=86400"
    return response


def healthz(request: HttpRequest) -> HttpResponse:
    # Deliberately touches nothing else (no database, no session): a liveness probe.
    return HttpResponse("ok", content_type="text/plain")


handler400 = "wizard.error_pages.bad_request"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("favicon.ico", favicon, name="favicon"),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("r/", include(("wizard.result_urls", "results"), namespace="results")),
    path("sources/", include(("wizard.source_urls", "sources"), namespace="sources")),
    path("", include(("wizard.page_urls", "wizard"), namespace="wizard")),
]
