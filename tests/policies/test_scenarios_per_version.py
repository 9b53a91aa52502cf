"""Scenarios belong to versions: a new draft copies them, editing a draft's changes nothing
published, the seed's land on the versions they test, and the migration moves the policy's
scenarios onto every version they tested."""

import datetime as dt
import importlib

import pytest
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.urls import reverse

from policies import services
from policies.models import PolicyVersion, Scenario
from tests.factories import ScenarioFactory, pet_version, publish, small_policy

pytestmark = pytest.mark.django_db

migration = importlib.import_module("policies.migrations.0006b_scenarios_per_version")


def test_a_new_draft_copies_its_sources_scenarios(admin_client):
    # Written while a draft: a published version's scenarios are locked with it.
    first = small_policy(published=False)
    Scenario.objects.create(
        policy=first.policy,
        version=first,
        name="Fish",
        answers={"pet": "fish"},
        verdict="no",
    )
    published = publish(first)

    draft = services.version_copy(version=published, by=None)

    assert list(draft.scenarios.values_list("name", "verdict")) == [("Fish", "no")]
    report = services.version_report(version=draft)
    assert [run.scenario.name for run in report.runs] == ["Fish"]


def test_editing_a_drafts_scenario_changes_nothing_published():
    # Written while a draft: a published version's scenarios are locked with it.
    first = small_policy(published=False)
    Scenario.objects.create(
        policy=first.policy,
        version=first,
        name="Fish",
        answers={"pet": "fish"},
        verdict="no",
    )
    published = publish(first)
    draft = services.version_copy(version=published, by=None)

    draft.scenarios.update(verdict="yes")  # the draft's copy now expects another verdict

    assert not services.version_report(version=draft).runs[0].passed
    assert services.version_report(version=published).runs[0].passed


def test_a_scenario_added_on_a_drafts_page_belongs_to_it_and_its_policy(admin_client):
    draft = services.version_copy(version=small_policy(), by=None)
    page = admin_client.get(reverse("admin:policies_policyversion_change", args=[draft.pk]))
    form = page.context["adminform"].form
    data = {name: form[name].value() or "" for name in form.fields}
    for formset in page.context["inline_admin_formsets"]:
        management = formset.formset.management_form
        for name in management.fields:
            data[management.add_prefix(name)] = management[name].value()
        for inline_form in formset.formset.forms:
            for name in inline_form.fields:
                value = inline_form[name].value()
                if value is not None:
                    data[inline_form.add_prefix(name)] = value
    data.update(
        {
            "scenarios-TOTAL_FORMS": 1,
            "scenarios-0-name": "Cats",
            "scenarios-0-answers": "pet=cat",
            "scenarios-0-verdict": "yes",
            "_save": "Save",
        }
    )

    response = admin_client.post(
        reverse("admin:policies_policyversion_change", args=[draft.pk]), data
    )

    assert response.status_code == 302
    scenario = Scenario.objects.get(name="Cats")
    assert (scenario.version_id, scenario.policy_id) == (draft.pk, draft.policy_id)


def test_the_seeds_scenarios_are_on_the_versions_they_test(seeded):
    rows = Scenario.objects.filter(policy__slug="claude-code").select_related("version")

    assert rows.count() == 6
    assert all(row.version is not None for row in rows)
    newest = PolicyVersion.objects.filter(policy__slug="claude-code").order_by("-effective_date")[0]
    assert {row.version_id for row in rows if row.as_of is None} == {newest.pk}
    for version in PolicyVersion.objects.filter(policy__slug="claude-code"):
        report = services.version_report(version=version)
        assert not report.failing
        assert len(report.runs) == version.scenarios.count()


def test_the_migration_moves_each_scenario_onto_every_version_it_tests():
    first = small_policy()
    second = pet_version(first.policy, dt.date(2025, 6, 1))
    draft = services.version_copy(version=second, by=None)
    undated = ScenarioFactory(policy=first.policy, name="Now", answers={"pet": "cat"})
    dated = ScenarioFactory(
        policy=first.policy, name="Then", answers={"pet": "cat"}, as_of=dt.date(2025, 3, 1)
    )
    Scenario.objects.filter(version__isnull=False).delete()  # the copy's, for a clean start

    # The models as migrations see them (plain managers, no lock), as when the migration ran.
    migration.onto_versions(MigrationLoader(connection).project_state().apps, None)

    now = Scenario.objects.filter(name="Now")
    assert sorted(now.values_list("version_id", flat=True)) == sorted([second.pk, draft.pk])
    assert list(Scenario.objects.filter(name="Then").values_list("version_id", flat=True)) == [
        first.pk
    ]
    assert Scenario.objects.filter(pk__in=[undated.pk, dated.pk]).count() == 2  # reused rows
