"""Published versions are frozen in the model layer, whoever writes."""

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from policies.models import Choice, Clause, Outcome, PolicyVersion, Question, Rule
from tests.factories import (
    ClauseFactory,
    PolicyVersionFactory,
    QuestionFactory,
    RuleFactory,
    publish,
    small_policy,
)

pytestmark = pytest.mark.django_db


def test_a_published_version_refuses_to_be_saved_again():
    version = small_policy()
    version.notes = "edited"
    with pytest.raises(ValidationError) as excinfo:
        version.save()
    assert excinfo.value.code == "published_version_locked"
    version.refresh_from_db()
    assert version.notes != "edited"


def test_a_published_version_refuses_deletion():
    version = small_policy()
    with pytest.raises(ValidationError):
        version.delete()
    assert PolicyVersion.objects.filter(pk=version.pk).exists()


@pytest.mark.parametrize("model", [Question, Choice, Outcome, Clause, Rule])
def test_records_of_a_published_version_refuse_save_and_delete(model):
    small_policy()
    record = model.objects.first()
    with pytest.raises(ValidationError):
        record.save()
    with pytest.raises(ValidationError):
        record.delete()


@pytest.mark.parametrize("model", [Question, Choice, Outcome, Clause, Rule])
def test_bulk_updates_and_deletes_of_published_records_are_refused(model):
    small_policy()
    before = model.objects.count()
    with pytest.raises(ValidationError):
        model.objects.all().delete()
    with pytest.raises(ValidationError):
        model.objects.filter(pk=model.objects.first().pk).update(pk=model.objects.first().pk)
    assert model.objects.count() == before


def test_a_published_rules_cited_clauses_cannot_change():
    version = small_policy()
    rule = Rule.objects.get(version=version, key="no-fish")
    # Django clears M2M without a savepoint of its own, so give the refusal one to roll back to.
    with pytest.raises(ValidationError), transaction.atomic():
        rule.clauses.clear()
    assert rule.clauses.count() == 1


def test_drafts_stay_editable_until_published():
    draft = PolicyVersionFactory()
    question = QuestionFactory(version=draft)
    question.text = "Reworded?"
    question.save()
    Question.objects.filter(pk=question.pk).update(order=5)
    publish(draft)
    with pytest.raises(ValidationError):
        Question.objects.filter(pk=question.pk).update(order=6)


def test_rule_conditions_are_checked_against_the_versions_questions():
    draft = PolicyVersionFactory()
    question = QuestionFactory(version=draft, key="pet")
    Choice.objects.create(question=question, key="cat", label="Cat")
    rule = RuleFactory(version=draft, conditions={"pet": ["parrot"]})
    with pytest.raises(ValidationError) as excinfo:
        rule.full_clean()
    assert "parrot" in str(excinfo.value) and "cat" in str(excinfo.value)
    rule.conditions = {"colour": ["red"]}
    with pytest.raises(ValidationError, match="Unknown question 'colour'"):
        rule.full_clean()
    rule.conditions = {"pet": ["cat"]}
    rule.full_clean()


def test_a_rule_must_use_an_outcome_of_its_own_version():
    rule = RuleFactory()
    rule.outcome = RuleFactory().outcome
    with pytest.raises(ValidationError, match="same version"):
        rule.full_clean()


def test_a_published_version_needs_an_effective_date():
    version = PolicyVersionFactory.build(effective_date=None, status="published")
    with pytest.raises(ValidationError, match="effective date"):
        version.clean()


def test_clause_and_version_strings_are_readable():
    clause = ClauseFactory(key="terms-1")
    assert str(clause) == "terms-1"
    assert str(clause.version).endswith("(draft)")
