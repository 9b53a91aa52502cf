"""Every write the ORM can make to a record of a published version is refused, whoever writes:
save and delete, QuerySet.update and delete, bulk_create and bulk_update, and the many-to-many
writes of a rule's clauses. Drafts take the same writes."""

import pytest
from django.db import transaction

from policies.models import (
    Choice,
    Citation,
    Clause,
    Outcome,
    PolicyVersion,
    Question,
    Rule,
    Scenario,
    VersionLockedError,
)
from tests.factories import publish, small_policy

pytestmark = pytest.mark.django_db


def new_record(model, version: PolicyVersion):
    """An unsaved record of `model` belonging to `version`."""
    question = Question.objects.get(version=version, key="pet")
    outcome = Outcome.objects.get(version=version, key="yes")
    clause = Clause.objects.get(version=version, key="pet-act")
    return {
        Question: lambda: Question(version=version, key="extra", text="Extra?"),
        Choice: lambda: Choice(question=question, key="bird", label="Bird"),
        Outcome: lambda: Outcome(version=version, table="verdict", key="maybe", title="Maybe"),
        Clause: lambda: Clause(version=version, key="extra", quote="Q.", url="https://e.com"),
        Rule: lambda: Rule(version=version, key="extra", outcome=outcome, reason="R."),
        Citation: lambda: Citation(
            rule=Rule.objects.get(version=version, key="lazy-dog"),
            # A draft takes a new clause; for a published version the lock refuses first.
            clause=Clause.objects.create(
                version=version, key="new", quote="Q.", url="https://e.com"
            )
            if version.is_draft
            else clause,
        ),
        Scenario: lambda: Scenario(
            policy_id=version.policy_id, version=version, name="Extra", answers={"pet": "dog"}
        ),
    }[model]()


def records_of(model, version: PolicyVersion):
    return model.objects.filter(**{model.version_path: version})


MODELS = [Question, Choice, Outcome, Clause, Rule, Citation, Scenario]
# A text field of each model, to write in bulk_update.
TEXT_FIELD = {
    Question: "text",
    Choice: "label",
    Outcome: "title",
    Clause: "quote",
    Rule: "reason",
    Citation: "clause",
    Scenario: "name",
}


def with_scenario(version: PolicyVersion) -> PolicyVersion:
    Scenario.objects.create(
        policy_id=version.policy_id,
        version=version,
        name="Cats",
        answers={"pet": "cat"},
        verdict="yes",
    )
    return version


@pytest.fixture
def published():
    # The scenario is written while the version is a draft, as the admin and the loader do.
    return publish(with_scenario(small_policy(published=False)))


@pytest.fixture
def draft():
    return with_scenario(small_policy(slug="draft-pets", published=False))


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_bulk_create_into_a_published_version_is_refused(model, published):
    before = records_of(model, published).count()

    with pytest.raises(VersionLockedError):
        model.objects.bulk_create([new_record(model, published)])

    assert records_of(model, published).count() == before


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_bulk_create_into_a_draft_is_allowed(model, draft):
    before = records_of(model, draft).count()

    model.objects.bulk_create([new_record(model, draft)])

    assert records_of(model, draft).count() == before + 1


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_bulk_update_of_a_published_version_is_refused(model, published):
    rows = list(records_of(model, published))
    field = TEXT_FIELD[model]
    if model is Citation:
        other = Clause.objects.get(version=published, key="pet-act")
        for row in rows:
            row.clause = other
    else:
        for row in rows:
            setattr(row, field, "changed")

    with pytest.raises(VersionLockedError):
        model.objects.bulk_update(rows, [field])


def test_bulk_update_cannot_move_a_draft_record_into_a_published_version(published, draft):
    question = Question.objects.get(version=draft, key="pet")
    question.version = published
    question.key = "moved"

    with pytest.raises(VersionLockedError):
        Question.objects.bulk_update([question], ["version", "key"])

    assert not Question.objects.filter(version=published, key="moved").exists()


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_queryset_update_and_delete_of_a_published_version_are_refused(model, published):
    field = TEXT_FIELD[model]
    value = Clause.objects.get(version=published, key="pet-act") if model is Citation else "x"
    before = records_of(model, published).count()

    with pytest.raises(VersionLockedError):
        records_of(model, published).update(**{field: value})
    with pytest.raises(VersionLockedError):
        records_of(model, published).delete()

    assert records_of(model, published).count() == before


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_save_and_delete_of_a_published_record_are_refused(model, published):
    row = records_of(model, published).first()

    with pytest.raises(VersionLockedError):
        row.save()
    with pytest.raises(VersionLockedError):
        row.delete()
    with pytest.raises(VersionLockedError):
        new_record(model, published).save()


def test_a_published_rules_citations_cannot_change(published):
    rule = Rule.objects.get(version=published, key="lazy-dog")
    clause = Clause.objects.get(version=published, key="pet-act")

    for write in (rule.clauses.clear, lambda: rule.clauses.set([]), lambda: clause.rules.clear()):
        # Each in a savepoint of its own, as a request's transaction would hold it.
        with pytest.raises(VersionLockedError), transaction.atomic():
            write()

    assert list(rule.clauses.all()) == [clause]


def test_a_drafts_citations_can_change(draft):
    rule = Rule.objects.get(version=draft, key="lazy-dog")

    rule.clauses.clear()

    assert not rule.clauses.exists()


def test_a_published_versions_own_row_is_frozen_in_bulk_too(published):
    rows = PolicyVersion.objects.filter(pk=published.pk)

    with pytest.raises(VersionLockedError):
        rows.update(notes="Rewritten.")
    with pytest.raises(VersionLockedError):
        rows.delete()
    published.notes = "Rewritten."
    with pytest.raises(VersionLockedError):
        PolicyVersion.objects.bulk_update([published], ["notes"])
    with pytest.raises(VersionLockedError):
        PolicyVersion.objects.bulk_create(
            [PolicyVersion(policy=published.policy, status="published")]
        )

    published.refresh_from_db()
    assert published.notes == "Made for tests."


def test_a_scenario_cannot_be_moved_into_or_out_of_a_published_version(published, draft):
    into = Scenario.objects.get(version=draft)
    into.version = published
    out = Scenario.objects.get(version=published)
    out.version = draft

    for write in (into.save, out.save, lambda: Scenario.objects.bulk_update([into], ["version"])):
        with pytest.raises(VersionLockedError), transaction.atomic():
            write()
    with pytest.raises(VersionLockedError):
        Scenario.objects.filter(pk=out.pk).update(version=draft)

    assert Scenario.objects.filter(version=published).count() == 1
    assert Scenario.objects.filter(version=draft).count() == 1


def test_a_withdrawn_versions_scenarios_stay_locked(published):
    from policies import services

    services.version_withdraw(version=published, by=None, because="A mistake.")
    scenario = Scenario.objects.get(version=published)
    scenario.name = "Renamed"

    with pytest.raises(VersionLockedError):
        scenario.save()
    with pytest.raises(VersionLockedError):
        Scenario.objects.filter(version=published).delete()


def test_the_policys_own_scenarios_are_not_locked(published):
    own = Scenario.objects.create(policy=published.policy, name="Own", answers={"pet": "cat"})

    own.name = "Own, renamed"
    own.save()
    Scenario.objects.filter(pk=own.pk).update(verdict="yes")
    Scenario.objects.filter(pk=own.pk).delete()

    assert not Scenario.objects.filter(version__isnull=True).exists()
