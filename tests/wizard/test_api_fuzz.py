"""Fuzzing the JSON API with schemathesis, in process, against the seeded policy.

Every operation in /api/v1/openapi.json gets generated requests (valid and invalid, with
schemathesis's default checks: no 5xx, documented status codes, content types and headers, and
bodies that match the response schemas). A second test walks the seeded policy with answers
drawn from its reachable answer sets, so the 200 responses (including saved results and their
read-back) are checked against the schema too; random bodies almost never get that far.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import hypothesis
import jsonschema_rs
import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck
from hypothesis import strategies as st
from schemathesis.specs.openapi.checks import positive_data_acceptance

from policies import analysis
from policies.catalog import compiled, version_in_effect
from wizard.wsgi import application

SLUG = "claude-code"

FUZZ_SETTINGS = hypothesis.settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "40")),
    deadline=None,
    # The database fixtures are function scoped on purpose: every example runs inside the one
    # test transaction, which pytest-django rolls back afterwards.
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)


@pytest.fixture
def in_process_wsgi() -> Iterator[None]:
    """Call the real WSGI application inside the test transaction.

    Django closes "old" connections at the start and end of every request, and a connection
    inside the test's transaction looks old to it: on PostgreSQL the next query then fails. The
    test client switches this off for its requests; schemathesis calls the WSGI app directly, so
    do the same here."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def api(seeded, settings, in_process_wsgi) -> None:
    """The seeded policy in the test database, and the app called in process."""
    # Rate limits would answer generated requests with 429 after the first few dozen; they
    # have tests of their own.
    settings.RATE_LIMIT_API = ""
    settings.RATE_LIMIT_SAVE = ""


# The document as the app serves it. Loaded at import, which needs no database; a lazy
# `schemathesis.pytest.from_fixture` would be nicer, but it breaks on pytest 9 (it sets
# `node._nodeid`, which pytest 9 no longer has).
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)
# The same document with the policy slug pinned to the seeded policy: random slugs all end in a
# 404, and the bodies have to reach the evaluation (and the `as_of`, `version` handling) too.
seeded_schema = schemathesis.openapi.from_wsgi(
    "/api/v1/openapi.json",
    application,
    config=schemathesis.Config.from_dict({"parameters": {"path.slug": SLUG}}),
)


# Every default check but one: a request that the schema allows may still be refused with 400,
# since the schema cannot say which question ids, choice ids or dates a policy has (an unknown
# question, an `as_of` before the first version, `?version=` empty). Requests the schema forbids
# must still be refused (`negative_data_rejection`), and no response may be a 5xx or stray from
# the documented status codes, content types and bodies.
SEMANTIC_400_ALLOWED = [positive_data_acceptance]


@schema.parametrize()
@FUZZ_SETTINGS
def test_every_operation_answers_without_5xx_and_matches_its_schema(api, case):
    case.call_and_validate(excluded_checks=SEMANTIC_400_ALLOWED)


@seeded_schema.include(path_regex="/policies/").parametrize()
@FUZZ_SETTINGS
def test_the_seeded_policy_answers_any_request_without_5xx_and_matches_its_schema(api, case):
    case.call_and_validate(excluded_checks=SEMANTIC_400_ALLOWED)


@pytest.fixture
def reachable(seeded) -> list[dict[str, str]]:
    return list(analysis.reachable_answer_sets(compiled(version_in_effect(SLUG))))


@FUZZ_SETTINGS
@hypothesis.given(data=st.data())
def test_evaluating_and_saving_reachable_answers_matches_the_schema(api, reachable, data):
    answers = data.draw(st.sampled_from(reachable), label="answers")
    # Leave some out, so incomplete answers (next_question set, no verdict) come up too.
    kept = data.draw(
        st.lists(st.sampled_from(sorted(answers)), unique=True, max_size=len(answers)).map(
            lambda keys: {k: answers[k] for k in sorted(keys, key=list(answers).index)}
        )
        | st.just(answers),
        label="sent",
    )
    save = data.draw(st.booleans(), label="save") and kept == answers
    evaluate = schema["/api/v1/policies/{slug}/evaluate"]["POST"]
    case = evaluate.Case(path_parameters={"slug": SLUG}, body={"answers": kept, "save": save})
    response = case.call_and_validate()
    assert response.status_code == 200, response.text
    payload = response.json()
    assert payload["complete"] is (kept == answers)
    if not save:
        assert payload["result_url"] is None
        return
    token = payload["result_url"].rstrip("/").rsplit("/", 1)[-1]
    show = schema["/api/v1/results/{token}"]["GET"]
    saved = show.Case(path_parameters={"token": token}).call_and_validate()
    assert saved.status_code == 200, saved.text
    assert saved.json()["verdict"] == payload["verdict"]


@pytest.mark.parametrize("as_of", ["", None], ids=["empty", "null"])
def test_an_as_of_the_api_accepts_is_one_its_document_allows(api, as_of):
    evaluate = schema["/api/v1/policies/{slug}/evaluate"]["POST"]
    document = evaluate.schema.raw_schema["components"]["schemas"]["EvaluateIn"]
    documented = jsonschema_rs.validator_for(
        document["properties"]["as_of"], validate_formats=True
    ).is_valid(as_of)
    case = evaluate.Case(path_parameters={"slug": SLUG}, body={"answers": {}, "as_of": as_of})
    accepted = case.call().status_code == 200
    assert accepted == documented
