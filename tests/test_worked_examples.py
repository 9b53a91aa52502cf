"""The spec's six worked examples through the three front doors: engine (in
tests/policies/test_claude_code_rulings.py), the JSON API and the `evaluate` command, on the
database as `make run` loads it."""

import json
from io import StringIO

import pytest
from django.core.management import call_command

from tests.policies.test_claude_code_rulings import WORKED_EXAMPLES


def ids(items):
    return {item["id"] for item in items}


def check(payload, version_id, verdict, includes, excludes):
    assert payload["complete"] is True
    assert payload["version"] == version_id
    assert payload["verdict"] == verdict
    for table, wanted in includes.items():
        assert wanted <= ids(payload[table]), table
    for table, unwanted in excludes.items():
        assert not unwanted & ids(payload[table]), table
    for table in ("auth_methods", "terms", "steps"):
        for item in payload[table]:
            assert item["clauses"], item["id"]
            assert set(item["clauses"][0]) >= {"id", "quote", "url", "version"}


def as_of(version_id):
    # The newest version needs no as_of; older ones are reached by their own effective date.
    return None if version_id == "2026-08-22" else version_id


@pytest.mark.parametrize(
    ("answers", "version_id", "verdict", "includes", "excludes"), WORKED_EXAMPLES
)
def test_worked_examples_through_the_api(
    seeded, client, answers, version_id, verdict, includes, excludes
):
    body = {"answers": answers}
    if as_of(version_id):
        body["as_of"] = "2026-03-01" if version_id == "2026-02-18" else version_id
    response = client.post(
        "/api/v1/policies/claude-code/evaluate", body, content_type="application/json"
    )
    assert response.status_code == 200, response.content
    check(response.json(), version_id, verdict, includes, excludes)


@pytest.mark.parametrize(
    ("answers", "version_id", "verdict", "includes", "excludes"), WORKED_EXAMPLES
)
def test_worked_examples_through_the_cli(seeded, answers, version_id, verdict, includes, excludes):
    out = StringIO()
    args = ["evaluate", "claude-code", "--answers", json.dumps(answers)]
    if as_of(version_id):
        args += ["--as-of", "2026-03-01" if version_id == "2026-02-18" else version_id]
    call_command(*args, stdout=out)
    check(json.loads(out.getvalue()), version_id, verdict, includes, excludes)
