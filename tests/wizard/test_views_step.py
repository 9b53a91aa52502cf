"""The question pages: one question per page, validated, the path recomputed on every answer."""

from __future__ import annotations

import datetime as dt
import re
from unittest import mock

import pytest
from django.conf import settings as django_settings
from django.core import signing
from django.template.loader import get_template
from django.test import Client
from django.urls import reverse

from policies import analysis
from policies.catalog import compiled, forget_published_versions
from policies.models import PolicyVersion
from tests.factories import (
    ChoiceFactory,
    ClauseFactory,
    PolicyFactory,
    PolicyVersionFactory,
    QuestionFactory,
    RuleFactory,
    pet_version,
    publish,
    small_policy,
)
from tests.wizard.progress import plant, stored
from wizard import cookie_state
from wizard.progress import STALE_STEP, UNREADABLE_ANSWERS, VERSION_GONE

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def question_url(key: str, slug: str = "pets", *, change: bool = False) -> str:
    url = reverse("wizard:question", args=[slug, key])
    return f"{url}?change=1" if change else url


def start(client: Client, slug: str = "pets") -> None:
    client.post(reverse("wizard:policy_start", args=[slug]))


def answer(client: Client, key: str, value: str, *, change: bool = False):
    return client.post(question_url(key, change=change), {key: value})


def test_it_renders_the_question_as_radios_named_by_the_question_id(client):
    small_policy()
    start(client)

    response = client.get(question_url("pet"))

    assert response.status_code == 200
    html = response.content.decode()
    assert "<title>Which pet? - Pet licence - Eligibility wizard</title>" in html
    assert '<h1 class="fieldset__heading">Which pet?</h1>' in html
    assert "<fieldset" in html and "<legend" in html
    for choice in ("cat", "dog", "fish"):
        assert f'id="pet-{choice}"' in html
        assert re.search(rf'<input[^>]+type="radio"[^>]+name="pet"[^>]+value="{choice}"', html)
        assert f'<label class="radios__label" for="pet-{choice}">' in html
    assert "<summary" in html and "Why we ask" in html
    assert "Question 1 of at most 2" in html
    assert "csrfmiddlewaretoken" in html
    assert "There is a problem" not in html


def test_it_links_choice_hints_with_aria_describedby(client):
    policy = PolicyFactory(slug="hints", title="Hints")
    version = PolicyVersionFactory.create(policy=policy, effective_date=dt.date(2025, 1, 1))
    question = QuestionFactory(version=version, key="plan", text="Which plan?", help="")
    ChoiceFactory(question=question, key="basic", label="Basic", help="The <cheap> one.")
    ChoiceFactory(question=question, key="gold", label="Gold")
    RuleFactory(version=version, key="always", clauses=[ClauseFactory(version=version)])
    publish(version)
    start(client, "hints")

    html = client.get(question_url("plan", "hints")).content.decode()

    assert 'aria-describedby="plan-basic-hint"' in html
    assert (
        '<div id="plan-basic-hint" class="hint radios__hint">The &lt;cheap&gt; one.</div>' in html
    )
    assert "plan-gold-hint" not in html
    assert "Why we ask" not in html  # no help text, no empty <details>


def test_it_has_no_inline_script_or_style(client):
    small_policy()
    start(client)

    html = client.get(question_url("pet")).content.decode()

    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, re.S)
    assert all('src="/static/js/' in attrs and not body.strip() for attrs, body in scripts)
    assert "<style" not in html and "style=" not in html


def test_the_question_form_is_a_named_partial():
    assert get_template("wizard/question.html#question-form")


def test_it_rejects_an_empty_answer(client):
    small_policy()
    start(client)

    response = client.post(question_url("pet"), {})

    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("There is a problem") == 1
    assert '<a href="#pet-cat">Select an answer to “Which pet?”</a>' in html
    assert "Cat, Dog or Fish" not in html  # the choices are right there, not repeated
    assert '<p id="pet-error" class="error-message">' in html
    assert 'aria-describedby="pet-error"' in html
    assert "<title>Error: Which pet?" in html
    assert stored(client)["answers"] == {}


def test_an_empty_answer_gets_the_questions_own_short_message(seeded, client):
    client.post(reverse("wizard:policy_start", args=["claude-code"]))

    response = client.post(reverse("wizard:question", args=["claude-code", "plan"]), {})

    html = response.content.decode()
    assert html.count("Choose how you get access to Claude") == 2  # the summary, the radios
    assert "Claude Free," not in html


def test_it_rejects_an_unknown_choice_naming_the_allowed_ones(client):
    small_policy()
    start(client)

    response = answer(client, "pet", "snake")

    assert response.status_code == 200
    html = response.content.decode()
    assert "There is a problem" in html
    assert "Select one of: Cat, Dog or Fish." in html
    assert "snake" not in html
    assert "<title>Error: " in html
    assert stored(client)["answers"] == {}


def test_it_stores_the_answer_and_redirects_to_the_next_question(client):
    small_policy()
    start(client)

    response = answer(client, "pet", "dog")

    assert response.status_code == 302
    assert response["Location"] == question_url("walks")
    assert stored(client)["answers"] == {"pet": "dog"}


def test_it_redirects_to_the_check_page_when_nothing_is_left_to_ask(client):
    small_policy()
    start(client)

    response = answer(client, "pet", "cat")

    assert response["Location"] == reverse("wizard:check", args=["pets"])


def test_it_shows_the_progress_along_the_path(client):
    small_policy()
    start(client)
    answer(client, "pet", "dog")

    html = client.get(question_url("walks")).content.decode()

    assert "Question 2 of at most 2" in html


def test_it_redirects_a_skipped_step_to_the_first_unanswered_question(client):
    small_policy()
    start(client)

    response = client.get(question_url("walks"))

    assert response.status_code == 302
    assert response["Location"] == question_url("pet")


def test_it_does_not_store_an_answer_to_a_skipped_step(client):
    small_policy()
    start(client)

    response = answer(client, "walks", "yes")

    assert response["Location"] == question_url("pet")
    assert stored(client)["answers"] == {}


def test_it_redirects_a_question_off_the_path(client):
    small_policy()
    start(client)
    answer(client, "pet", "cat")

    response = client.get(question_url("walks"))

    assert response["Location"] == reverse("wizard:check", args=["pets"])


def test_it_shows_an_answered_question_with_its_answer_checked(client):
    small_policy()
    start(client)
    answer(client, "pet", "dog")

    html = client.get(question_url("pet")).content.decode()

    assert 'value="dog" checked' in html
    assert 'value="cat" checked' not in html


def test_the_cached_question_follows_each_browser_s_own_answer(client):
    small_policy()
    start(client)
    first_visit = client.get(question_url("pet")).content.decode()  # cached with nothing checked
    answer(client, "pet", "dog")
    other = Client()
    start(other)
    answer(other, "pet", "cat")

    mine = client.get(question_url("pet")).content.decode()
    theirs = other.get(question_url("pet")).content.decode()

    assert "checked" not in first_visit
    assert 'value="dog" checked' in mine and 'value="cat" checked' not in mine
    assert 'value="cat" checked' in theirs and 'value="dog" checked' not in theirs


def form_token(html: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert match is not None
    return match.group(1)


def test_a_reused_question_page_carries_a_fresh_valid_csrf_token_each_time():
    small_policy()
    client = csrf_client()
    first = client.get(question_url("pet")).content.decode()  # rendered, then kept for reuse
    second = client.get(question_url("pet")).content.decode()  # reused

    answered = client.post(
        question_url("pet"), {"pet": "dog", "csrfmiddlewaretoken": form_token(second)}
    )

    assert form_token(first) != form_token(second)  # masked afresh, as Django does per response
    assert first.replace(form_token(first), "") == second.replace(form_token(second), "")
    assert answered.status_code == 302
    assert stored(client)["answers"] == {"pet": "dog"}


def test_a_message_shows_on_a_question_page_that_was_kept_for_reuse(client):
    small_policy()
    start(client)
    answer(client, "pet", "dog")
    client.get(question_url("walks"))  # kept for reuse, without a message
    answer(client, "pet", "cat", change=True)  # "walks" is now off the path

    client.post(question_url("walks"), {"walks": "yes"})  # a stale tab: told so on the next page
    with_message = client.get(question_url("pet")).content.decode()
    again = client.get(question_url("pet")).content.decode()

    assert STALE_STEP in with_message
    assert STALE_STEP not in again  # a message is shown once


def test_the_title_shown_is_the_pinned_versions_own_not_the_policy_rows(client):
    # A title changes through a new version; a write to the policy's row (a shell, say) does
    # not reach the pages of a published version, reused or not.
    version = small_policy()
    start(client)
    client.get(question_url("pet"))
    version.policy.title = "Companion animal licence"
    version.policy.save()
    forget_published_versions()

    page = client.get(question_url("pet")).content.decode()

    assert "Pet licence" in page and "Companion animal licence" not in page


def test_the_whole_page_and_the_htmx_swap_are_kept_apart(client):
    small_policy()
    start(client)

    whole = client.get(question_url("pet")).content.decode()
    swap = client.get(question_url("pet"), headers=HTMX).content.decode()
    whole_again = client.get(question_url("pet")).content.decode()

    assert whole.startswith("<!doctype html>") and whole_again.startswith("<!doctype html>")
    assert "<!doctype html>" not in swap and 'id="question-form"' in swap


def test_the_back_link_of_the_first_question_goes_to_the_policy_start_page(client):
    small_policy()
    start(client)

    html = client.get(question_url("pet")).content.decode()

    start_url = reverse("wizard:policy_start", args=["pets"])
    assert f'<a href="{start_url}" class="back-link" id="back-link">' in html


def test_the_back_link_goes_to_the_previous_question_on_the_path(client):
    small_policy()
    start(client)
    answer(client, "pet", "dog")

    html = client.get(question_url("walks")).content.decode()

    assert f'<a href="{question_url("pet")}" class="back-link" id="back-link">' in html


def test_the_back_link_of_a_change_goes_to_the_check_page(client):
    small_policy()
    start(client)
    answer(client, "pet", "cat")

    html = client.get(question_url("pet", change=True)).content.decode()

    assert (
        f'<a href="{reverse("wizard:check", args=["pets"])}" class="back-link" id="back-link">'
        in html
    )
    assert f'action="{question_url("pet", change=True)}"' in html


def test_changing_an_earlier_answer_drops_later_answers_off_the_path(client):
    small_policy()
    start(client)
    answer(client, "pet", "dog")
    answer(client, "walks", "yes")

    response = answer(client, "pet", "cat", change=True)

    assert response["Location"] == reverse("wizard:check", args=["pets"])
    assert stored(client)["answers"] == {"pet": "cat"}
    result = client.get(reverse("wizard:result", args=["pets"])).content.decode()
    assert '<h1 class="panel__title">Yes</h1>' in result


def test_a_change_that_opens_a_question_asks_it_then_returns_to_the_check_page(client):
    small_policy()
    start(client)
    answer(client, "pet", "cat")

    response = answer(client, "pet", "dog", change=True)
    assert response["Location"] == question_url("walks", change=True)

    response = answer(client, "walks", "no", change=True)
    assert response["Location"] == reverse("wizard:check", args=["pets"])
    assert stored(client)["answers"] == {"pet": "dog", "walks": "no"}


def test_continue_after_going_back_moves_to_the_following_question(client):
    small_policy()
    start(client)
    answer(client, "pet", "dog")
    answer(client, "walks", "yes")

    response = answer(client, "pet", "dog")

    assert response["Location"] == question_url("walks")
    assert stored(client)["answers"] == {"pet": "dog", "walks": "yes"}


def test_it_404s_for_an_unknown_question(client):
    small_policy()
    start(client)

    assert client.get(question_url("colour")).status_code == 404
    assert client.post(question_url("colour"), {"colour": "red"}).status_code == 404


def test_it_404s_for_an_unknown_policy(client):
    assert client.get(question_url("pet", "nope")).status_code == 404


def test_it_sends_a_visitor_without_answers_to_the_policy_start_page(client):
    small_policy()

    response = client.get(question_url("pet"))

    assert response.status_code == 302
    assert response["Location"] == reverse("wizard:policy_start", args=["pets"])


@pytest.mark.parametrize(
    "tamper",
    [
        lambda pk: "not a dict",
        lambda pk: ["pets"],
        lambda pk: 42,
        lambda pk: {"answers": {}},
        lambda pk: {"version": str(pk), "answers": {}},
        lambda pk: {"version": True, "answers": {}},
        lambda pk: {"version": pk, "answers": ["pet", "dog"]},
        lambda pk: {"version": pk, "answers": {"pet": "snake"}},
        lambda pk: {"version": pk, "answers": {"pet": 1}},
        lambda pk: {"version": pk, "answers": {"colour": "red"}},
    ],
)
def test_tampered_state_restarts_cleanly(client, tamper):
    version = small_policy()
    plant(client, tamper(version.pk))

    response = client.get(question_url("pet"))

    assert response.status_code == 302
    assert response["Location"] == reverse("wizard:policy_start", args=["pets"])
    assert stored(client) is None
    page = client.get(response["Location"]).content.decode()
    assert UNREADABLE_ANSWERS in page


@pytest.mark.parametrize(
    "cookie",
    [
        "garbage",
        lambda pk: cookie_state.encode("pets", {"version": pk, "answers": {}}) + "x",
        # Signed for another policy and copied over: refused, although its contents fit.
        lambda pk: cookie_state.encode("other", {"version": pk, "answers": {}}),
        # Signed with another key.
        lambda pk: signing.dumps({"version": pk, "answers": {}}, key="k" * 50, salt="pets"),
    ],
)
def test_a_cookie_without_our_signature_restarts_cleanly(client, cookie):
    version = small_policy()
    value = cookie if isinstance(cookie, str) else cookie(version.pk)
    client.cookies[cookie_state.cookie_name("pets")] = value

    response = client.get(question_url("pet"), follow=True)

    assert response.redirect_chain == [(reverse("wizard:policy_start", args=["pets"]), 302)]
    assert UNREADABLE_ANSWERS in response.content.decode()
    assert stored(client) is None


def test_an_expired_state_says_the_answers_were_not_kept_and_why(client, settings):
    version = small_policy()
    plant(client, {"version": version.pk, "answers": {"pet": "dog"}})
    settings.SESSION_COOKIE_AGE = -1  # every signature is now older than the limit

    response = client.get(question_url("walks"), follow=True)

    assert response.redirect_chain == [(reverse("wizard:policy_start", args=["pets"]), 302)]
    page = response.content.decode()
    assert "Your answers were not kept: they are kept for" in page
    assert "that time has passed" in page
    assert UNREADABLE_ANSWERS not in page
    assert client.cookies[cookie_state.cookie_name("pets")].value == ""  # forgotten


def test_a_state_kept_in_a_session_that_has_gone_says_so(client, monkeypatch):
    small_policy()
    monkeypatch.setattr(cookie_state, "MAX_VALUE_BYTES", 60)  # as a very long path would need
    client.post(reverse("wizard:policy_start", args=["pets"]))
    client.post(question_url("pet"), {"pet": "dog"})
    assert stored(client) == cookie_state.IN_SESSION
    session = client.session
    session.flush()  # signed out, or the session expired on the server

    response = client.get(question_url("walks"), follow=True)

    page = response.content.decode()
    assert response.redirect_chain[-1] == (reverse("wizard:policy_start", args=["pets"]), 302)
    assert "they were kept on the server for this browser, and that has ended" in page


def test_a_state_too_large_for_a_cookie_is_kept_in_the_session(client, monkeypatch):
    small_policy()
    monkeypatch.setattr(cookie_state, "MAX_VALUE_BYTES", 60)  # as a very long path would need
    start(client)
    answer(client, "pet", "dog")

    walked = answer(client, "walks", "yes")
    page = client.get(walked["Location"]).content.decode()

    assert stored(client) == cookie_state.IN_SESSION  # the cookie only says where it is
    assert client.session["wizard:pets"]["answers"] == {"pet": "dog", "walks": "yes"}
    assert walked["Location"] == reverse("wizard:check", args=["pets"])
    assert "Will you walk it daily?" in page and "Yes" in page


def test_the_longest_path_of_every_seeded_version_fits_in_the_cookie_with_room_to_spare(seeded):
    for row in PolicyVersion.objects.filter(status=PolicyVersion.Status.PUBLISHED):
        version = compiled(row)
        longest = max(analysis.reachable_answer_sets(version), key=len)
        value = cookie_state.encode(row.policy.slug, {"version": row.pk, "answers": longest})

        assert len(value) < cookie_state.MAX_VALUE_BYTES / 4, (row, len(value))


def test_the_state_cookie_is_signed_http_only_and_limited_to_the_policy_pages(client):
    version = small_policy()

    response = client.post(reverse("wizard:policy_start", args=["pets"]))

    morsel = response.cookies[cookie_state.cookie_name("pets")]
    assert morsel["path"] == reverse("wizard:policy_start", args=["pets"])
    assert morsel["httponly"] and morsel["samesite"] == "Lax"
    assert int(morsel["max-age"]) == django_settings.SESSION_COOKIE_AGE
    assert cookie_state.decode("pets", morsel.value) == {"version": version.pk, "answers": {}}
    assert "sessionid" not in response.cookies  # no database session for a wizard walk


def test_tampered_data_on_post_restarts_without_storing_anything(client):
    version = small_policy()
    plant(client, {"version": version.pk, "answers": {"pet": "snake"}})

    response = answer(client, "pet", "dog")

    assert response["Location"] == reverse("wizard:policy_start", args=["pets"])
    assert stored(client) is None


def test_a_pinned_version_that_no_longer_exists_restarts_with_a_message(client):
    small_policy()
    plant(client, {"version": 987654, "answers": {}})

    response = client.get(question_url("pet"), follow=True)

    assert response.redirect_chain == [(reverse("wizard:policy_start", args=["pets"]), 302)]
    assert VERSION_GONE in response.content.decode()


def test_a_pinned_draft_version_restarts_with_a_message(client):
    version = small_policy()
    draft = PolicyVersionFactory.create(policy=version.policy, effective_date=None)
    plant(client, {"version": draft.pk, "answers": {}})

    response = client.get(question_url("pet"), follow=True)

    assert VERSION_GONE in response.content.decode()
    assert draft.status == PolicyVersion.Status.DRAFT


def test_a_version_of_another_policy_restarts(client):
    small_policy()
    other = small_policy(slug="other")
    plant(client, {"version": other.pk, "answers": {}})

    response = client.get(question_url("pet"), follow=True)

    assert UNREADABLE_ANSWERS in response.content.decode()


def test_other_policies_in_progress_survive_a_restart(client):
    version = small_policy()
    other = small_policy(slug="other")
    plant(client, {"version": version.pk, "answers": {"pet": "snake"}})
    plant(client, {"version": other.pk, "answers": {"pet": "cat"}}, slug="other")

    client.get(question_url("pet"))

    assert stored(client) is None
    assert stored(client, "other") == {"version": other.pk, "answers": {"pet": "cat"}}


def csrf_client() -> Client:
    """A client that, like a browser, is refused without the form's token; started on `pets`."""
    client = Client(enforce_csrf_checks=True)
    html = client.get(reverse("wizard:policy_start", args=["pets"])).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    client.post(reverse("wizard:policy_start", args=["pets"]), {"csrfmiddlewaretoken": token})
    return client


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["plain", "htmx"])
def test_a_post_without_a_csrf_token_gets_a_clear_page_and_saves_nothing(headers):
    small_policy()
    client = csrf_client()

    response = client.post(question_url("pet"), {"pet": "dog"}, headers=headers)

    assert response.status_code == 403
    html = response.content.decode()
    assert "<title>Your form was not sent - Eligibility wizard</title>" in html
    assert "nothing was saved" in html
    assert f'<a href="{question_url("pet")}" class="button">Go back and try again</a>' in html
    assert stored(client)["answers"] == {}
    assert client.get(question_url("pet")).status_code == 200  # the way back works


def test_a_post_with_the_csrf_token_from_the_form_is_accepted():
    small_policy()
    client = csrf_client()
    html = client.get(question_url("pet")).content.decode()
    form = re.search(r"<form.*?</form>", html, re.S).group(0)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)

    response = client.post(
        question_url("pet"), {"pet": "dog", "csrfmiddlewaretoken": token}, headers=HTMX
    )

    assert response.status_code == 302
    assert stored(client)["answers"] == {"pet": "dog"}


# --- htmx: the same flow, with the page's partial for #main-content ----------------------------


def test_the_form_is_enhanced_by_htmx_and_still_posts_without_it(client):
    small_policy()
    start(client)

    html = client.get(question_url("pet", change=True)).content.decode()

    form = re.search(r"<form.*?>", html, re.S).group(0)
    url = question_url("pet", change=True)
    assert f'method="post" action="{url}"' in form
    assert f'hx-post="{url}" hx-target="#main-content"' in form
    assert 'hx-sync="this:drop"' in form  # a double-click sends one request
    assert '<script src="/static/js/htmx.min.js" defer></script>' in html
    assert '<meta name="htmx-config"' in html and '"allowEval": false' in html


def test_an_htmx_request_gets_the_question_partial_and_pushes_its_url(client):
    small_policy()
    start(client)
    answer(client, "pet", "dog")

    response = client.get(question_url("walks"), headers=HTMX)

    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html and "<header" not in html and "<footer" not in html
    assert html.strip().startswith(
        "<title>Will you walk it daily? - Pet licence - Eligibility wizard</title>"
    )
    assert (
        f'<a href="{question_url("pet")}" class="back-link" id="back-link" hx-swap-oob="true">'
        in html
    )
    assert '<div id="question-form">' in html and "Question 2 of at most 2" in html
    assert "csrfmiddlewaretoken" in html
    assert response["HX-Push-Url"] == question_url("walks")
    assert "HX-Request" in response["Vary"]


def test_an_htmx_answer_redirects_like_a_plain_post_and_the_next_page_is_pushed(client):
    small_policy()
    start(client)

    response = client.post(question_url("pet"), {"pet": "dog"}, headers=HTMX)

    assert response.status_code == 302
    assert response["Location"] == question_url("walks")
    assert stored(client)["answers"] == {"pet": "dog"}
    followed = client.get(response["Location"], headers=HTMX)  # as the browser follows it
    assert followed["HX-Push-Url"] == question_url("walks")
    assert '<div id="question-form">' in followed.content.decode()


def test_an_htmx_answer_with_an_error_gets_the_partial_and_stays_on_its_url(client):
    small_policy()
    start(client)

    response = client.post(question_url("pet"), {}, headers=HTMX)

    assert response.status_code == 200
    html = response.content.decode()
    assert "<title>Error: Which pet?" in html
    assert '<div class="error-summary" role="alert"' in html
    assert '<a href="#pet-cat">' in html
    assert "<html" not in html
    assert "HX-Push-Url" not in response
    assert stored(client)["answers"] == {}


def test_a_history_restore_gets_the_whole_page(client):
    small_policy()
    start(client)

    response = client.get(
        question_url("pet"), headers={**HTMX, "HX-History-Restore-Request": "true"}
    )

    html = response.content.decode()
    assert html.startswith("<!doctype html>") and "<footer" in html
    assert "HX-Push-Url" not in response
    assert "HX-Request" in response["Vary"]


def test_the_whole_page_also_varies_on_hx_request(client):
    small_policy()
    start(client)

    response = client.get(question_url("pet"))

    assert "HX-Request" in response["Vary"]  # a cache must not serve the partial for the page


# --- bad input -----------------------------------------------------------------------------------


def test_a_double_submitted_answer_is_stored_once_and_leads_to_the_same_page(client):
    small_policy()
    start(client)

    first = answer(client, "pet", "dog")
    second = answer(client, "pet", "dog")

    assert first["Location"] == second["Location"] == question_url("walks")
    assert stored(client)["answers"] == {"pet": "dog"}


def test_a_double_submitted_change_is_stored_once_and_leads_to_the_same_page(client):
    small_policy()
    start(client)
    answer(client, "pet", "dog")
    answer(client, "walks", "yes")

    first = answer(client, "pet", "cat", change=True)
    second = answer(client, "pet", "cat", change=True)

    assert first["Location"] == second["Location"] == reverse("wizard:check", args=["pets"])
    assert stored(client)["answers"] == {"pet": "cat"}


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["plain", "htmx"])
def test_a_stale_tab_answering_a_question_off_the_path_is_told_and_nothing_is_saved(
    client, headers
):
    small_policy()
    start(client)
    answer(client, "pet", "dog")  # this tab now shows "walks"
    answer(client, "pet", "cat", change=True)  # another tab takes "walks" off the path

    response = client.post(question_url("walks"), {"walks": "yes"}, headers=headers)

    check_url = reverse("wizard:check", args=["pets"])
    assert response.status_code == 302
    assert response["Location"] == check_url
    assert stored(client)["answers"] == {"pet": "cat"}
    followed = client.get(check_url, headers=headers)
    assert STALE_STEP in followed.content.decode()
    if headers:
        assert followed["HX-Push-Url"] == check_url
        assert '<div id="check-answers">' in followed.content.decode()


def test_a_stale_tab_answering_a_question_not_reached_yet_saves_nothing(client):
    small_policy()
    start(client)

    response = client.post(question_url("walks"), {"walks": "yes"}, headers=HTMX)

    assert response["Location"] == question_url("pet")
    assert stored(client)["answers"] == {}
    assert STALE_STEP in client.get(question_url("pet"), headers=HTMX).content.decode()


def test_a_step_uses_no_query_once_the_version_is_cached(client, django_assert_num_queries):
    small_policy()
    start(client)  # builds and caches the compiled version and the published versions
    answer(client, "pet", "dog")

    with django_assert_num_queries(0):  # the state is in the cookie, the version in memory
        client.get(question_url("walks"))
    with django_assert_num_queries(0):
        client.post(question_url("walks"), {})
    with django_assert_num_queries(0):
        answer(client, "walks", "yes")


def test_a_version_just_published_by_another_process_is_not_taken_for_a_gone_one(client):
    version = small_policy()
    start(client)  # this process now holds the list of published versions for a few seconds
    with mock.patch("policies.catalog.forget_published_versions"):  # published by another worker
        newer = pet_version(version.policy, dt.date(2025, 6, 1))
    plant(client, {"version": newer.pk, "answers": {"pet": "dog"}})  # pinned by that worker

    response = client.get(question_url("walks"))

    assert response.status_code == 200
    assert "Will you walk it daily?" in response.content.decode()
