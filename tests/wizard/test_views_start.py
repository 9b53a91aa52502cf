"""The start page: the published policies, each linking to its own start page."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.template.loader import get_template
from django.urls import reverse
from django.utils import timezone

from tests.factories import PolicyFactory, PolicyVersionFactory, small_policy

pytestmark = pytest.mark.django_db


def test_it_lists_published_policies_with_links_to_their_start_pages(client):
    small_policy()
    small_policy(slug="fish-licence")

    response = client.get(reverse("wizard:start"))

    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="en">' in html
    assert '<a href="#main-content" class="skip-link">' in html
    assert '<main id="main-content"' in html
    assert "Eligibility wizard" in html
    assert f'<a href="{reverse("wizard:policy_start", args=["pets"])}">Pet licence</a>' in html
    assert f'href="{reverse("wizard:policy_start", args=["fish-licence"])}"' in html
    assert "May you keep this pet?" in html
    assert "Version 2025-01-01" in html


def test_it_does_not_list_a_policy_with_only_drafts(client):
    small_policy()
    PolicyVersionFactory(policy=PolicyFactory(slug="secret", title="Secret plan"))

    html = client.get(reverse("wizard:start")).content.decode()

    assert "Secret plan" not in html


def test_it_does_not_list_a_policy_that_has_not_taken_effect(client):
    small_policy(slug="future", effective_date=timezone.localdate() + dt.timedelta(days=3))

    html = client.get(reverse("wizard:start")).content.decode()

    assert 'href="/future/"' not in html
    assert "no policy has been published" in html


def test_it_shows_the_version_in_effect_not_a_later_one(client):
    small_policy()
    small_policy(effective_date=timezone.localdate() + dt.timedelta(days=3))

    html = client.get(reverse("wizard:start")).content.decode()

    assert "Version 2025-01-01" in html
    assert html.count('href="/pets/"') == 1


def test_it_has_no_inline_script_or_style(client):
    small_policy()

    html = client.get(reverse("wizard:start")).content.decode()

    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, re.S)
    assert all('src="/static/js/' in attrs and not body.strip() for attrs, body in scripts)
    assert "<style" not in html and "style=" not in html


def test_the_policy_list_is_a_named_partial():
    assert get_template("wizard/start.html#policy-list")


def test_it_uses_two_queries_however_many_policies(client, django_assert_max_num_queries):
    for i in range(5):
        small_policy(slug=f"pets-{i}")

    with django_assert_max_num_queries(2):
        client.get(reverse("wizard:start"))
