"""The check-your-answers page: each question on the path, its answer, and a way to change it."""

from __future__ import annotations

import re

import pytest
from django.template.loader import get_template
from django.test import Client
from django.urls import reverse

from tests.factories import small_policy
from tests.wizard.progress import plant
from wizard.progress import UNREADABLE_ANSWERS

pytestmark = pytest.mark.django_db

CHECK_URL = reverse("wizard:check", args=["pets"])


def question_url(key: str, *, change: bool = False) -> str:
    url = reverse("wizard:question", args=["pets", key])
    return f"{url}?change=1" if change else url


def answer_all(client: Client, **answers: str) -> None:
    client.post(reverse("wizard:policy_start", args=["pets"]))
    for key, value in answers.items():
        client.post(question_url(key), {key: value})


def test_it_lists_each_question_on_the_path_with_the_chosen_label(client):
    small_policy()
    answer_all(client, pet="dog", walks="yes")

    response = client.get(CHECK_URL)

    assert response.status_code == 200
    html = response.content.decode()
    assert "<title>Check your answers - Pet licence - Eligibility wizard</title>" in html
    assert '<dt class="summary-list__key">Which pet?</dt>' in html
    assert '<dd class="summary-list__value">Dog</dd>' in html
    assert '<dt class="summary-list__key">Will you walk it daily?</dt>' in html
    assert '<dd class="summary-list__value">Yes</dd>' in html
    assert html.index("Which pet?") < html.index("Will you walk it daily?")


def test_it_links_each_answer_to_its_question_with_the_change_flag(client):
    small_policy()
    answer_all(client, pet="dog", walks="no")

    html = client.get(CHECK_URL).content.decode()

    assert f'<a href="{question_url("pet", change=True)}">Change' in html
    assert f'<a href="{question_url("walks", change=True)}">Change' in html
    assert '<span class="visually-hidden"> your answer to “Which pet?”</span>' in html


def test_a_change_link_returns_to_the_check_page(client):
    small_policy()
    answer_all(client, pet="dog", walks="no")

    response = client.post(question_url("walks", change=True), {"walks": "yes"})

    assert response["Location"] == CHECK_URL


def test_it_leaves_out_questions_off_the_path(client):
    small_policy()
    answer_all(client, pet="cat")

    html = client.get(CHECK_URL).content.decode()

    assert "Will you walk it daily?" not in html


def test_it_leads_to_the_result_without_a_save_form(client):
    small_policy()
    answer_all(client, pet="cat")

    html = client.get(CHECK_URL).content.decode()

    assert f'<a href="{reverse("wizard:result", args=["pets"])}" class="button"' in html
    assert "See your result" in html
    assert 'name="outcome_only"' not in html
    assert '<form method="post" action="' + reverse("wizard:result", args=["pets"]) not in html


def test_the_back_link_goes_to_the_last_question(client):
    small_policy()
    answer_all(client, pet="dog", walks="yes")

    html = client.get(CHECK_URL).content.decode()

    assert f'<a href="{question_url("walks")}" class="back-link" id="back-link">' in html


def test_it_redirects_incomplete_answers_to_the_next_question(client):
    small_policy()
    answer_all(client, pet="dog")

    response = client.get(CHECK_URL)

    assert response.status_code == 302
    assert response["Location"] == question_url("walks")


def test_it_sends_a_visitor_without_answers_to_the_policy_start_page(client):
    small_policy()

    response = client.get(CHECK_URL)

    assert response["Location"] == reverse("wizard:policy_start", args=["pets"])


def test_it_404s_for_an_unknown_policy(client):
    assert client.get(reverse("wizard:check", args=["nope"])).status_code == 404


def test_tampered_state_restarts_cleanly(client):
    version = small_policy()
    plant(client, {"version": version.pk, "answers": {"pet": ["dog"]}})

    response = client.get(CHECK_URL, follow=True)

    assert response.redirect_chain == [(reverse("wizard:policy_start", args=["pets"]), 302)]
    assert UNREADABLE_ANSWERS in response.content.decode()


def test_it_has_no_inline_script_or_style(client):
    small_policy()
    answer_all(client, pet="cat")

    html = client.get(CHECK_URL).content.decode()

    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, re.S)
    assert all('src="/static/js/' in attrs and not body.strip() for attrs, body in scripts)
    assert "<style" not in html and "style=" not in html


def test_the_answers_are_a_named_partial():
    assert get_template("wizard/check.html#check-answers")


def test_it_makes_no_query_at_all(client, django_assert_num_queries):
    small_policy()
    answer_all(client, pet="dog", walks="yes")

    with django_assert_num_queries(0):  # the state is in the cookie, the version in memory
        client.get(CHECK_URL)


def test_an_htmx_request_gets_the_check_partial_and_pushes_its_url(client):
    small_policy()
    answer_all(client, pet="cat")

    response = client.get(CHECK_URL, headers={"HX-Request": "true"})

    html = response.content.decode()
    assert "<html" not in html
    assert "<title>Check your answers - Pet licence - Eligibility wizard</title>" in html
    assert f'<a href="{question_url("pet")}" class="back-link" id="back-link" hx-swap-oob' in html
    assert '<div id="check-answers">' in html
    assert response["HX-Push-Url"] == CHECK_URL
    assert "HX-Request" in response["Vary"]
