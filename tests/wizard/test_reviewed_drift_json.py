"""Reviewed drift in JSON: each clause of the API, the CLI and the downloads carries `reworded`
(null, or the reviewed rewording of its page), looked up when the result is read."""

import json
from io import StringIO

from django.core.management import call_command
from django.urls import reverse

from policies import catalog
from policies.models import DriftReview
from wizard.models import Result

URL = "/api/v1/policies/claude-code/evaluate"
BEDROCK = {"plan": "bedrock", "tool": "claude_code", "audience": "just_me", "phi": "no"}
# The seed's reviewed finding: on version 2026-02-18, the page of this clause was reworded.
REVIEWED_VERSION, REVIEWED_CLAUSE, REWORDED_ON = "2026-02-18", "auth-cloud-providers", "2026-03-18"


def clauses_of(payload: dict) -> list[dict]:
    items = [payload["verdict_detail"], *payload["auth_methods"], *payload["terms"]]
    items += payload["steps"]
    return [c for item in items for c in item["clauses"]]


def evaluate(client, *, save: bool = False) -> dict:
    body = {"answers": BEDROCK, "as_of": "2026-03-01", "save": save}
    response = client.post(URL, body, content_type="application/json")
    assert response.status_code == 200, response.content
    return response.json()


def the_review() -> DriftReview:
    return DriftReview.objects.get(version__effective_date=REVIEWED_VERSION, clause=REVIEWED_CLAUSE)


def assert_reworded_as_reviewed(clauses: list[dict]) -> None:
    note = the_review().note
    reviewed = [c for c in clauses if c["id"] == REVIEWED_CLAUSE]
    assert reviewed, "the answers must cite the reviewed clause"
    for clause in reviewed:
        assert clause["reworded"] == {
            "on": REWORDED_ON,
            "reviewed": True,
            "verdict": "reworded, meaning unchanged",
            "note": note,
        }
    others = [c for c in clauses if c["id"] != REVIEWED_CLAUSE]
    assert others and all(c["reworded"] is None for c in others)
    # The keys the contract fixes stay as they were.
    assert all(
        {"id", "quote", "url", "version", "kind", "later_statement"} <= c.keys() for c in clauses
    )


def test_the_api_carries_the_reviewed_rewording_on_each_clause(client, seeded):
    assert_reworded_as_reviewed(clauses_of(evaluate(client)))


def test_a_review_recorded_after_an_evaluation_shows_in_the_next_one(client, seeded):
    review = the_review()
    review_fields = {f: getattr(review, f) for f in ("version_id", "clause", "since", "note")}
    review.delete()
    catalog.forget_published_versions()
    before = clauses_of(evaluate(client))
    assert all(c["reworded"] is None for c in before)

    DriftReview.objects.create(**review_fields)
    catalog.forget_published_versions()  # what `services.drift_review` does

    assert_reworded_as_reviewed(clauses_of(evaluate(client)))


def test_the_cli_prints_the_same_rewording_as_the_api(client, seeded):
    stdout = StringIO()
    call_command(
        "evaluate",
        "claude-code",
        "--answers",
        json.dumps(BEDROCK),
        "--as-of",
        "2026-03-01",
        stdout=stdout,
    )
    printed = json.loads(stdout.getvalue())

    assert_reworded_as_reviewed(clauses_of(printed))
    assert clauses_of(printed) == clauses_of(evaluate(client))


def test_a_saved_result_shows_a_review_made_after_it_was_saved(client, seeded):
    review = the_review()
    review_fields = {f: getattr(review, f) for f in ("version_id", "clause", "since", "note")}
    review.delete()
    catalog.forget_published_versions()
    saved = evaluate(client, save=True)
    token = saved["result_url"].rstrip("/").rsplit("/", 1)[-1]
    api_url = f"/api/v1/results/{token}"
    assert all(c["reworded"] is None for c in clauses_of(client.get(api_url).json()))

    DriftReview.objects.create(**review_fields)
    catalog.forget_published_versions()

    assert_reworded_as_reviewed(clauses_of(client.get(api_url).json()))
    download = client.get(reverse("results:download", args=[token, "json"])).json()
    assert_reworded_as_reviewed(clauses_of(download))
    # What the result cited is kept as saved: the rewording is not written into its snapshot.
    stored = Result.objects.get(token=token).snapshot
    assert all("reworded" not in c for c in clauses_of(stored))


def test_the_markdown_download_says_the_page_was_reworded(client, seeded):
    saved = evaluate(client, save=True)
    token = saved["result_url"].rstrip("/").rsplit("/", 1)[-1]

    text = client.get(reverse("results:download", args=[token, "md"])).content.decode()

    assert f"the page was reworded on {REWORDED_ON} (reviewed: meaning unchanged)" in text


def test_a_version_without_reviews_says_null_on_every_clause(client, seeded):
    body = {"answers": BEDROCK, "as_of": "2026-09-01"}
    payload = client.post(URL, body, content_type="application/json").json()
    assert payload["version"] != REVIEWED_VERSION
    assert not DriftReview.objects.filter(version__effective_date=payload["version"]).exists()

    assert all(c["reworded"] is None for c in clauses_of(payload))


def test_the_openapi_document_describes_reworded(client):
    schema = client.get("/api/v1/openapi.json").json()["components"]["schemas"]

    reworded = schema["ClauseOut"]["properties"]["reworded"]
    assert {"$ref": "#/components/schemas/RewordedOut"} in reworded["anyOf"]
    assert set(schema["RewordedOut"]["required"]) == {"on", "reviewed", "verdict", "note"}
    assert schema["RewordedOut"]["properties"]["on"]["format"] == "date"
