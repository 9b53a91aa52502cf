"""The policy start page: what the policy is, the version in effect, and "Start now"."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.template.loader import get_template
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.factories import PolicyFactory, PolicyVersionFactory, small_policy
from tests.wizard.progress import stored

pytestmark = pytest.mark.django_db

START_URL = reverse("wizard:policy_start", args=["pets"])


def test_it_shows_the_title_summary_and_version_in_effect(client):
    small_policy()

    response = client.get(START_URL)

    assert response.status_code == 200
    html = response.content.decode()
    assert "<title>Pet licence - Eligibility wizard</title>" in html
    assert '<h1 class="heading-xl">Pet licence</h1>' in html
    assert "May you keep this pet?" in html
    assert "<strong>2025-01-01</strong>" in html
    assert f'<form method="post" action="{START_URL}"' in html
    assert "csrfmiddlewaretoken" in html
    assert "Start now" in html
    assert f'<a href="{reverse("wizard:start")}" class="back-link" id="back-link">' in html


def test_it_shows_the_version_in_effect_today_not_a_later_one(client):
    small_policy()
    small_policy(effective_date=timezone.localdate() + dt.timedelta(days=1))

    html = client.get(START_URL).content.decode()

    assert "<strong>2025-01-01</strong>" in html


def test_start_now_pins_the_version_in_effect_and_redirects_to_the_first_question(client):
    version = small_policy()

    response = client.post(START_URL)

    assert response.status_code == 302
    assert response["Location"] == reverse("wizard:question", args=["pets", "pet"])
    assert stored(client) == {"version": version.pk, "answers": {}}


def test_start_now_forgets_earlier_answers(client):
    small_policy()
    client.post(START_URL)
    client.post(reverse("wizard:question", args=["pets", "pet"]), {"pet": "cat"})
    assert "Continue with your answers" in client.get(START_URL).content.decode()

    client.post(START_URL)

    assert stored(client)["answers"] == {}


def test_start_now_pins_a_newer_version_once_it_takes_effect(client):
    small_policy()
    newer = small_policy(effective_date=dt.date(2025, 6, 1))

    client.post(START_URL)

    assert stored(client)["version"] == newer.pk


def test_it_404s_for_an_unknown_policy(client):
    assert client.get(reverse("wizard:policy_start", args=["nope"])).status_code == 404
    assert client.post(reverse("wizard:policy_start", args=["nope"])).status_code == 404


def test_it_404s_for_a_policy_with_only_drafts(client):
    PolicyVersionFactory(policy=PolicyFactory(slug="secret"))

    assert client.get(reverse("wizard:policy_start", args=["secret"])).status_code == 404


def test_it_404s_for_a_policy_not_in_effect_yet(client):
    small_policy(slug="future", effective_date=timezone.localdate() + dt.timedelta(days=3))

    assert client.get(reverse("wizard:policy_start", args=["future"])).status_code == 404


def test_it_rejects_start_now_without_a_csrf_token():
    small_policy()

    response = Client(enforce_csrf_checks=True).post(START_URL)

    assert response.status_code == 403


def test_it_has_no_inline_script_or_style(client):
    small_policy()

    html = client.get(START_URL).content.decode()

    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, re.S)
    assert all('src="/static/js/' in attrs and not body.strip() for attrs, body in scripts)
    assert "<style" not in html and "style=" not in html


def test_the_start_section_is_a_named_partial():
    assert get_template("wizard/policy_start.html#policy-start")


def test_it_makes_no_query_once_the_versions_are_in_memory(client, django_assert_num_queries):
    small_policy()
    client.post(START_URL)  # builds and caches the compiled version

    with django_assert_num_queries(0):  # the published versions are held in memory
        client.get(START_URL)
    with django_assert_num_queries(0):  # and the state goes into a cookie
        client.post(START_URL)


def test_an_htmx_request_gets_the_start_partial(client):
    small_policy()

    response = client.get(START_URL, headers={"HX-Request": "true"})

    html = response.content.decode()
    assert "<html" not in html
    assert "<title>Pet licence - Eligibility wizard</title>" in html
    assert '<div id="policy-start">' in html
    assert response["HX-Push-Url"] == START_URL


def test_start_now_with_htmx_redirects_to_the_first_question_like_a_plain_post(client):
    small_policy()

    response = client.post(START_URL, headers={"HX-Request": "true"})

    assert response.status_code == 302
    assert response["Location"] == reverse("wizard:question", args=["pets", "pet"])
