"""POST /api/v1/policies/<slug>/evaluate: every bad input is a 400 (or 404) with one shape,
`{"errors": {"<question id or field>": "<message>"}}`, and nothing is written."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from policies.models import Policy, PolicyVersion, Question
from tests.factories import small_policy

pytestmark = pytest.mark.django_db

URL = "/api/v1/policies/pets/evaluate"


def post_json(client, body, url=URL):
    return client.post(url, json.dumps(body), content_type="application/json")


def errors_of(response, status=400):
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert list(body) == ["errors"]
    assert all(isinstance(v, str) for v in body["errors"].values())
    return body["errors"]


@pytest.fixture
def pets(db):
    return small_policy()


def test_it_rejects_an_unknown_choice_naming_the_allowed_ones(client, pets):
    errors = errors_of(post_json(client, {"answers": {"pet": "bird"}}))

    assert list(errors) == ["pet"]
    assert "'bird'" in errors["pet"]
    assert "cat, dog, fish" in errors["pet"]


def test_it_rejects_an_unknown_question_naming_the_questions(client, pets):
    errors = errors_of(post_json(client, {"answers": {"pet": "cat", "colour": "red"}}))

    assert list(errors) == ["colour"]
    assert "pet, walks" in errors["colour"]


@pytest.mark.parametrize("value", [3, ["dog"], None, True, {"id": "dog"}])
def test_it_rejects_an_answer_of_the_wrong_type(client, pets, value):
    errors = errors_of(post_json(client, {"answers": {"pet": value}}))

    assert list(errors) == ["pet"]
    assert "string" in errors["pet"]
    assert "cat, dog, fish" in errors["pet"]


def test_validation_comes_before_completeness(client, pets):
    # Incomplete (walks is unanswered for a dog) and also wrong: the error wins.
    errors = errors_of(post_json(client, {"answers": {"pet": "dog", "walks": "sometimes"}}))

    assert list(errors) == ["walks"]
    assert "yes, no" in errors["walks"]


def test_it_reports_every_bad_answer_at_once(client, pets):
    errors = errors_of(post_json(client, {"answers": {"pet": "bird", "colour": "red"}}))

    assert set(errors) == {"pet", "colour"}


@pytest.mark.parametrize("answers", [[], "pet=dog", 3, None])
def test_it_rejects_answers_that_are_not_an_object(client, pets, answers):
    errors = errors_of(post_json(client, {"answers": answers}))

    assert list(errors) == ["answers"]
    assert "object" in errors["answers"]


def test_it_requires_answers(client, pets):
    errors = errors_of(post_json(client, {"as_of": "2025-02-01"}))

    assert list(errors) == ["answers"]
    assert "required" in errors["answers"]


@pytest.mark.parametrize("body", ["{not json", '{"answers": {}', "", b"\x80{}"])
def test_it_rejects_a_malformed_body(client, pets, body):
    errors = errors_of(client.post(URL, body, content_type="application/json"))

    assert list(errors) == ["body"]
    assert "JSON object" in errors["body"]


def test_it_says_when_the_body_is_not_utf8(client, pets):
    errors = errors_of(client.post(URL, b"\x80{}", content_type="application/json"))

    assert "UTF-8" in errors["body"]


@pytest.mark.parametrize("body", [[], ["answers"], "answers", 3, None])
def test_it_rejects_a_body_that_is_not_an_object(client, pets, body):
    errors = errors_of(post_json(client, body))

    assert list(errors) == ["body"]
    assert "JSON object" in errors["body"]


def test_it_names_unknown_fields_in_the_body(client, pets):
    errors = errors_of(post_json(client, {"answers": {}, "asof": "2025-02-01", "verbose": 1}))

    assert set(errors) == {"asof", "verbose"}
    assert "'asof'" in errors["asof"]
    assert "answers, as_of, save" in errors["asof"]


@pytest.mark.parametrize("save", ["yes", "true", 1, None, []])
def test_it_rejects_save_that_is_not_a_boolean(client, pets, save):
    errors = errors_of(post_json(client, {"answers": {}, "save": save}))

    assert list(errors) == ["save"]
    assert "true or false" in errors["save"]


@pytest.mark.parametrize(
    "as_of", ["tomorrow", "2025-13-01", "01/02/2025", 20250201, ["2025-02-01"]]
)
def test_it_rejects_an_as_of_that_is_not_a_date(client, pets, as_of):
    errors = errors_of(post_json(client, {"answers": {"pet": "cat"}, "as_of": as_of}))

    assert list(errors) == ["as_of"]
    assert "YYYY-MM-DD" in errors["as_of"]


def test_it_rejects_an_as_of_before_the_first_version(client, pets):
    errors = errors_of(post_json(client, {"answers": {"pet": "cat"}, "as_of": "2024-12-31"}))

    assert list(errors) == ["as_of"]
    assert "2025-01-01" in errors["as_of"]


def test_an_unknown_policy_is_not_found(client, pets):
    response = post_json(client, {"answers": {}}, url="/api/v1/policies/unicorns/evaluate")

    errors = errors_of(response, status=404)
    assert list(errors) == ["policy"]
    assert "unicorns" in errors["policy"]


def test_a_policy_with_only_drafts_is_not_found(client, pets):
    PolicyVersion.objects.create(policy=Policy.objects.create(slug="drafty", title="Drafty"))

    response = post_json(client, {"answers": {}}, url="/api/v1/policies/drafty/evaluate")

    assert list(errors_of(response, status=404)) == ["policy"]


@pytest.mark.parametrize(
    "body",
    [
        {"answers": {"pet": "bird"}, "save": True},
        {"answers": {"pet": "cat"}, "as_of": "2024-01-01", "save": True},
        {"answers": {"pet": "cat"}, "save": "yes"},
    ],
)
def test_a_failed_request_writes_nothing(client, pets, body):
    counts = (Policy.objects.count(), PolicyVersion.objects.count(), Question.objects.count())

    with CaptureQueriesContext(connection) as queries:
        response = post_json(client, body)

    assert response.status_code == 400
    assert all(q["sql"].lstrip().upper().startswith("SELECT") for q in queries.captured_queries)
    assert (Policy.objects.count(), PolicyVersion.objects.count(), Question.objects.count()) == (
        counts
    )
