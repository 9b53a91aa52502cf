"""Saved and shared results, and the pages after revoking or expiry, lead somewhere: change the
answers (the creator), start again, check your own situation (anyone else), copy the link."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import small_policy
from tests.wizard.conftest import answer_all, save_result
from wizard.models import Result

pytestmark = pytest.mark.django_db


def saved(client: Client, **options: str) -> Result:
    small_policy()
    answer_all(client, pet="cat")
    save_result(client, **options)
    return Result.objects.get()


def test_the_creator_can_change_the_answers_or_start_again(client):
    result = saved(client)

    html = client.get(result.get_absolute_url()).content.decode()

    assert f'action="{reverse("results:continue", args=[result.token])}"' in html
    assert "Change your answers</button>" in html
    assert "Start again</button>" in html
    assert "Check your own situation" not in html


def test_someone_with_the_link_is_offered_their_own_check_starting_empty(client):
    result = saved(client)

    html = Client().get(result.get_absolute_url()).content.decode()

    assert "Check your own situation</button>" in html
    assert f'action="{reverse("wizard:policy_start", args=["pets"])}"' in html
    assert "Change your answers" not in html


def test_the_copy_button_waits_for_javascript_and_the_plain_link_is_always_there(client):
    result = saved(client)

    html = Client().get(result.get_absolute_url()).content.decode()

    link = f"http://testserver{result.get_absolute_url()}"
    assert f'<a href="{link}" id="result-link" class="share-link">{link}</a>' in html
    button = 'data-copy="result-link" aria-describedby="copy-status" hidden>Copy link</button>'
    assert button in html


def test_the_creator_carries_even_outcome_only_answers_back_into_the_wizard(client):
    result = saved(client, outcome_only="1")

    response = client.post(reverse("results:continue", args=[result.token]))
    other = Client().post(reverse("results:continue", args=[result.token]))

    assert response["Location"] == reverse("wizard:check", args=["pets"])
    assert other["Location"] == reverse("results:recheck", args=[result.token])


def test_the_gone_page_leads_back_in_plain_words(client):
    result = saved(client)
    Result.objects.filter(pk=result.pk).update(revoked_at="2026-01-01T00:00:00Z")

    html = Client().get(result.get_absolute_url()).content.decode()

    assert "Check your situation</a>" in html
    assert f'href="{reverse("wizard:policy_start", args=["pets"])}"' in html
    assert "Start " + result.version.policy.title not in html


def test_the_page_after_revoking_leads_back_to_the_policy(client):
    result = saved(client)
    html = client.get(reverse("results:saved", args=[result.token])).content.decode()
    revoke_path = html[html.index("/r/" + result.token + "/revoke/") :].split('"')[0]

    done = client.post(revoke_path).content.decode()

    assert "The result link is revoked" in done
    assert f'href="{reverse("wizard:policy_start", args=["pets"])}"' in done
    assert "Check your situation again</a>" in done


def test_a_printed_result_carries_its_link_and_the_print_date(client):
    result = saved(client)

    html = Client().get(result.get_absolute_url()).content.decode()

    record = html[html.index('id="print-record"') :].split("</p>")[0]
    assert f"http://testserver{result.get_absolute_url()}" in record
    assert "printed on <span data-print-date>" in record
