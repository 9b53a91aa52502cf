"""The admin of sources: documents with their snapshots, a pasted or uploaded copy (the same
rules as import_snapshot), and the drift page where a finding is marked reviewed."""

import json
from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from policies.loading import SEED_DIR
from policies.models import DriftReview, Policy, Snapshot, SourceDocument

LEGAL = SEED_DIR / "snapshots" / "legal-and-compliance" / "2026-08-22.md"
QUOTED = "your existing commercial agreement will apply to Claude Code usage"


@pytest.fixture
def staff_client(client, django_user_model):
    user = django_user_model.objects.create_superuser("admin", "admin@example.com", "pw")
    client.force_login(user)
    return client


def snapshot_url(document: SourceDocument) -> str:
    return reverse("admin:policies_document_snapshot", args=[document.pk])


@pytest.mark.parametrize("name", ["sourcedocument", "driftreview"])
def test_the_source_models_have_admin_lists(staff_client, seeded, name):
    assert staff_client.get(reverse(f"admin:policies_{name}_changelist")).status_code == 200


def test_a_document_page_lists_its_snapshots(staff_client, seeded):
    legal = SourceDocument.objects.get(key="legal-and-compliance")

    html = staff_client.get(
        reverse("admin:policies_sourcedocument_change", args=[legal.pk])
    ).content.decode()

    assert "Record a snapshot" in html
    assert "2025-08-28" in html or "Aug. 28, 2025" in html


def test_a_pasted_copy_is_recorded_with_who_and_a_reworded_one_is_drift(staff_client, seeded):
    legal = SourceDocument.objects.get(key="legal-and-compliance")
    text = LEGAL.read_text(encoding="utf-8").replace(QUOTED, "your agreement governs Claude Code")

    response = staff_client.post(
        snapshot_url(legal), {"date": "2026-09-01", "text": text, "note": "Reworded."}
    )

    assert response.status_code == 302
    stored = Snapshot.objects.get(document=legal, date="2026-09-01")
    assert stored.recorded_by is not None and stored.recorded_by.username == "admin"
    assert stored.text == text


def test_an_unchanged_upload_stores_nothing(staff_client, seeded):
    legal = SourceDocument.objects.get(key="legal-and-compliance")
    before = Snapshot.objects.count()
    upload = SimpleUploadedFile("legal.md", LEGAL.read_bytes())

    response = staff_client.post(
        snapshot_url(legal), {"date": "2026-09-01", "file": upload}, follow=True
    )

    assert "No change" in response.content.decode()
    assert Snapshot.objects.count() == before


def test_a_binary_upload_is_refused(staff_client, seeded):
    legal = SourceDocument.objects.get(key="legal-and-compliance")
    upload = SimpleUploadedFile("x.png", b"\x89PNG\x00\x00")

    response = staff_client.post(snapshot_url(legal), {"date": "2026-09-01", "file": upload})

    assert response.status_code == 200
    assert "binary file" in response.content.decode()
    assert not Snapshot.objects.filter(date="2026-09-01").exists()


def test_a_drift_finding_is_marked_reviewed_with_who_and_when_and_then_checks_pass(
    staff_client, seeded
):
    legal = SourceDocument.objects.get(key="legal-and-compliance")
    text = LEGAL.read_text(encoding="utf-8").replace(QUOTED, "your agreement governs Claude Code")
    staff_client.post(snapshot_url(legal), {"date": "2026-09-01", "text": text})
    policy = Policy.objects.get(slug="claude-code")
    drift = reverse("admin:policies_policy_drift", args=[policy.pk])
    page = staff_client.get(drift).content.decode()
    assert "lc-commercial-agreements: changed since 2026-09-01" in page
    version = policy.versions.get(effective_date="2026-08-22")

    staff_client.post(
        drift,
        {
            "version": version.pk,
            "clause": "lc-commercial-agreements",
            "since": "2026-09-01",
            "note": "Same meaning.",
        },
    )

    review = DriftReview.objects.get(clause="lc-commercial-agreements")
    assert review.reviewed_by is not None and review.reviewed_by.username == "admin"
    out = StringIO()
    call_command("check_sources", "claude-code", "--format", "json", stdout=out)
    finding = next(
        f
        for f in json.loads(out.getvalue())["findings"]
        if f["clause"] == "lc-commercial-agreements"
    )
    assert finding["reviewed"]["by"] == "admin"
    assert finding["reviewed"]["note"] == "Same meaning."


def test_a_finding_that_does_not_exist_cannot_be_reviewed(staff_client, seeded):
    policy = Policy.objects.get(slug="claude-code")
    version = policy.versions.get(effective_date="2026-08-22")

    staff_client.post(
        reverse("admin:policies_policy_drift", args=[policy.pk]),
        {"version": version.pk, "clause": "lc-hosting", "since": "2026-09-01", "note": "x"},
    )

    assert not DriftReview.objects.filter(clause="lc-hosting").exists()


def test_a_draft_started_from_a_finding_lists_the_clause_and_rules_to_review(staff_client, seeded):
    policy = Policy.objects.get(slug="claude-code")
    version = policy.versions.get(effective_date="2026-02-18")

    response = staff_client.post(
        reverse("admin:policies_policy_drift", args=[policy.pk]),
        {
            "draft": "1",
            "version": version.pk,
            "clause": "auth-cloud-providers",
            "since": "2026-03-18",
        },
    )

    draft = policy.versions.get(status="draft")
    assert response.status_code == 302
    assert draft.based_on == version
    assert "auth-cloud-providers" in draft.notes and "auth-bedrock.1" in draft.notes
    assert draft.clauses.count() == version.clauses.count()
