"""GET /api/v1/policies, GET /api/v1/policies/<slug> and the OpenAPI document."""

import datetime as dt
import json

import pytest

from tests.factories import (
    ChoiceFactory,
    ClauseFactory,
    PolicyVersionFactory,
    QuestionFactory,
    RuleFactory,
    publish,
    small_policy,
)

pytestmark = pytest.mark.django_db


def later_version(policy, effective_date=dt.date(2025, 6, 1), *, published=True):
    """A version with a single question, `pet`, without fish."""
    version = PolicyVersionFactory(policy=policy, effective_date=effective_date, notes="No fish.")
    pet = QuestionFactory(version=version, key="pet", text="Which pet now?", order=0)
    for i, key in enumerate(["cat", "dog"]):
        ChoiceFactory(question=pet, key=key, label=key.capitalize(), order=i)
    # Every pet is fine: a verdict for every answer, so that the version passes its checks.
    RuleFactory(version=version, key="all-fine", clauses=[ClauseFactory(version=version)])
    return publish(version) if published else version


def test_it_describes_the_version_in_effect_and_its_questions(client):
    small_policy()

    response = client.get("/api/v1/policies/pets")

    assert response.status_code == 200
    body = response.json()
    assert (body["slug"], body["title"], body["summary"]) == (
        "pets",
        "Pet licence",
        "May you keep this pet?",
    )
    assert body["version"] == body["in_effect"] == "2025-01-01"
    assert body["versions"] == [
        {"id": "2025-01-01", "effective_date": "2025-01-01", "notes": "Made for tests."}
    ]
    assert body["evaluate_url"] == "/api/v1/policies/pets/evaluate"
    pet, walks = body["questions"]
    assert pet == {
        "id": "pet",
        "text": "Which pet?",
        "help": "Why we ask.",
        "choices": [
            {"id": "cat", "label": "Cat", "help": ""},
            {"id": "dog", "label": "Dog", "help": ""},
            {"id": "fish", "label": "Fish", "help": ""},
        ],
        "shown_when": [],
    }
    assert walks["id"] == "walks"
    assert walks["shown_when"] == [{"pet": ["dog"]}]


def test_it_lists_published_versions_newest_first(client):
    first = small_policy()
    later_version(first.policy)

    body = client.get("/api/v1/policies/pets").json()

    assert [v["id"] for v in body["versions"]] == ["2025-06-01", "2025-01-01"]
    assert body["version"] == "2025-06-01"
    assert [q["id"] for q in body["questions"]] == ["pet"]


def test_it_describes_another_published_version_when_asked(client):
    first = small_policy()
    later_version(first.policy)

    body = client.get("/api/v1/policies/pets", {"version": "2025-01-01"}).json()

    assert body["version"] == "2025-01-01"
    assert body["in_effect"] == "2025-06-01"
    assert [q["id"] for q in body["questions"]] == ["pet", "walks"]


def test_a_draft_version_is_not_found_for_the_public(client):
    first = small_policy()
    later_version(first.policy, published=False)

    response = client.get("/api/v1/policies/pets", {"version": "2025-06-01"})

    assert response.status_code == 404
    assert list(response.json()["errors"]) == ["version"]
    assert "2025-01-01" in response.json()["errors"]["version"]


def test_staff_may_describe_a_draft(admin_client):
    first = small_policy()
    later_version(first.policy, published=False)

    response = admin_client.get("/api/v1/policies/pets", {"version": "2025-06-01"})

    assert response.status_code == 200
    body = response.json()
    assert (body["version"], body["status"]) == ("2025-06-01", "draft")
    assert body["questions"][0]["text"] == "Which pet now?"
    assert [v["id"] for v in body["versions"]] == ["2025-01-01"]


def test_an_unknown_version_is_not_found(client):
    small_policy()

    response = client.get("/api/v1/policies/pets", {"version": "2030-01-01"})

    assert response.status_code == 404
    assert list(response.json()["errors"]) == ["version"]


def test_a_version_that_is_not_a_date_is_rejected(client):
    small_policy()

    response = client.get("/api/v1/policies/pets", {"version": "latest"})

    assert response.status_code == 400
    assert "YYYY-MM-DD" in response.json()["errors"]["version"]


def test_describing_an_unknown_policy_is_not_found(client):
    small_policy()

    response = client.get("/api/v1/policies/unicorns")

    assert response.status_code == 404
    assert list(response.json()["errors"]) == ["policy"]


def test_describing_a_policy_takes_few_queries(client, django_assert_max_num_queries):
    small_policy()
    client.get("/api/v1/policies/pets")  # compiles the version

    with django_assert_max_num_queries(2):
        response = client.get("/api/v1/policies/pets")

    assert response.status_code == 200


def test_it_lists_published_policies(client, django_assert_max_num_queries):
    first = small_policy()
    later_version(first.policy)
    small_policy(slug="plants")

    with django_assert_max_num_queries(2):
        response = client.get("/api/v1/policies")

    assert response.status_code == 200
    by_slug = {p["slug"]: p for p in response.json()}
    assert set(by_slug) == {"pets", "plants"}
    assert by_slug["pets"]["versions"] == ["2025-06-01", "2025-01-01"]
    assert by_slug["pets"]["in_effect"] == "2025-06-01"
    assert by_slug["pets"]["url"] == "/api/v1/policies/pets"


def test_the_openapi_document_lists_the_endpoints(client):
    response = client.get("/api/v1/openapi.json")

    assert response.status_code == 200
    document = json.loads(response.content)
    assert document["openapi"].startswith("3.")
    assert {
        "/api/v1/policies",
        "/api/v1/policies/{slug}",
        "/api/v1/policies/{slug}/evaluate",
    } <= set(document["paths"])
    evaluate = document["paths"]["/api/v1/policies/{slug}/evaluate"]["post"]
    assert {"200", "400", "404"} <= set(evaluate["responses"])


def test_the_openapi_document_describes_the_request_and_the_decision(client):
    document = client.get("/api/v1/openapi.json").json()

    schemas = document["components"]["schemas"]
    request = schemas["EvaluateIn"]
    assert set(request["properties"]) == {"answers", "as_of", "save"}
    assert request["required"] == ["answers"]
    assert request["additionalProperties"] is False
    assert {"type": "string", "format": "date"} in request["properties"]["as_of"]["anyOf"]
    decision = schemas["DecisionOut"]
    assert {
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
    } <= set(decision["properties"])
    assert {"id", "quote", "url", "version"} <= set(schemas["ClauseOut"]["properties"])
    assert schemas["ErrorsOut"]["properties"]["errors"]["type"] == "object"
