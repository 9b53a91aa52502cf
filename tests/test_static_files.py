"""Static files as `make run` and `make serve` serve them."""

from __future__ import annotations

import re
from unittest import mock

import pytest
from django.contrib.staticfiles.storage import StaticFilesStorage, staticfiles_storage
from django.core.management import call_command
from django.test import Client

pytestmark = pytest.mark.django_db


def stylesheet_url(page: str) -> str:
    match = re.search(r'<link rel="stylesheet" href="([^"]+)"', page)
    assert match is not None, page[:500]
    return match.group(1)


def test_collected_files_have_hashed_names_and_far_future_caching(settings, tmp_path):
    settings.STATIC_ROOT = tmp_path
    settings.WHITENOISE_USE_FINDERS = False
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "wizard.storage.CollectedStaticStorage"},
    }
    call_command("collectstatic", interactive=False, verbosity=0)
    client = Client()  # a new handler, so WhiteNoise reads the collected files

    css = stylesheet_url(client.get("/").content.decode())
    response = client.get(css)

    assert re.fullmatch(r"/static/css/wizard\.[0-9a-f]{12}\.css", css)
    assert response.status_code == 200
    assert "immutable" in response["Cache-Control"]
    assert "max-age=315360000" in response["Cache-Control"]


def test_files_from_the_source_folder_are_served_without_collecting():
    client = Client()

    css = stylesheet_url(client.get("/").content.decode())

    assert css == "/static/css/wizard.css"
    assert client.get(css).status_code == 200


def test_a_file_s_url_is_worked_out_once_per_process():
    staticfiles_storage.url("css/wizard.css")  # whatever came before, it is remembered now
    with mock.patch.object(StaticFilesStorage, "url", side_effect=AssertionError) as url:
        assert staticfiles_storage.url("css/wizard.css") == "/static/css/wizard.css"
        assert not url.called
