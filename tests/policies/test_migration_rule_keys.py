"""Migration 0009: a database loaded when rule keys spelled the outcome gets the keys the loader
gives now, published versions included, and nothing decides differently."""

import importlib
import re

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from policies import analysis, engine, records
from policies.loading import policy_load, read_document, seed_files
from policies.models import PolicyVersion, Rule
from wizard.models import Result
from wizard.services import result_create

pytestmark = pytest.mark.django_db

# The migration's own functions, run on the schema of today with the models as migrations see
# them (no lock): migrating the database back to 0008 would leave today's loader, which the
# fixture uses, on a schema it no longer fits.
MIGRATION = importlib.import_module("policies.migrations.0009_stable_rule_keys")


def historical_apps():
    return MigrationExecutor(connection).loader.project_state().apps


def forwards(apps):
    MIGRATION.forwards(apps, None)


def backwards(apps):
    MIGRATION.backwards(apps, None)


def old_key(key: str, table: str, outcome: str) -> str:
    """The key the loader gave before: the table (and its number) spelled as the outcome."""
    return re.sub(rf"\.{table}(\.[0-9]+)?$", f".{outcome}", key)


def decisions(version: PolicyVersion) -> list[tuple]:
    """What the version decides on every reachable answer set, rule keys aside."""
    built = records.build(version)
    found = []
    for answers in analysis.reachable_answer_sets(built):
        decision = engine.evaluate(built, answers)
        items = [decision.verdict, *decision.auth_methods, *decision.terms, *decision.steps]
        found.append(tuple((i.key, i.reasons, tuple(c.key for c in i.clauses)) for i in items if i))
    return found


@pytest.fixture
def old_database():
    """The seed loaded, then its keys written back the old way (as a database loaded before
    this change holds them), with a draft whose notes and an edited outcome name old keys."""
    apps = historical_apps()
    policy_load(document=read_document(seed_files()[0]))
    now = dict(Rule.objects.values_list("pk", "key"))
    version = PolicyVersion.objects.filter(status="published").order_by("-effective_date")[0]
    answers = {"plan": "max", "tool": "claude_code", "audience": "just_me", "phi": "no"}
    saved, _ = result_create(version=version, answers=answers)
    # The historical model: the published versions' lock is the model layer's, not the table's.
    old_rule = apps.get_model("policies", "Rule")
    rows = list(old_rule.objects.select_related("outcome"))
    for row in rows:
        row.key = old_key(row.key, row.outcome.table, row.outcome.key)
    old_rule.objects.bulk_update(rows, ["key"])
    return now, saved, apps


def test_the_migration_gives_the_seeds_rules_the_keys_the_loader_gives_now(old_database):
    now, saved, apps = old_database
    snapshot = Result.objects.get(pk=saved.pk).snapshot
    old_keys = set(Rule.objects.values_list("key", flat=True))
    before = {v.pk: decisions(v) for v in PolicyVersion.objects.all()}

    forwards(apps)

    assert "hosting-conditions.1.commercial_terms" in old_keys  # what the old loader wrote
    assert dict(Rule.objects.values_list("pk", "key")) == now
    assert "hosting-conditions.1.terms.1" in now.values()
    assert {v.pk: decisions(v) for v in PolicyVersion.objects.all()} == before
    assert Result.objects.get(pk=saved.pk).snapshot == snapshot  # never rewritten


def test_the_migration_can_be_undone(old_database):
    _, _, apps = old_database
    old_keys = dict(Rule.objects.values_list("pk", "key"))
    forwards(apps)

    backwards(apps)

    assert dict(Rule.objects.values_list("pk", "key")) == old_keys


def test_a_drafts_edited_outcome_and_its_notes_follow_the_rename(old_database):
    _, _, apps = old_database
    source = PolicyVersion.objects.filter(status="published").order_by("-effective_date")[0]
    draft_row = apps.get_model("policies", "PolicyVersion").objects.create(
        policy_id=source.policy_id, status="draft", notes="", title=source.title
    )
    old_rule = apps.get_model("policies", "Rule")
    # A copy of the version in effect as the old code made one, with the verdict of one
    # situation turned around in the grid and its notes naming rules to review.
    for row in old_rule.objects.filter(version_id=source.pk).select_related("outcome"):
        outcome = apps.get_model("policies", "Outcome").objects.get_or_create(
            version_id=draft_row.pk,
            table=row.outcome.table,
            key=row.outcome.key,
            defaults={"title": row.outcome.title, "order": row.outcome.order},
        )[0]
        old_rule.objects.create(
            version_id=draft_row.pk,
            key=row.key,
            priority=row.priority,
            conditions=row.conditions,
            outcome=outcome,
            reason=row.reason,
        )
    allowed = apps.get_model("policies", "Outcome").objects.get_or_create(
        version_id=draft_row.pk, table="verdict", key="allowed", defaults={"title": "Allowed"}
    )[0]
    edited = old_rule.objects.get(
        version_id=draft_row.pk, key="agent-sdk-for-others-subscription.not_allowed"
    )
    edited.outcome = allowed
    edited.save()
    notes = (
        "Check the rules that cite it: agent-sdk-for-others-subscription.not_allowed, "
        "hosting-conditions.1.commercial_terms."
    )
    apps.get_model("policies", "PolicyVersion").objects.filter(pk=draft_row.pk).update(notes=notes)

    forwards(apps)

    keys = set(Rule.objects.filter(version_id=draft_row.pk).values_list("key", flat=True))
    published = set(Rule.objects.filter(version=source).values_list("key", flat=True))
    assert keys == published  # the draft reads like its source again
    renamed = Rule.objects.get(
        version_id=draft_row.pk, key="agent-sdk-for-others-subscription.verdict"
    )
    assert renamed.outcome.key == "allowed"
    assert PolicyVersion.objects.get(pk=draft_row.pk).notes == (
        "Check the rules that cite it: agent-sdk-for-others-subscription.verdict, "
        "hosting-conditions.1.terms.1."
    )
