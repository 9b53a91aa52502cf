"""Every record kind's add and change pages answer 200 or a form error, never 500, whether the
version is published or a draft; only drafts are offered, and outcomes and clauses of the
version chosen."""

import datetime as dt
import re

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from policies import admin, services
from policies.models import Clause, Outcome, PolicyVersion, Question, Rule, Scenario
from tests.factories import publish, small_policy

pytestmark = pytest.mark.django_db


@pytest.fixture
def versions():
    """A published version and a draft copied from it, each with a scenario (the published
    one's written while it was a draft: afterwards the lock refuses it)."""
    first = small_policy(published=False)
    Scenario.objects.create(
        policy_id=first.policy_id, version=first, name="Fish", answers={"pet": "fish"}
    )
    published = publish(first)
    return published, services.version_copy(version=published, by=None)


def data_for(kind, version, n=""):
    outcome = Outcome.objects.get(version=version, key="no")
    clause = Clause.objects.get(version=version, key="pet-act")
    return {
        "question": {
            "version": version.pk,
            "key": f"extra{n}",
            "text": "Extra?",
            "help": "",
            "order": 9,
            "shown_when": "[]",
            "change_cost": 1,
            "choices-TOTAL_FORMS": 0,
            "choices-INITIAL_FORMS": 0,
        },
        "outcome": {
            "version": version.pk,
            "table": "verdict",
            "key": f"maybe{n}",
            "title": "Maybe",
            "text": "Perhaps.",
            "detail": "",
            "order": 5,
        },
        "clause": {
            "version": version.pk,
            "key": f"more{n}",
            "quote": "More words.",
            "url": "https://example.com/more",
            "source": "More",
            "source_version": "2025-01-01",
        },
        "scenario": {
            "policy": version.policy_id,
            "version": version.pk,
            "name": f"Cats{n}",
            "as_of": "",
            "answers": "pet=cat",
            "verdict": "yes",
            "must_include": "",
            "must_exclude": "",
        },
        "rule": {
            "version": version.pk,
            "key": f"extra-rule{n}",
            "priority": 5,
            "conditions": '{"pet": ["cat"]}',
            "outcome": outcome.pk,
            "reason": "Because.",
            "cited_clauses": [clause.pk],
        },
    }[kind]


KINDS = ["question", "outcome", "clause", "rule", "scenario"]
MODELS = {
    "question": Question,
    "outcome": Outcome,
    "clause": Clause,
    "rule": Rule,
    "scenario": Scenario,
}


@pytest.mark.parametrize("kind", KINDS)
def test_an_add_page_offers_only_drafts_as_the_version(admin_client, versions, kind):
    published, draft = versions

    response = admin_client.get(reverse(f"admin:policies_{kind}_add"))

    html = response.content.decode()
    select = re.search(r'<select name="version".*?</select>', html, re.S).group(0)
    assert response.status_code == 200
    assert f'value="{draft.pk}"' in select and f'value="{published.pk}"' not in select
    assert "pets draft from 2025-01-01 made " in select


@pytest.mark.parametrize("kind", KINDS)
def test_adding_to_a_published_version_is_a_form_error(admin_client, versions, kind):
    published, _ = versions
    before = MODELS[kind].objects.count()

    response = admin_client.post(reverse(f"admin:policies_{kind}_add"), data_for(kind, published))

    assert response.status_code == 200
    assert "version" in response.context["adminform"].form.errors
    assert MODELS[kind].objects.count() == before


@pytest.mark.parametrize("kind", KINDS)
def test_adding_to_a_draft_works(admin_client, versions, kind):
    _, draft = versions

    response = admin_client.post(reverse(f"admin:policies_{kind}_add"), data_for(kind, draft))

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert MODELS[kind].objects.filter(version=draft).count() > 0


@pytest.mark.parametrize("kind", KINDS)
def test_a_published_records_change_page_shows_it_and_a_post_is_a_message(
    admin_client, versions, kind
):
    published, _ = versions
    record = MODELS[kind].objects.filter(version=published).first()
    url = reverse(f"admin:policies_{kind}_change", args=[record.pk])

    shown = admin_client.get(url)
    posted = admin_client.post(url, data_for(kind, published, n="2"))

    assert shown.status_code == 200
    assert posted.status_code == 302
    assert "is published and cannot be changed" in " ".join(
        str(m) for m in get_messages(posted.wsgi_request)
    )
    field = "name" if kind == "scenario" else "key"
    assert (
        not MODELS[kind].objects.filter(version=published, **{f"{field}__endswith": "2"}).exists()
    )


@pytest.mark.parametrize("kind", KINDS)
def test_a_draft_records_change_page_saves(admin_client, versions, kind):
    _, draft = versions
    record = MODELS[kind].objects.filter(version=draft).first()
    url = reverse(f"admin:policies_{kind}_change", args=[record.pk])

    shown = admin_client.get(url)
    posted = admin_client.post(url, data_for(kind, draft, n="3"))

    assert shown.status_code == 200
    assert posted.status_code == 302, posted.context["adminform"].form.errors
    field = "name" if kind == "scenario" else "key"
    assert MODELS[kind].objects.filter(version=draft, **{f"{field}__endswith": "3"}).exists()


def test_a_rules_outcomes_and_clauses_are_those_of_the_chosen_version(admin_client, versions):
    published, draft = versions
    other_draft = services.version_copy(version=published, by=None)

    html = admin_client.get(
        reverse("admin:policies_rule_add") + f"?version={draft.pk}"
    ).content.decode()

    outcome_select = re.search(r'<select name="outcome".*?</select>', html, re.S).group(0)
    pks = set(re.findall(r'value="(\d+)"', outcome_select))
    assert pks == {
        str(pk) for pk in Outcome.objects.filter(version=draft).values_list("pk", flat=True)
    }
    assert str(Outcome.objects.filter(version=other_draft).first().pk) not in pks


def test_a_rule_citing_another_versions_clause_is_a_form_error(admin_client, versions):
    published, draft = versions
    data = data_for("rule", draft)
    data["cited_clauses"] = [Clause.objects.get(version=published, key="pet-act").pk]

    response = admin_client.post(reverse("admin:policies_rule_add"), data)

    assert response.status_code == 200
    assert "cited_clauses" in response.context["adminform"].form.errors


def test_a_lock_error_while_saving_is_a_message(admin_client, versions, monkeypatch):
    _, draft = versions
    record = Outcome.objects.filter(version=draft).first()
    url = reverse("admin:policies_outcome_change", args=[record.pk])

    def publish_meanwhile(*args, **kwargs):
        from policies.models import VersionLockedError

        raise VersionLockedError(draft)

    monkeypatch.setattr(Outcome, "save", publish_meanwhile)
    response = admin_client.post(url, data_for("outcome", draft, n="4"))

    assert response.status_code == 302
    assert "cannot be changed" in " ".join(str(m) for m in get_messages(response.wsgi_request))
    assert PolicyVersion.objects.get(pk=draft.pk).is_draft


def test_a_scenario_whose_version_is_published_meanwhile_is_a_form_error(
    admin_client, versions, monkeypatch
):
    _, draft = versions
    record = Scenario.objects.get(version=draft)
    url = reverse("admin:policies_scenario_change", args=[record.pk])
    # The admin makes a form class per request from this one.
    form_class = admin.ScenarioAdmin.form
    clean = form_class.clean

    def publish_meanwhile(form):
        # Another admin publishes the draft between this form's page and its POST.
        services.version_publish(
            version=draft, by=None, effective_date=dt.date(2025, 9, 1), notes="Meanwhile."
        )
        return clean(form)

    monkeypatch.setattr(form_class, "clean", publish_meanwhile)
    response = admin_client.post(url, data_for("scenario", draft, n="5"))

    assert response.status_code == 200
    errors = response.context["adminform"].form.non_field_errors()
    assert "is published and cannot be changed" in " ".join(errors)
    assert Scenario.objects.get(pk=record.pk).name == "Fish"
