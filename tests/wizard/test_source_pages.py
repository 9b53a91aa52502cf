"""What a person sees of a quote's source: the JSON keys (kind, later_statement, snapshot_url),
the lines under each quote on a result, and the public pages of the stored copies."""

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from policies import catalog, engine
from policies.payloads import CLAUSE_SOURCE_PATH, SNAPSHOT_PATH, live_url

URL = "/api/v1/policies/claude-code/evaluate"
PRO = {"plan": "pro", "tool": "claude_code", "audience": "just_me", "phi": "no"}
BEDROCK = {"plan": "bedrock", "tool": "claude_code", "audience": "just_me", "phi": "no"}


def clauses_of(payload: dict) -> dict[str, dict]:
    items = [payload["verdict_detail"], *payload["auth_methods"], *payload["terms"]]
    items += payload["steps"]
    return {c["id"]: c for item in items for c in item["clauses"]}


def evaluate(client: Client, answers: dict, as_of: str) -> dict:
    response = client.post(
        URL, {"answers": answers, "as_of": as_of}, content_type="application/json"
    )
    assert response.status_code == 200, response.content
    return response.json()


def test_the_paths_match_the_url_conf():
    assert SNAPSHOT_PATH.format(document="d", date="2025-01-01") == reverse(
        "sources:snapshot", args=["d", "2025-01-01"]
    )
    assert CLAUSE_SOURCE_PATH.format(policy="p", version="2025-01-01", clause="c") == reverse(
        "sources:clause", args=["p", "2025-01-01", "c"]
    )


def test_each_clause_says_its_kind_whether_it_is_a_later_statement_and_where_its_copy_is(
    client, seeded
):
    clauses = clauses_of(evaluate(client, PRO, "2025-09-01"))

    later = clauses["auth-account-types"]
    assert (later["kind"], later["later_statement"], later["version"]) == (
        "quote",
        True,
        "2026-03-18",
    )
    assert later["snapshot_url"] == "/sources/claude-code/2025-08-28/auth-account-types/"
    in_force = clauses["lc-license"]
    assert (in_force["later_statement"], in_force["version"]) == (False, "2025-08-28")
    reference = clauses["aup"]
    assert (reference["kind"], reference["snapshot_url"]) == ("reference", None)


def test_every_clause_of_every_result_is_verbatim_in_the_copy_it_links(client, seeded):
    payload = evaluate(client, PRO, "2026-09-01")
    for clause in clauses_of(payload).values():
        if clause["snapshot_url"] is None:
            continue
        page = client.get(clause["snapshot_url"])
        assert page.status_code == 200
        assert b"<mark>" in page.content, clause["id"]


def test_the_live_link_carries_a_text_fragment_of_the_quotes_first_passage():
    clause = engine.Clause(
        "c",
        "Claude Code requires a Pro, Max, Team, Enterprise, or Console account. … More",
        "https://x.example/p",
    )

    assert live_url(clause) == (
        "https://x.example/p#:~:text=Claude%20Code%20requires%20a,Enterprise%2C%20or%20Console%20account"
    )
    assert live_url(engine.Clause("r", "Title", "https://x.example/r", kind="reference")) == (
        "https://x.example/r"
    )


@pytest.fixture
def on_day(monkeypatch):
    def travel(day: dt.date) -> None:
        monkeypatch.setattr(catalog, "today", lambda: day)

    return travel


def answer_all(client: Client, answers: dict) -> None:
    client.post(reverse("wizard:policy_start", args=["claude-code"]))
    for key, value in answers.items():
        response = client.post(reverse("wizard:question", args=["claude-code", key]), {key: value})
        assert response.status_code == 302


def test_a_result_says_said_later_and_links_the_stored_copy_and_the_live_page(
    client, seeded, on_day
):
    on_day(dt.date(2025, 9, 1))
    answer_all(client, PRO)

    html = client.get(reverse("wizard:result", args=["claude-code"])).content.decode()

    assert "said later, on 2026-03-18" in html
    assert "quoted from the page as of 2025-08-28" in html
    assert 'href="/sources/claude-code/2025-08-28/auth-account-types/"' in html
    assert "https://code.claude.com/docs/en/authentication#:~:text=" in html
    # The Usage Policy is a reference: a link, not a quote.
    assert 'See <a href="https://www.anthropic.com/legal/aup">Anthropic Usage Policy</a>' in html


def test_a_result_says_when_a_quoted_page_was_reworded_and_reviewed(client, seeded, on_day):
    on_day(dt.date(2026, 3, 1))
    answer_all(client, BEDROCK)

    html = client.get(reverse("wizard:result", args=["claude-code"])).content.decode()

    assert "the page was reworded on 2026-03-18 (reviewed: meaning unchanged)" in html


def test_the_stored_copy_of_a_clause_highlights_its_quote_and_lists_the_pages_dates(
    client, seeded, django_assert_max_num_queries
):
    url = reverse("sources:clause", args=["claude-code", "2026-08-22", "lc-hosting"])
    client.get(url)  # compiled once
    with django_assert_max_num_queries(3):
        response = client.get(url)

    html = response.content.decode()
    assert response.status_code == 200
    assert "<mark>Unless we&#x27;ve mutually agreed otherwise, preinstalling" in html
    for day in ("2025-08-28", "2026-02-18", "2026-04-04", "2026-08-22"):
        assert f'href="/sources/legal-and-compliance/{day}/"' in html
    assert 'aria-current="page">2026-08-22</a>' in html


def test_a_stored_copy_is_shown_exactly_as_recorded(client, seeded, django_assert_num_queries):
    with django_assert_num_queries(2):
        response = client.get("/sources/legal-and-compliance/2025-08-28/")

    assert response.status_code == 200
    assert "Legal and compliance" in response.content.decode()
    assert client.get("/sources/legal-and-compliance/").url == (
        "/sources/legal-and-compliance/2026-08-22/"
    )


@pytest.mark.parametrize(
    "url",
    [
        "/sources/nope/2025-08-28/",
        "/sources/legal-and-compliance/2025-08-29/",
        "/sources/legal-and-compliance/not-a-date/",
        "/sources/claude-code/2026-08-22/aup/",  # a reference has no stored copy
        "/sources/claude-code/2030-01-01/lc-hosting/",
    ],
)
def test_a_copy_that_does_not_exist_is_a_404(client, seeded, url):
    assert client.get(url).status_code == 404
