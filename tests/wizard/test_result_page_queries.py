"""Query budgets of the saved-result pages and the staff preview's start: each page costs a fixed,
small number of queries, measured with nothing cached (the worst case)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from policies import catalog
from tests.factories import small_policy
from tests.wizard.conftest import answer_all, save_result
from wizard.models import Result

pytestmark = pytest.mark.django_db


@pytest.fixture
def saved(client):
    small_policy()
    answer_all(client, pet="cat")
    page = save_result(client).content.decode()
    result = Result.objects.get()
    revoke_path = page[page.index(f"/r/{result.token}/revoke/") :].split('"')[0]
    catalog.clear_cache()  # the worst case: nothing in memory
    return result, revoke_path


def test_the_saved_page_costs_four_queries(client, saved, django_assert_max_num_queries):
    result, _ = saved
    # The result (with the one it re-checked), the session (its revoke secret), the published
    # versions, and its newest re-check (the link forward).
    with django_assert_max_num_queries(4):
        response = client.get(reverse("results:saved", args=[result.token]))
    assert response.status_code == 200


@pytest.mark.parametrize("fmt", ["json", "md"])
def test_a_download_costs_two_queries(client, saved, fmt, django_assert_num_queries):
    result, _ = saved
    url = reverse("results:download", args=[result.token, fmt])
    # The first download also reads the version's reviewed rewordings, kept from then on.
    with django_assert_num_queries(3):
        client.get(url)
    # The result (with the one it re-checked) and its newest re-check; the snapshot holds the rest.
    with django_assert_num_queries(2):
        response = client.get(reverse("results:download", args=[result.token, fmt]))
    assert response.status_code == 200


def test_the_recheck_page_costs_a_fixed_handful(client, saved, django_assert_max_num_queries):
    result, _ = saved
    # The result, the published versions, then the version compiled (its six reads).
    with django_assert_max_num_queries(8):
        response = client.get(reverse("results:recheck", args=[result.token]))
    assert response.status_code == 200
    with django_assert_max_num_queries(1):  # compiled and listed now: only the result
        client.get(reverse("results:recheck", args=[result.token]))


def test_saving_a_recheck_costs_a_fixed_handful(client, saved, django_assert_max_num_queries):
    result, _ = saved
    page = client.get(reverse("results:recheck", args=[result.token])).content.decode()
    attempt = page.split('name="attempt" value="')[1].split('"')[0]
    # The result, the attempt looked up, the insert with its savepoint, the session read and
    # written (the revoke secret).
    with django_assert_max_num_queries(9):
        response = client.post(
            reverse("results:recheck", args=[result.token]), {"attempt": attempt}
        )
    assert response.status_code == 302


def test_continuing_a_result_costs_two_queries(client, saved, django_assert_max_num_queries):
    result, _ = saved
    client.get(reverse("results:recheck", args=[result.token]))  # compiles the version
    with django_assert_max_num_queries(2):  # the result, and at most the published versions
        response = client.post(reverse("results:continue", args=[result.token]))
    assert response.status_code == 302


def test_the_revoke_pages_cost_a_query_or_two(client, saved, django_assert_max_num_queries):
    _, revoke_path = saved
    with django_assert_max_num_queries(1):  # the result
        assert client.get(revoke_path).status_code == 200
    with django_assert_max_num_queries(4):  # the result, the update in its transaction
        assert client.post(revoke_path).status_code == 200


def test_the_preview_start_costs_a_fixed_handful(admin_client, django_assert_max_num_queries):
    version = small_policy()
    url = reverse("wizard:preview", args=["pets", version.pk])
    # The session and the user, then the version.
    with django_assert_max_num_queries(3):
        assert admin_client.get(url).status_code == 200
    catalog.clear_cache()
    # The same, then the version compiled to find its first question.
    with django_assert_max_num_queries(9):
        assert admin_client.post(url, {"as_of": ""}).status_code == 302
