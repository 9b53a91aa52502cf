from django.urls import path

from . import source_pages

urlpatterns = [
    path("<str:document>/", source_pages.source_document, name="document"),
    path("<str:document>/<str:date>/", source_pages.source_snapshot, name="snapshot"),
    path(
        "<slug:slug>/<str:version_id>/<str:clause>/",
        source_pages.clause_source,
        name="clause",
    ),
]
