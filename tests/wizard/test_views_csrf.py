"""The CSRF failure page: a form refused for its token gets a plain explanation and a way back."""

from __future__ import annotations

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse

from tests.factories import small_policy
from wizard.error_pages import csrf_failure

pytestmark = pytest.mark.django_db


def test_it_is_the_projects_csrf_failure_view(settings):
    assert settings.CSRF_FAILURE_VIEW == "wizard.error_pages.csrf_failure"


def test_a_refused_form_explains_and_links_back_to_its_page():
    small_policy()
    client = Client(enforce_csrf_checks=True)
    url = reverse("wizard:question", args=["pets", "pet"]) + "?change=1"

    response = client.post(url, {"pet": "dog"})

    assert response.status_code == 403
    html = response.content.decode()
    assert '<h1 class="heading-xl">Your form was not sent</h1>' in html
    assert "Allow cookies" in html
    assert f'<a href="{url}" class="button">Go back and try again</a>' in html
    assert "Traceback" not in html and "CSRF verification failed" not in html


def test_a_refused_revoke_links_back_to_the_revoke_page_by_get():
    client = Client(enforce_csrf_checks=True)
    url = "/r/abc/revoke/secret/"

    response = client.post(url)

    assert response.status_code == 403
    assert f'<a href="{url}" class="button">Go back and try again</a>' in response.content.decode()


def test_it_never_links_to_another_site():
    request = RequestFactory().post("/")
    request.path = "//evil.example/path/"  # as a raw request line can have it

    html = csrf_failure(request, reason="x").content.decode()

    assert 'href="//evil.example' not in html
    assert '<a href="/" class="button">Go back and try again</a>' in html
