from django.urls import path, re_path

from . import result_pages

# Tokens are 30 URL-safe characters; anything else falls through to a 404 in the view.
urlpatterns = [
    path("<str:token>/", result_pages.result_show, name="show"),
    path("<str:token>/saved/", result_pages.result_saved, name="saved"),
    path("<str:token>/recheck/", result_pages.result_recheck, name="recheck"),
    path("<str:token>/continue/", result_pages.result_continue, name="continue"),
    path("<str:token>/revoke/<str:secret>/", result_pages.result_revoke_view, name="revoke"),
    re_path(
        r"^(?P<token>[^/.]+)\.(?P<fmt>json|md)$", result_pages.result_download, name="download"
    ),
]
