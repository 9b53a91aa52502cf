"""Rule keys are short and stable: they say which YAML rule, alternative and table a stored rule
comes from, never its outcome, so editing an outcome in the grid keeps the key; new and copied
rows are named the same way."""

import datetime as dt
import re
from io import StringIO

import pytest
import yaml
from django.core.management import call_command
from django.urls import reverse

from policies import rule_keys, services
from policies.loading import (
    SeedError,
    parse_document,
    parse_text,
    policy_load,
    read_document,
    seed_files,
)
from policies.models import Outcome, PolicyVersion, Rule
from tests.factories import small_policy

HX = {"HX-Request": "true"}


def test_a_rule_of_one_outcome_keeps_its_id_and_several_are_named_by_table():
    assert rule_keys.expanded("r", 1, ["verdict"]) == ["r"]
    assert rule_keys.expanded("r", 2, ["verdict"]) == ["r.1", "r.2"]
    assert rule_keys.expanded("r", 1, ["verdict", "steps", "steps"]) == [
        "r.verdict",
        "r.steps.1",
        "r.steps.2",
    ]
    assert rule_keys.expanded("r", 2, ["terms", "steps"]) == [
        "r.1.terms",
        "r.1.steps",
        "r.2.terms",
        "r.2.steps",
    ]


def test_new_and_copied_rows_take_the_next_free_number():
    taken = {"a", "a.2", "b.steps", "verdict.1"}
    assert rule_keys.copy_key(taken, "a") == "a.3"
    assert rule_keys.copy_key(taken, "a.2") == "a.3"
    assert rule_keys.copy_key(taken, "b.steps") == "b.steps.2"
    assert rule_keys.free_key(taken, "verdict") == "verdict.2"
    assert rule_keys.free_key(taken, "steps") == "steps.1"


@pytest.fixture(scope="module")
def seed():
    return read_document(seed_files()[0])


def test_the_seeds_keys_are_unique_short_and_never_spell_their_outcome(seed):
    for doc in seed.versions:
        keys = [rule["key"] for rule in doc.rules]
        assert len(keys) == len(set(keys)), doc.id
        assert max(len(key) for key in keys) <= 50, doc.id
        several = [
            rule
            for rule in doc.rules
            if re.search(r"\.(verdict|auth_methods|terms|steps)", rule["key"])
        ]
        assert several, doc.id  # the seed has rules of several outcomes …
        for rule in doc.rules:  # … and no key ends in the outcome it had when loaded
            assert not rule["key"].endswith("." + rule["outcome"]), rule["key"]


def test_a_then_naming_one_outcome_twice_is_refused():
    text = """
policy: {slug: pets, title: Pets}
versions: [{id: 2025-01-01}]
clauses: [{id: act, url: "https://example.com", quote: Says.}]
questions: [{id: pet, text: "Pet?", choices: [{id: cat, label: Cat}]}]
outcomes:
  verdict: [{id: "yes", title: "Yes"}]
  steps: [{id: leash, title: Leash}]
rules:
  - {id: r, then: {verdict: "yes", steps: [leash, leash]}, reason: R., cite: [act]}
"""
    with pytest.raises(SeedError, match="names 'leash' twice"):
        parse_document(yaml.safe_load(text))


# --- the grid ------------------------------------------------------------------------------------


def export_command(*args):
    stdout = StringIO()
    call_command("export_policy", *args, stdout=stdout, stderr=StringIO())
    return stdout.getvalue()


def row_url(version, key):
    return reverse("admin:policies_rule_row", args=[version.pk, key])


def post_of(rule: Rule, **changes):
    data = {
        "key": rule.key,
        "outcome": rule.outcome.key,
        "reason": rule.reason,
        "clauses": [c.key for c in rule.clauses.all()],
        **{f"q_{q}": choices for q, choices in rule.conditions.items()},
    }
    data.update(changes)
    return data


@pytest.mark.django_db
@pytest.mark.parametrize("htmx", [False, True])
def test_an_outcome_edited_in_the_grid_keeps_its_key_on_a_small_policy(admin_client, htmx):
    draft = services.version_copy(version=small_policy(), by=None)
    rule = Rule.objects.get(version=draft, key="lazy-dog")

    response = admin_client.post(
        row_url(draft, rule.key), post_of(rule, outcome="yes"), headers=HX if htmx else {}
    )

    assert response.status_code == (200 if htmx else 302)
    rule.refresh_from_db()
    assert (rule.key, rule.outcome.key) == ("lazy-dog", "yes")


@pytest.mark.django_db
def test_an_outcome_edited_in_the_seeds_grid_keeps_its_key_through_export_and_load(
    admin_client, seeded
):
    in_effect = PolicyVersion.objects.filter(policy__slug="claude-code", status="published")
    draft = services.version_copy(version=in_effect.order_by("-effective_date")[0], by=None)
    rule = Rule.objects.get(version=draft, key="agent-sdk-for-others-subscription.verdict")
    was = rule.outcome.key
    other = Outcome.objects.filter(version=draft, table="verdict").exclude(key=was)[0]
    keys_before = sorted(Rule.objects.filter(version=draft).values_list("key", flat=True))

    response = admin_client.post(row_url(draft, rule.key), post_of(rule, outcome=other.key))

    assert response.status_code == 302
    rule.refresh_from_db()
    assert rule.key == "agent-sdk-for-others-subscription.verdict"
    assert rule.outcome.key == other.key
    assert sorted(Rule.objects.filter(version=draft).values_list("key", flat=True)) == keys_before
    # Export, load and export again: the same keys, the same text, the edit still one YAML rule.
    PolicyVersion.objects.filter(pk=draft.pk).update(effective_date=dt.date(2030, 1, 1))
    first = export_command("claude-code")
    assert "- id: agent-sdk-for-others-subscription\n" in first
    policy_load(document=parse_text(first), replace=True)
    copy = PolicyVersion.objects.get(policy__slug="claude-code", status="draft")
    assert sorted(Rule.objects.filter(version=copy).values_list("key", flat=True)) == keys_before
    assert Rule.objects.get(version=copy, key=rule.key).outcome.key == other.key
    assert export_command("claude-code") == first


@pytest.mark.django_db
def test_a_new_row_is_named_by_its_table_and_a_copy_by_the_next_number(admin_client):
    draft = services.version_copy(version=small_policy(), by=None)
    add = reverse("admin:policies_version_rule_add", args=[draft.pk]) + "?table=steps"
    action = reverse("admin:policies_rule_action", args=[draft.pk])

    form = admin_client.get(add).content.decode()
    admin_client.post(action, {"do": "duplicate lazy-dog"})
    admin_client.post(action, {"do": "duplicate lazy-dog"})

    assert re.search(r'<input[^>]*name="key"[^>]*value="steps\.1"', form)
    keys = set(Rule.objects.filter(version=draft).values_list("key", flat=True))
    assert {"lazy-dog.2", "lazy-dog.3"} <= keys
