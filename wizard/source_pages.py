"""Views: the stored copies of the pages results quote. Public, read-only, one page per copy:
the text exactly as recorded (a quote highlighted where a clause's link leads), the dates of
the page's other copies, and a link to the live page."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_safe

from policies import catalog


@require_safe
def source_snapshot(request: HttpRequest, document: str, date: str) -> HttpResponse:
    """One copy of a page as recorded. Two queries."""
    try:
        page = catalog.source_page(document, date)
    except catalog.LookupFailed as exc:
        raise Http404(next(iter(exc.errors.values()))) from None
    return _render(request, page, None)


@require_safe
def source_document(request: HttpRequest, document: str) -> HttpResponse:
    """A page's latest copy."""
    try:
        latest = catalog.source_page(document, "latest")
    except catalog.LookupFailed as exc:
        raise Http404(next(iter(exc.errors.values()))) from None
    return redirect("sources:snapshot", document=document, date=latest.date.isoformat())


@require_safe
def clause_source(request: HttpRequest, slug: str, version_id: str, clause: str) -> HttpResponse:
    """The copy a published version's clause quotes, with the quote highlighted. Four queries at
    most (fewer once the version is compiled)."""
    try:
        page = catalog.clause_source_page(slug, version_id, clause)
    except catalog.LookupFailed as exc:
        raise Http404(next(iter(exc.errors.values()))) from None
    return _render(request, page, f"{slug} {version_id}")


def _render(request: HttpRequest, page: catalog.SourcePage, cited_by: str | None) -> HttpResponse:
    response = render(
        request,
        "wizard/source.html",
        {"page": page, "pieces": page.pieces(), "cited_by": cited_by},
    )
    response["Cache-Control"] = "public, max-age=300"
    return response
