"""`manage.py evaluate`: the API's JSON on stdout, exit 0; the API's error JSON, exit 2."""

import json
from io import StringIO

import pytest
from django.core.management import call_command

from tests.factories import small_policy

pytestmark = pytest.mark.django_db


def run(*args: str) -> tuple[int, dict]:
    """Run the command; return its exit code and the JSON it printed."""
    stdout, stderr = StringIO(), StringIO()
    try:
        call_command("evaluate", *args, stdout=stdout, stderr=stderr)
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    assert stderr.getvalue() == ""
    return code, json.loads(stdout.getvalue())


@pytest.fixture
def pets(db):
    return small_policy()


@pytest.mark.parametrize(
    "body",
    [
        {"answers": {"pet": "dog", "walks": "yes"}},
        {"answers": {"pet": "fish", "walks": "no"}, "as_of": "2025-03-01"},
        {"answers": {"pet": "dog"}},
    ],
)
def test_it_prints_what_the_api_returns(client, pets, body):
    api = client.post("/api/v1/policies/pets/evaluate", body, content_type="application/json")
    args = ["pets", "--answers", json.dumps(body["answers"])]
    if "as_of" in body:
        args += ["--as-of", body["as_of"]]

    code, printed = run(*args)

    assert api.status_code == 200
    assert code == 0
    assert printed == api.json()


@pytest.mark.parametrize(
    ("answers", "as_of", "field"),
    [
        ('{"pet": "bird"}', None, "pet"),
        ('{"colour": "red"}', None, "colour"),
        ('{"pet": 3}', None, "pet"),
        ("[]", None, "answers"),
        ('{"pet": "cat"}', "2024-01-01", "as_of"),
        ('{"pet": "cat"}', "soon", "as_of"),
    ],
)
def test_it_prints_the_same_errors_as_the_api(client, pets, answers, as_of, field):
    body = {"answers": json.loads(answers)} | ({"as_of": as_of} if as_of else {})
    api = client.post("/api/v1/policies/pets/evaluate", body, content_type="application/json")
    args = ["pets", "--answers", answers] + (["--as-of", as_of] if as_of else [])

    code, printed = run(*args)

    assert api.status_code == 400
    assert code == 2
    assert printed == api.json()
    assert list(printed["errors"]) == [field]


def test_incomplete_answers_exit_zero(pets):
    code, printed = run("pets", "--answers", '{"pet": "dog"}')

    assert code == 0
    assert printed["complete"] is False
    assert printed["next_question"] == "walks"
    assert printed["verdict"] is None


def test_an_unknown_choice_exits_two_naming_the_allowed_choices(pets):
    code, printed = run("pets", "--answers", '{"pet": "bird"}')

    assert code == 2
    assert "cat, dog, fish" in printed["errors"]["pet"]


def test_malformed_answers_exit_two(pets):
    code, printed = run("pets", "--answers", "{pet: dog}")

    assert code == 2
    assert list(printed["errors"]) == ["answers"]
    assert "not valid JSON" in printed["errors"]["answers"]


def test_missing_answers_exit_two(pets):
    code, printed = run("pets")

    assert code == 2
    assert "required" in printed["errors"]["answers"]


def test_an_unknown_policy_exits_two(pets):
    code, printed = run("unicorns", "--answers", "{}")

    assert code == 2
    assert list(printed["errors"]) == ["policy"]


def test_as_of_picks_the_version(pets):
    code, printed = run("pets", "--answers", '{"pet": "cat"}', "--as-of", "2025-01-01")

    assert code == 0
    assert printed["version"] == "2025-01-01"
    assert printed["verdict"] == "yes"
