"""The policy's public history: versions with their notes, a version in plain words, compare."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import small_policy
from tests.wizard.test_results import newer_version_banning_cats

pytestmark = pytest.mark.django_db


def two_versions():
    first = small_policy()
    newer = newer_version_banning_cats(first.policy)
    return first, newer


def test_the_versions_page_lists_each_published_version_with_its_note(
    client, django_assert_max_num_queries
):
    first, newer = two_versions()

    with django_assert_max_num_queries(2):
        html = client.get(reverse("wizard:versions", args=["pets"])).content.decode()

    for version in (first, newer):
        vid = version.effective_date.isoformat()
        assert f'href="{reverse("wizard:version", args=["pets", vid])}"' in html
    assert "in effect now" in html
    assert reverse("wizard:compare", args=["pets"]) in html


def test_a_version_page_shows_its_questions_and_rules_in_words(
    client, django_assert_max_num_queries
):
    first = small_policy()
    vid = first.effective_date.isoformat()
    url = reverse("wizard:version", args=["pets", vid])
    client.get(url)  # compiles the version once

    with django_assert_max_num_queries(2):
        html = client.get(url).content.decode()

    assert "Q1. Which pet?" in html
    assert "When Q1 is “Dog”" in html
    assert "Asked: always" in html


def test_an_unknown_or_draft_version_is_404(client):
    small_policy()

    assert client.get(reverse("wizard:version", args=["pets", "1999-01-01"])).status_code == 404
    assert client.get(reverse("wizard:versions", args=["nope"])).status_code == 404


def test_compare_says_which_answers_get_another_result(client, django_assert_max_num_queries):
    first, newer = two_versions()
    url = reverse("wizard:compare", args=["pets"])
    query = {"from": first.effective_date.isoformat(), "to": newer.effective_date.isoformat()}
    client.get(url, query)

    with django_assert_max_num_queries(2):
        html = client.get(url, query).content.decode()

    assert "get another result" in html
    assert "Which pet? Cat" in html
    assert "→" in html


def test_the_compare_form_works_without_choosing(client):
    two_versions()

    response = client.get(reverse("wizard:compare", args=["pets"]))

    assert response.status_code == 200
    assert '<select class="select" id="compare-from" name="from">' in response.content.decode()


def test_a_recheck_links_back_and_the_old_result_forward_on_page_json_and_markdown(client):
    from tests.wizard.test_results import saved_cat
    from wizard.models import Result

    old, _ = saved_cat(client)
    newer_version_banning_cats(old.version.policy)
    page = client.get(reverse("results:recheck", args=[old.token])).content.decode()
    attempt = page.split('name="attempt" value="')[1].split('"')[0]
    client.post(reverse("results:recheck", args=[old.token]), {"attempt": attempt})
    new = Result.objects.get(previous=old)

    old_page = client.get(old.get_absolute_url()).content.decode()
    new_page = client.get(new.get_absolute_url()).content.decode()
    old_json = client.get(reverse("results:download", args=[old.token, "json"])).json()
    new_json = client.get(reverse("results:download", args=[new.token, "json"])).json()
    new_md = client.get(reverse("results:download", args=[new.token, "md"])).content.decode()
    api = client.get(f"/api/v1/results/{new.token}").json()

    assert f'<a href="{new.get_absolute_url()}">the newer result</a>' in old_page
    assert f'<a href="{old.get_absolute_url()}">an earlier result</a>' in new_page
    assert old_json["newer_result_url"].endswith(new.get_absolute_url())
    assert new_json["previous_result_url"].endswith(old.get_absolute_url())
    assert api["previous_result_url"].endswith(old.get_absolute_url())
    assert f"Re-checks an earlier result: http://testserver{old.get_absolute_url()}" in new_md


def test_every_result_names_and_links_its_version(client):
    first = small_policy()
    from tests.wizard.conftest import answer_all

    answer_all(client, pet="cat")
    html = client.get(reverse("wizard:result", args=["pets"])).content.decode()

    vid = first.effective_date.isoformat()
    link = f'<a href="{reverse("wizard:version", args=["pets", vid])}">{vid}</a>'
    assert f"Checked against version <strong>{link}</strong>" in html
