from django.urls import path

from . import views

urlpatterns = [
    path("", views.start, name="start"),
    path("<slug:slug>/", views.policy_start, name="policy_start"),
]
