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
    "as_of",
    ["tomorrow", "2025-13-01", "01/02/2025", 20250201, ["2025-02-01"], "20250201", "2025-W05-6"],
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


def test_an_answer_key_no_encoder_can_write_is_an_error_not_a_crash(client, pets):
    # "\ud800" in JSON is a lone surrogate: valid JSON, but no UTF-8 text.
    body = '{"answers": {"\\ud800": "cat"}}'
    errors = errors_of(client.post(URL, body, content_type="application/json"))

    assert list(errors) == ["\\ud800"]
    assert "Unknown question" in errors["\\ud800"]


def test_a_flood_of_unknown_keys_gets_a_short_answer(client, pets):
    answers = {f"unknown-{i}-{'x' * 40}": "cat" for i in range(30_000)}  # about 1.5 MB

    response = post_json(client, {"answers": answers})
    errors = errors_of(response)

    assert len(response.content) < 20_000
    assert len(errors) == 21
    assert errors["more"] == "29980 more errors not shown."


def test_a_very_long_key_is_cut_in_the_answer(client, pets):
    errors = errors_of(post_json(client, {"answers": {"k" * 100_000: "cat"}}))

    (field,) = errors
    assert len(field) <= 80 and field.endswith("…")
    assert len(errors[field]) <= 500


def test_a_body_over_the_size_limit_gets_the_json_error_shape(client, pets, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1_000
    response = post_json(client, {"answers": {"pet": "cat"}, "padding": "x" * 2_000})

    errors = errors_of(response)
    assert errors == {"body": "The request body is larger than the 1,000 bytes allowed."}


def test_a_page_form_with_too_many_fields_gets_the_400_page(client, pets, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    client.post("/pets/")  # start
    response = client.post("/pets/questions/pet/", {f"f{i}": "x" for i in range(20)})

    assert response.status_code == 400
    assert "more than the 10 fields allowed" in response.content.decode()


@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_other_methods_on_evaluate_get_405_in_the_error_shape(client, method):
    response = getattr(client, method)("/api/v1/policies/anything/evaluate")

    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert response.json() == {
        "errors": {"method": response.json()["errors"]["method"]},
    }
    assert "use POST" in response.json()["errors"]["method"]
