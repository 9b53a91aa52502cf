"""The result page: the verdict, how to authenticate, the terms, the steps, and their clauses."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.template.loader import get_template
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from policies.catalog import version_in_effect
from policies.loading import SEED_DIR
from policies.models import Outcome
from tests.factories import ClauseFactory, OutcomeFactory, RuleFactory, publish, small_policy
from tests.wizard.progress import plant, stored
from wizard.models import Result
from wizard.progress import NOT_FINISHED, UNREADABLE_ANSWERS

pytestmark = pytest.mark.django_db

RESULT_URL = reverse("wizard:result", args=["pets"])

needs_seed = pytest.mark.skipif(
    not (SEED_DIR / "claude-code.yaml").exists(), reason="the seeded policy is not written yet"
)


PET_VERSION_LINK = '<a href="/pets/versions/2025-01-01/">2025-01-01</a>'


def answer_all(client: Client, slug: str = "pets", **answers: str) -> None:
    client.post(reverse("wizard:policy_start", args=[slug]))
    for key, value in answers.items():
        response = client.post(reverse("wizard:question", args=[slug, key]), {key: value})
        assert response.status_code == 302, response.content.decode()


def test_it_leads_with_the_verdict_and_its_reasons(client):
    small_policy()
    answer_all(client, pet="cat")

    response = client.get(RESULT_URL)

    assert response.status_code == 200
    html = response.content.decode()
    assert "<title>Your result: Yes - Pet licence - Eligibility wizard</title>" in html
    assert '<h1 class="panel__title">Yes</h1>' in html
    assert "Text for yes." in html
    assert "<li><p>Because of default-yes.</p></li>" in html
    assert html.index("panel__title") < html.index("Checked against version")


def test_it_shows_the_version_used(client):
    small_policy()
    answer_all(client, pet="cat")

    html = client.get(RESULT_URL).content.decode()

    assert (
        f"Checked against version <strong>{PET_VERSION_LINK}</strong> of Pet licence"
        " (in effect from 2025-01-01)." in html
    )


def test_it_lists_numbered_steps_with_reasons_and_numbered_references(client):
    small_policy()
    answer_all(client, pet="dog", walks="yes")

    html = client.get(RESULT_URL).content.decode()

    steps = html[html.index('<ol class="steps">') : html.index("</ol>")]
    assert "Leash" in steps
    assert '<a href="#source-1" aria-label="source 1">[1]</a>' in steps
    assert "Text for leash." in steps
    assert "<li><p>Because of dog-leash.</p></li>" in steps
    assert "The quoted words." not in steps
    sources = html[html.index('id="sources-title"') :]
    assert '<li class="source" id="source-1">' in sources
    assert (
        '<blockquote class="source__quote" cite="https://example.com/terms">'
        "<p>The quoted words.</p></blockquote>"
    ) in sources
    assert '<a href="https://example.com/terms#:~:text=The%20quoted%20words">' in sources
    assert "Example terms</a>, quoted from the page as of 2025-01-01." in sources


def test_each_clause_is_quoted_once_however_many_items_cite_it(client):
    version = small_policy(published=False)
    shared = ClauseFactory(version=version, key="shared", quote="Said once only.")
    for key in ("first", "second", "third"):
        outcome = OutcomeFactory(version=version, table=Outcome.Table.STEP, key=key, title=key)
        RuleFactory(version=version, key=f"{key}-for-all", outcome=outcome, clauses=[shared])
    publish(version)
    answer_all(client, pet="cat")

    html = client.get(RESULT_URL).content.decode()

    assert html.count("Said once only.") == 1
    quoted = html[: html.index("Said once only.")]
    number = quoted[quoted.rindex('id="source-') :].split('"')[1].removeprefix("source-")
    steps = html[html.index('<ol class="steps">') : html.index("</ol>")]
    assert steps.count(f'href="#source-{number}"') == 3


def test_a_strict_verdict_wins_and_is_shown(client):
    small_policy()
    answer_all(client, pet="dog", walks="no")

    html = client.get(RESULT_URL).content.decode()

    assert '<div class="panel panel--no">' in html
    assert '<h1 class="panel__title">No</h1>' in html
    assert "<li><p>Because of lazy-dog.</p></li>" in html


def test_it_shows_auth_methods_with_their_set_up_detail_as_plain_text(client):
    version = small_policy(published=False)
    token = OutcomeFactory(
        version=version,
        table=Outcome.Table.AUTH_METHOD,
        key="token",
        title="Use a token",
        detail="export PET_TOKEN='<your token>'\npets --login",
    )
    RuleFactory(
        version=version,
        key="token-for-all",
        outcome=token,
        reason="Tokens work.",
        clauses=[ClauseFactory(version=version, key="tokens")],
    )
    publish(version)
    answer_all(client, pet="cat")

    html = client.get(RESULT_URL).content.decode()

    assert '<h2 class="heading-m" id="auth-methods-title">How to sign in</h2>' in html
    assert "Use a token" in html
    assert (
        '<pre class="detail">export PET_TOKEN=&#x27;&lt;your token&gt;&#x27;\npets --login</pre>'
    ) in html
    assert "<your token>" not in html


def test_it_lists_the_terms_with_links_to_their_clauses(client):
    version = small_policy(published=False)
    clause = ClauseFactory(
        version=version,
        key="pet-terms",
        url="https://example.com/pet-terms",
        source="Pet terms",
        source_version="v7",
    )
    terms = OutcomeFactory(version=version, table=Outcome.Table.TERMS, key="pt", title="Pet terms")
    RuleFactory(version=version, key="terms-for-all", outcome=terms, clauses=[clause])
    publish(version)
    answer_all(client, pet="cat")

    html = client.get(RESULT_URL).content.decode()

    terms_section = html[html.index('id="terms-title"') : html.index('id="sources-title"')]
    assert "<strong>Pet terms</strong>" in terms_section
    assert 'href="#source-' in terms_section
    sources = html[html.index('id="sources-title"') :]
    assert '<a href="https://example.com/pet-terms#:~:text=' in sources
    assert "Pet terms</a>, quoted from the page as of v7." in sources


def test_it_links_security_and_trust_pages_from_the_versions_clauses(client):
    version = small_policy(published=False)
    ClauseFactory(
        version=version,
        key="security-trust-center",
        url="https://trust.example.com",
        source="Trust Center",
    )
    ClauseFactory(
        version=version,
        key="security-vulnerability-reporting",
        url="https://example.com/report",
        source="Report a vulnerability",
    )
    publish(version)
    answer_all(client, pet="cat")

    html = client.get(RESULT_URL).content.decode()

    security = html[html.index('id="security-title"') :]
    assert "Security and trust" in security
    assert '<a href="https://trust.example.com">Trust Center</a>' in security
    assert '<a href="https://example.com/report">Report a vulnerability</a>' in security
    assert "https://example.com/terms" not in security


def test_it_has_no_security_section_without_security_clauses(client):
    small_policy()
    answer_all(client, pet="cat")

    html = client.get(RESULT_URL).content.decode()

    assert "Security and trust" not in html


def test_it_offers_to_change_the_answers_or_start_again(client):
    small_policy()
    answer_all(client, pet="cat")

    html = client.get(RESULT_URL).content.decode()

    check_url = reverse("wizard:check", args=["pets"])
    assert f'<a href="{check_url}" class="button button--secondary">Change your answers' in html
    start_url = reverse("wizard:policy_start", args=["pets"])
    assert f'<form method="post" action="{start_url}"' in html
    assert "Start again" in html
    assert "csrfmiddlewaretoken" in html


def test_start_again_forgets_the_answers(client):
    small_policy()
    answer_all(client, pet="cat")

    response = client.post(reverse("wizard:policy_start", args=["pets"]))

    assert response["Location"] == reverse("wizard:question", args=["pets", "pet"])
    assert stored(client)["answers"] == {}
    assert client.get(RESULT_URL)["Location"] == reverse("wizard:question", args=["pets", "pet"])


def test_it_keeps_the_pinned_version_after_a_newer_one_takes_effect(client):
    small_policy()
    answer_all(client, pet="cat")
    small_policy(effective_date=dt.date(2025, 6, 1))

    html = client.get(RESULT_URL).content.decode()

    assert f"Checked against version <strong>{PET_VERSION_LINK}</strong>" in html


def test_it_redirects_incomplete_answers_to_the_next_question(client):
    small_policy()
    answer_all(client, pet="dog")

    response = client.get(RESULT_URL)

    assert response.status_code == 302
    assert response["Location"] == reverse("wizard:question", args=["pets", "walks"])


def test_saving_incomplete_answers_from_a_stale_tab_saves_nothing_and_says_so(client):
    small_policy()
    answer_all(client, pet="dog")

    response = client.post(RESULT_URL, follow=True)

    assert response.redirect_chain == [(reverse("wizard:question", args=["pets", "walks"]), 302)]
    assert NOT_FINISHED in response.content.decode()
    assert not Result.objects.exists()


def test_it_sends_a_visitor_without_answers_to_the_policy_start_page(client):
    small_policy()

    response = client.get(RESULT_URL)

    assert response["Location"] == reverse("wizard:policy_start", args=["pets"])


def test_it_404s_for_an_unknown_policy(client):
    assert client.get(reverse("wizard:result", args=["nope"])).status_code == 404


def test_tampered_state_restarts_cleanly(client):
    version = small_policy()
    plant(client, {"version": version.pk, "answers": {"walks": "maybe"}})

    response = client.get(RESULT_URL, follow=True)

    assert response.redirect_chain == [(reverse("wizard:policy_start", args=["pets"]), 302)]
    assert UNREADABLE_ANSWERS in response.content.decode()


def test_it_has_no_inline_script_or_style(client):
    small_policy()
    answer_all(client, pet="dog", walks="yes")

    html = client.get(RESULT_URL).content.decode()

    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, re.S)
    assert all('src="/static/js/' in attrs and not body.strip() for attrs, body in scripts)
    assert "<style" not in html and "style=" not in html


def test_the_result_is_a_named_partial():
    assert get_template("wizard/result.html#result")


def test_it_makes_no_query_at_all(client, django_assert_num_queries):
    small_policy()
    answer_all(client, pet="dog", walks="yes")

    with django_assert_num_queries(0):  # the state is in the cookie, the version in memory
        client.get(RESULT_URL)


def _queries_per_request(slug: str) -> list[int]:
    """The whole flow, fresh client and cold compiled cache: the query count of each request."""
    client = Client()
    requests = [
        lambda: client.get(reverse("wizard:start")),
        lambda: client.get(reverse("wizard:policy_start", args=[slug])),
        lambda: client.post(reverse("wizard:policy_start", args=[slug])),  # builds the cache
        lambda: client.get(reverse("wizard:question", args=[slug, "pet"])),
        lambda: client.post(reverse("wizard:question", args=[slug, "pet"]), {}),
        lambda: client.post(reverse("wizard:question", args=[slug, "pet"]), {"pet": "dog"}),
        lambda: client.get(reverse("wizard:question", args=[slug, "walks"])),
        lambda: client.post(reverse("wizard:question", args=[slug, "walks"]), {"walks": "yes"}),
        lambda: client.get(reverse("wizard:check", args=[slug])),
        lambda: client.get(reverse("wizard:result", args=[slug])),
    ]
    counts = []
    for request in requests:
        with CaptureQueriesContext(connection) as queries:
            response = request()
        assert response.status_code in (200, 302)
        counts.append(len(queries.captured_queries))
    return counts


def test_no_page_needs_more_queries_when_the_policy_has_50_more_rules():
    small_policy(slug="small")
    version = small_policy(slug="large", published=False)
    clause = ClauseFactory(version=version, key="extra")
    for i in range(50):
        RuleFactory(
            version=version,
            key=f"extra-{i}",
            outcome__table=Outcome.Table.STEP,
            conditions={"pet": ["dog"]},
            clauses=[clause],
        )
    publish(version)

    small = _queries_per_request("small")
    large = _queries_per_request("large")

    assert small == large, (small, large)
    compiling = small.pop(2)  # "Start now" compiles the version: a fixed handful of queries
    assert compiling <= 11
    assert max(small) <= 5


@needs_seed
def test_the_seeded_policy_gives_a_full_result(seeded, client):
    answer_all(client, "claude-code", plan="pro", tool="claude_code", audience="just_me", phi="no")

    response = client.get(reverse("wizard:result", args=["claude-code"]))

    html = response.content.decode()
    assert '<div class="panel panel--allowed">' in html
    version = version_in_effect("claude-code").version_id
    link = f'<a href="/claude-code/versions/{version}/">{version}</a>'
    assert f"Checked against version <strong>{link}</strong>" in html
    for section in ("auth-methods-title", "terms-title", "steps-title", "security-title"):
        assert f'id="{section}"' in html
    security = html[html.index('id="security-title"') :]
    assert security.count("<li>") == 3


@needs_seed
@pytest.mark.parametrize(
    ("answers", "verdict"),
    [
        (
            {"plan": "free", "tool": "claude_code", "audience": "just_me", "phi": "no"},
            "not_allowed",
        ),
        (
            {
                "plan": "pro",
                "tool": "claude_code_automation",
                "audience": "just_me",
                "run_pattern": "always_on",
                "phi": "no",
            },
            "unclear",
        ),
    ],
)
def test_the_seeded_policy_words_strict_verdicts_plainly(seeded, client, answers, verdict):
    answer_all(client, "claude-code", **answers)

    html = client.get(reverse("wizard:result", args=["claude-code"])).content.decode()

    assert f'<div class="panel panel--{verdict}">' in html
    title = {"not_allowed": "Not allowed", "unclear": "Unclear"}[verdict]
    assert f'<h1 class="panel__title">{title}' in html


def test_the_save_form_is_a_plain_form_that_ignores_a_double_click(client):
    small_policy()
    answer_all(client, pet="cat")

    html = client.get(RESULT_URL).content.decode()

    form = re.search(r'<form method="post" action="' + RESULT_URL + '"[^>]*>', html).group(0)
    assert "hx-post" not in form  # saving leads to a new page, the result's own link
    assert "data-prevent-double-click" in form
    assert "Save a link to this result</button>" in html


HOSPITAL = {
    "plan": "enterprise",
    "tool": "claude_code",
    "audience": "my_organization",
    "phi": "yes",
    "baa": "yes",
    "zdr": "yes",
    "surface": "cloud",
}


@needs_seed
def test_finishing_the_wizard_shows_the_result_without_writing_a_row(seeded, client):
    answer_all(client, "claude-code", **HOSPITAL)

    with CaptureQueriesContext(connection) as queries:
        check = client.get(reverse("wizard:check", args=["claude-code"]))
        result = client.get(reverse("wizard:result", args=["claude-code"]))

    assert check.status_code == result.status_code == 200
    writes = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]
    assert writes == []
    assert not Result.objects.exists()
    assert '<div class="panel panel--not_allowed">' in result.content.decode()


@needs_seed
def test_a_sensitive_answer_makes_outcome_only_and_30_days_the_defaults(seeded, client):
    answer_all(client, "claude-code", **HOSPITAL)

    html = client.get(reverse("wizard:result", args=["claude-code"])).content.decode()

    save = html[html.index('id="save-title"') :]
    assert re.search(r'name="outcome_only"[^>]*value="1" checked', save, re.S)
    assert re.search(r'value="30"\s+id="[^"]+"\s+checked', save)
    assert "Because you answered “Yes” to “Will it handle protected health" in save


@needs_seed
def test_without_a_sensitive_answer_the_link_shares_everything_and_never_expires(seeded, client):
    answer_all(client, "claude-code", plan="pro", tool="claude_code", audience="just_me", phi="no")

    html = client.get(reverse("wizard:result", args=["claude-code"])).content.decode()

    save = html[html.index('id="save-title"') :]
    assert not re.search(r'name="outcome_only"[^>]*checked', save, re.S)
    assert re.search(r'value="0"\s+id="[^"]+"\s+checked', save)
    assert "Because you answered" not in save


@needs_seed
def test_the_result_leads_with_what_to_do_and_puts_preconditions_first(seeded, client):
    answer_all(client, "claude-code", **HOSPITAL)

    html = client.get(reverse("wizard:result", args=["claude-code"])).content.decode()

    panel = html[html.index('<div class="panel panel--not_allowed">') :]
    panel = panel[: panel.index("</div>")]
    assert '<p class="panel__action" id="action-line">' in panel
    assert "<strong>What you can do instead:</strong>" in panel
    assert "Run Claude Code locally only" in panel
    steps = html[html.index('<ol class="steps">') : html.index("</ol>")]
    titles = re.findall(r'<h3 class="heading-s">([^<]+)', steps)
    assert titles[0] == "Use local surfaces only"
    assert titles[-1] == "Follow the Anthropic Usage Policy"
    assert "The alternative to use instead</h2>" in html
