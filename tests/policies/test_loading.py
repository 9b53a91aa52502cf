"""Loading YAML: idempotent, never overwriting admin edits, refusing bad documents whole."""

import pytest
import yaml
from django.core.management import CommandError, call_command

from policies import compile as policy_compile
from policies import engine
from policies.loading import (
    SeedError,
    parse_document,
    policy_load,
    read_document,
    seed_files,
    to_engine,
)
from policies.models import Policy, PolicyVersion, Question, Rule

pytestmark = pytest.mark.django_db

MINIMAL = """
policy: {slug: pets, title: Pet licence}
versions:
  - {id: 2025-01-01, notes: First.}
  - {id: 2025-06-01, notes: Fish banned.}
clauses:
  - {id: act, source: Pet act, url: "https://example.com/act", version: "1", quote: Pets are fine.}
questions:
  - id: pet
    text: Which pet?
    choices: [{id: cat, label: Cat}, {id: fish, label: Fish}]
outcomes:
  verdict: [{id: "no", title: "No"}, {id: "yes", title: "Yes"}]
rules:
  - {id: ok, then: {verdict: "yes"}, reason: Fine., cite: [act]}
  - {id: no-fish, from: 2025-06-01, when: {pet: [fish]}, then: {verdict: "no"},
     reason: Banned., cite: [act]}
"""


def load(text=MINIMAL, **kwargs):
    return policy_load(document=parse_document(yaml.safe_load(text)), **kwargs)


def test_it_loads_every_version_with_its_records():
    report = load()
    assert report.created == ["2025-01-01", "2025-06-01"]
    versions = PolicyVersion.objects.filter(policy__slug="pets").order_by("effective_date")
    assert [v.status for v in versions] == ["published", "published"]
    assert [Rule.objects.filter(version=v).count() for v in versions] == [1, 2]


def test_loading_twice_changes_nothing():
    load()
    counts = (PolicyVersion.objects.count(), Rule.objects.count(), Question.objects.count())
    report = load()
    assert report.created == []
    assert report.skipped == ["2025-01-01", "2025-06-01"]
    assert (PolicyVersion.objects.count(), Rule.objects.count(), Question.objects.count()) == counts


def test_loading_never_overwrites_admin_edits_but_replace_does():
    load()
    Policy.objects.filter(slug="pets").update(title="Edited by an admin")
    load()
    assert Policy.objects.get(slug="pets").title == "Edited by an admin"
    load(replace=True)
    assert Policy.objects.get(slug="pets").title == "Pet licence"


def test_a_new_version_in_the_file_is_added_to_an_existing_policy():
    text = MINIMAL.replace("  - {id: 2025-06-01, notes: Fish banned.}\n", "")
    load(text)
    report = load()
    assert report.created == ["2025-06-01"]


def test_the_loaded_version_evaluates_like_the_document():
    load()
    version = policy_compile.version_in_effect("pets")
    decision = engine.evaluate(policy_compile.compiled(version), {"pet": "fish"})
    assert decision.verdict.key == "no"
    old = policy_compile.version_in_effect("pets", policy_compile.parse_as_of("2025-02-01"))
    assert engine.evaluate(policy_compile.compiled(old), {"pet": "fish"}).verdict.key == "yes"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("reason: Fine.", "reason: Fine., colour: red"), "unknown key(s) colour"),
        (
            ("cite: [act]}\n  - {id: no-fish", "cite: [nope]}\n  - {id: no-fish"),
            "unknown clause nope",
        ),
        (("when: {pet: [fish]}", "when: {pet: [parrot]}"), "unknown choice(s) parrot"),
        (("when: {pet: [fish]}", "when: {size: [big]}"), "unknown question 'size'"),
        (('then: {verdict: "no"}', "then: {verdict: maybe}"), "'maybe' is not an outcome"),
        (("{id: 2025-06-01", "{id: 2025-01-01"), "share an effective date"),
        (("{id: ok,", "{id: no-fish,"), "Duplicate rule no-fish"),
    ],
)
def test_a_bad_document_is_refused_whole(change, message):
    text = MINIMAL.replace(*change)
    assert text != MINIMAL
    with pytest.raises(SeedError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load(text)
    assert not Policy.objects.exists()


def test_the_command_loads_the_seed_and_skips_an_existing_policy_with_if_absent(capsys):
    call_command("load_policy")
    seeded = PolicyVersion.objects.count()
    assert seeded >= 4
    call_command("load_policy", "--if-absent")
    assert "already loaded" in capsys.readouterr().out
    assert PolicyVersion.objects.count() == seeded


def test_the_command_reports_a_bad_file(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("policy: [not, a, mapping]\n")
    with pytest.raises(CommandError, match=r"bad\.yaml"):
        call_command("load_policy", str(path))


def test_the_database_round_trip_compiles_to_the_same_engine_version(django_assert_max_num_queries):
    document = read_document(seed_files()[0])
    policy_load(document=document)
    for doc_version in document.versions:
        row = policy_compile.version_in_effect(document.slug, doc_version.effective_date)
        with django_assert_max_num_queries(6):
            built = policy_compile.build(row)
        expected = to_engine(document.slug, doc_version)
        assert built.questions == expected.questions
        assert built.clauses == tuple(sorted(expected.clauses, key=lambda c: c.key))
        assert sorted(built.rules, key=lambda r: r.key) == sorted(
            (
                engine.Rule(**{**r.__dict__, "clauses": tuple(sorted(r.clauses))})
                for r in expected.rules
            ),
            key=lambda r: r.key,
        )
        assert built.outcomes == expected.outcomes


def test_published_versions_are_compiled_once_and_cached(django_assert_num_queries):
    small = load()
    assert small.created
    version = policy_compile.version_in_effect("pets")
    first = policy_compile.compiled(version)
    with django_assert_num_queries(0):
        assert policy_compile.compiled(version) is first
