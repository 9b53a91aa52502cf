"""The end-user pages, under the `wizard` namespace (included from wizard/urls.py)."""

from django.urls import path

from . import feeds, history, preview, steps

urlpatterns = [
    path("", steps.start, name="start"),
    path("<slug:slug>/", steps.policy_start, name="policy_start"),
    path("<slug:slug>/versions/", history.versions, name="versions"),
    path("<slug:slug>/versions/compare/", history.compare, name="compare"),
    path("<slug:slug>/versions/<str:version_id>/", history.version, name="version"),
    # Question ids may contain dots, which the slug converter refuses.
    path("<slug:slug>/questions/<str:key>/", steps.question, name="question"),
    path("<slug:slug>/check/", steps.check, name="check"),
    path("<slug:slug>/result/", steps.result, name="result"),
    path("<slug:slug>/preview/<int:pk>/", preview.preview_start, name="preview"),
    path("<slug:slug>/changes.atom", feeds.PolicyChangesFeed(), name="changes_feed"),
]
