"""Source documents and snapshots as records: the seed's documents section, clauses that name
their document and mark later statements, URLs that are web links only, the round trip through
export_policy, and the citation checks that block publishing."""

import datetime as dt
import hashlib
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import IntegrityError, transaction

from policies import catalog, engine, services
from policies.loading import SEED_DIR, SeedError, parse_text, policy_load, read_document
from policies.models import Clause, PolicyVersion, Snapshot, SourceDocument
from tests.factories import ClauseFactory, PolicyVersionFactory

SEED = read_document(SEED_DIR / "claude-code.yaml")

POLICY = """
policy: {slug: pets, title: Pets}
versions: [{id: 2025-02-01, notes: First.}]
documents:
  - id: terms
    title: Pet terms
    url: https://example.com/terms
    other_urls: [https://old.example.com/terms]
    snapshots:
      - {date: 2025-01-01, text: "Pets must be licensed.\\n", provenance: {by: hand}}
      - {date: 2025-03-01, text: "Pets must be registered.\\n", note: Reworded.}
clauses:
  - {id: act, url: "https://old.example.com/terms", document: terms, version: 2025-01-01,
     quote: Pets must be licensed.}
questions:
  - {id: pet, text: "Which pet?", choices: [{id: cat, label: Cat}]}
outcomes:
  verdict: [{id: "yes", title: "Yes", text: Fine.}]
rules:
  - {id: cats, when: {pet: [cat]}, then: {verdict: "yes"}, reason: Fine., cite: [act]}
"""


def test_the_seed_names_a_document_for_every_clause_and_ships_the_manifests_copies():
    documents = {d.key: d for d in SEED.documents}

    assert all(c["document"] for v in SEED.versions for c in v.clauses)
    legal = documents["legal-and-compliance"]
    assert [s.date.isoformat() for s in legal.snapshots] == [
        "2025-08-28",
        "2026-02-18",
        "2026-04-04",
        "2026-08-22",
    ]
    first = legal.snapshots[0]
    assert first.provenance["commit"] == "054a214579879ecdebe10a2351047a97f16a1248"
    assert first.sha256 == hashlib.sha256(first.text.encode()).hexdigest()
    assert documents["anthropic-usage-policy"].kind == "reference"


def test_the_seed_marks_every_clause_dated_after_its_version_a_later_statement_with_a_reason():
    for version in SEED.versions:
        for clause in version.clauses:
            later = clause["version"] > version.id
            assert clause["later_statement"] == later, (version.id, clause["key"])
            assert bool(clause["later_statement_reason"]) == later


def test_a_document_section_loads_with_its_snapshots_and_the_clause_names_it(db):
    policy_load(document=parse_text(POLICY))

    document = SourceDocument.objects.get(key="terms")
    assert document.other_urls == ["https://old.example.com/terms"]
    assert list(document.snapshots.values_list("date", "note")) == [
        (dt.date(2025, 1, 1), ""),
        (dt.date(2025, 3, 1), "Reworded."),
    ]
    assert Snapshot.objects.get(date="2025-01-01").provenance == {"by": "hand"}
    clause = catalog.compiled(catalog.version_by_id("pets", "2025-02-01")).clauses[0]
    assert (clause.document, clause.title, clause.kind) == ("terms", "Pet terms", engine.QUOTE)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("url: https://example.com/terms", "url: javascript:alert(1)"), "https:// or http://"),
        (("document: terms,", "document: nope,"), "unknown document 'nope'"),
        (
            (
                'url: "https://old.example.com/terms", document',
                'url: "https://x.example/", document',
            ),
            "not one of document terms's",
        ),
        (("provenance: {by: hand}", "sha256: abc"), "sha256 is"),
        (("{date: 2025-03-01", "{date: 2025-01-01"), "share a date"),
    ],
)
def test_the_loader_refuses_a_bad_document(change, message):
    with pytest.raises(SeedError, match=message):
        parse_text(POLICY.replace(*change))


def test_a_snapshot_file_must_lie_beside_the_policy_file(tmp_path):
    (tmp_path / "policy.yaml").write_text(
        POLICY.replace('text: "Pets must be licensed.\\n"', "file: ../outside.md")
    )
    (tmp_path.parent / "outside.md").write_text("Pets must be licensed.\n")

    with pytest.raises(SeedError, match="must lie in the policy file's folder"):
        read_document(tmp_path / "policy.yaml")


def test_a_snapshot_file_is_read_byte_for_byte(tmp_path):
    (tmp_path / "copies").mkdir()
    (tmp_path / "copies" / "a.md").write_bytes(b"Pets must be licensed.\r\n")
    (tmp_path / "policy.yaml").write_text(
        POLICY.replace('text: "Pets must be licensed.\\n"', "file: copies/a.md")
    )

    snapshot = read_document(tmp_path / "policy.yaml").documents[0].snapshots[0]

    assert snapshot.text == "Pets must be licensed.\r\n"


@pytest.mark.django_db
def test_a_clause_url_must_be_a_web_link_in_the_model_and_in_the_database():
    clause = ClauseFactory.build(version=PolicyVersionFactory(), url="javascript:alert(1)")

    with pytest.raises(ValidationError) as refused:
        clause.full_clean()
    assert "url" in refused.value.error_dict
    with pytest.raises(IntegrityError), transaction.atomic():
        clause.save()  # as the shell would, past the validators


@pytest.mark.django_db
def test_a_document_url_must_be_a_web_link():
    with pytest.raises(ValidationError):
        SourceDocument(key="x", url="data:text/html,hi", title="X").full_clean()
    with pytest.raises(ValidationError):
        SourceDocument(
            key="x", url="https://x.example", title="X", other_urls=["javascript:x"]
        ).full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        SourceDocument.objects.create(key="x", url="javascript:alert(1)", title="X")


def test_export_then_load_then_export_is_lossless_with_documents_and_reviews(seeded):
    first = StringIO()
    call_command("export_policy", "claude-code", stdout=first)
    assert "documents:" in first.getvalue() and "reviews:" in first.getvalue()
    exported = parse_text(first.getvalue())
    assert sorted(exported.documents, key=str) == sorted(SEED.documents, key=str)
    assert exported.reviews == SEED.reviews

    policy_load(document=exported, replace=True)
    second = StringIO()
    call_command("export_policy", "claude-code", stdout=second)

    assert second.getvalue() == first.getvalue()


@pytest.mark.django_db
def test_publishing_is_refused_while_a_quote_is_not_in_the_copy_in_force():
    policy_load(document=parse_text(POLICY.replace("notes: First.}", "status: draft}")))
    draft = PolicyVersion.objects.get(policy__slug="pets")

    ok = services.version_report(version=draft, effective_date=dt.date(2025, 2, 1))
    late = services.version_report(version=draft, effective_date=dt.date(2025, 4, 1))

    assert not ok.errors
    assert [f.code for f in late.errors] == ["not_in_force"]
    with pytest.raises(services.PublishRefused, match="act: is not in terms"):
        services.version_publish(
            version=draft, by=None, effective_date=dt.date(2025, 4, 1), notes="Late."
        )


@pytest.mark.django_db
def test_a_copy_of_a_version_keeps_its_clauses_documents_and_markers():
    policy_load(document=parse_text(POLICY))
    version = PolicyVersion.objects.get(policy__slug="pets")

    draft = services.version_copy(version=version)

    copied = Clause.objects.get(version=draft)
    assert copied.document is not None and copied.document.key == "terms"
