from django.urls import path, re_path

from . import views

# Tokens are 30 URL-safe characters; anything else falls through to a 404 in the view.
urlpatterns = [
    path("<str:token>/", views.result_show, name="show"),
    path("<str:token>/saved/", views.result_saved, name="saved"),
    path("<str:token>/recheck/", views.result_recheck, name="recheck"),
    path("<str:token>/continue/", views.result_continue, name="continue"),
    path("<str:token>/revoke/<str:secret>/", views.result_revoke_view, name="revoke"),
    re_path(r"^(?P<token>[^/.]+)\.(?P<fmt>json|md)$", views.result_download, name="download"),
]
