"""The end-user pages, under the `wizard` namespace (included from wizard/urls.py)."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.start, name="start"),
    path("<slug:slug>/", views.policy_start, name="policy_start"),
    # Question ids may contain dots, which the slug converter refuses.
    path("<slug:slug>/questions/<str:key>/", views.question, name="question"),
    path("<slug:slug>/check/", views.check, name="check"),
    path("<slug:slug>/result/", views.result, name="result"),
    path("<slug:slug>/preview/<int:pk>/", views.preview_start, name="preview"),
]
