"""POST /api/v1/policies/<slug>/evaluate: the contract of a successful evaluation."""

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from policies import engine
from policies.catalog import compiled
from policies.payloads import decision_payload, with_reviewed_drift
from tests.factories import (
    ChoiceFactory,
    ClauseFactory,
    OutcomeFactory,
    PolicyVersionFactory,
    QuestionFactory,
    RuleFactory,
    publish,
    small_policy,
)
from wizard.models import Result

pytestmark = pytest.mark.django_db

URL = "/api/v1/policies/pets/evaluate"
CONTRACT_KEYS = {
    "policy",
    "version",
    "complete",
    "next_question",
    "verdict",
    "auth_methods",
    "terms",
    "steps",
    "reasons",
    "ignored",
    "result_url",
}


def evaluate(client: Client, body: dict, url: str = URL):
    return client.post(url, body, content_type="application/json")


def second_version_allowing_fish(policy, effective_date=dt.date(2025, 6, 1)):
    """A later version of the pets policy with one question, where every pet is allowed."""
    version = PolicyVersionFactory(policy=policy, effective_date=effective_date)
    pet = QuestionFactory(version=version, key="pet", text="Which pet?", order=0)
    for i, key in enumerate(["cat", "dog", "fish"]):
        ChoiceFactory(question=pet, key=key, label=key.capitalize(), order=i)
    yes = OutcomeFactory(version=version, key="yes", title="Yes", order=0)
    clause = ClauseFactory(version=version, key="pet-act-2", source_version="2025-06-01")
    RuleFactory(version=version, key="all-yes", outcome=yes, clauses=[clause])
    return publish(version)


def test_it_returns_every_contract_key_for_complete_answers(client):
    small_policy()

    response = evaluate(client, {"answers": {"pet": "dog", "walks": "yes"}})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body.keys() >= CONTRACT_KEYS
    assert body["policy"] == "pets"
    assert body["version"] == "2025-01-01"
    assert body["complete"] is True
    assert body["next_question"] is None
    assert body["verdict"] == "yes"
    assert body["auth_methods"] == []
    assert body["terms"] == []
    assert [step["id"] for step in body["steps"]] == ["leash"]
    assert body["ignored"] == []
    assert body["result_url"] is None


def test_each_list_item_has_its_text_and_cited_clauses(client):
    small_policy()

    step = evaluate(client, {"answers": {"pet": "dog", "walks": "yes"}}).json()["steps"][0]

    assert {"id", "text", "clauses"} <= step.keys()
    assert step["text"] == "Text for leash."
    assert step["clauses"] == [
        {
            "id": "pet-act",
            "quote": "The quoted words.",
            "url": "https://example.com/terms",
            "version": "2025-01-01",
            "source": "Example terms",
            # Added by the sources issue: a quote, not a later statement, of no stored page.
            "kind": "quote",
            "later_statement": False,
            "snapshot_url": None,
            "title": "",
            "document": None,
            "later_statement_reason": "",
            "live_url": "https://example.com/terms#:~:text=The%20quoted%20words",
            "reworded": None,
        }
    ]


def test_it_gives_the_reason_for_each_outcome(client):
    small_policy()

    body = evaluate(client, {"answers": {"pet": "fish"}}).json()

    assert body["verdict"] == "no"
    assert body["reasons"] == [
        {"table": "verdict", "outcome": "no", "text": "Because of no-fish.", "clauses": ["pet-act"]}
    ]


def test_incomplete_answers_name_the_next_question_without_a_verdict(client):
    small_policy()

    response = evaluate(client, {"answers": {"pet": "dog"}})

    assert response.status_code == 200
    body = response.json()
    assert body.keys() >= CONTRACT_KEYS
    assert body["complete"] is False
    assert body["next_question"] == "walks"
    assert body["verdict"] is None
    assert body["steps"] == []


def test_no_answers_at_all_ask_the_first_question(client):
    small_policy()

    body = evaluate(client, {"answers": {}}).json()

    assert body["complete"] is False
    assert body["next_question"] == "pet"


def test_it_lists_answers_the_path_does_not_reach_as_ignored(client):
    small_policy()

    body = evaluate(client, {"answers": {"pet": "fish", "walks": "no"}}).json()

    assert body["complete"] is True
    assert body["verdict"] == "no"
    assert body["ignored"] == ["walks"]
    assert body["answers"] == {"pet": "fish"}


def test_as_of_picks_the_version_in_effect_on_that_day(client):
    first = small_policy()
    second_version_allowing_fish(first.policy)

    before = evaluate(client, {"answers": {"pet": "fish"}, "as_of": "2025-05-31"}).json()
    on_the_day = evaluate(client, {"answers": {"pet": "fish"}, "as_of": "2025-06-01"}).json()

    assert (before["version"], before["verdict"]) == ("2025-01-01", "no")
    assert (on_the_day["version"], on_the_day["verdict"]) == ("2025-06-01", "yes")
    assert on_the_day["reasons"][0]["clauses"] == ["pet-act-2"]


def test_without_as_of_it_uses_the_newest_version_in_effect_today(client):
    first = small_policy()
    second_version_allowing_fish(first.policy)

    body = evaluate(client, {"answers": {"pet": "fish"}}).json()

    assert (body["version"], body["verdict"]) == ("2025-06-01", "yes")


def test_a_null_as_of_means_today(client):
    small_policy()

    body = evaluate(client, {"answers": {"pet": "cat"}, "as_of": None}).json()

    assert body["version"] == "2025-01-01"


def test_a_repeated_evaluation_is_the_same_json_in_any_answer_order(client):
    version = small_policy()
    answers = {"pet": "dog", "walks": "no"}

    first = evaluate(client, {"answers": answers})
    again = evaluate(client, {"answers": dict(reversed(answers.items()))})  # reused
    other = evaluate(client, {"answers": {"pet": "dog", "walks": "yes"}})

    fresh = with_reviewed_drift(
        decision_payload(version, engine.evaluate(compiled(version), answers)), {}
    )
    assert first.json() == again.json() == fresh
    assert other.json()["verdict"] == "yes" != first.json()["verdict"]


def test_without_save_nothing_is_stored_and_there_is_no_result_url(client):
    small_policy()

    response = evaluate(client, {"answers": {"pet": "cat"}, "save": False})

    assert response.status_code == 200
    assert response.json()["result_url"] is None
    assert not Result.objects.exists()


def test_it_accepts_posts_from_clients_without_a_csrf_cookie():
    small_policy()
    client = Client(enforce_csrf_checks=True)

    response = evaluate(client, {"answers": {"pet": "cat"}})

    assert response.status_code == 200


def test_it_makes_one_query_once_the_version_is_compiled(client, django_assert_max_num_queries):
    small_policy()
    with django_assert_max_num_queries(7):  # first request: pick the version, then compile it
        evaluate(client, {"answers": {"pet": "cat"}})

    with django_assert_max_num_queries(1):
        response = evaluate(client, {"answers": {"pet": "dog", "walks": "no"}})

    assert response.json()["verdict"] == "no"


def test_it_writes_nothing_to_the_database(client):
    small_policy()

    with CaptureQueriesContext(connection) as queries:
        evaluate(client, {"answers": {"pet": "cat"}, "save": False})

    assert all(q["sql"].lstrip().upper().startswith("SELECT") for q in queries.captured_queries)
