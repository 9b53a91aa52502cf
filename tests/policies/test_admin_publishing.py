"""Publishing that cannot go wrong silently: a date before the version in effect's needs an
explicit confirmation that shows what it does; a mistaken publish can be withdrawn; both are in
the version's history; the versions list marks the version in effect."""

import datetime as dt
import re

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse

from policies import catalog, services
from policies.models import PolicyVersion, Rule
from tests.factories import pet_version, small_policy
from wizard.services import result_create

pytestmark = pytest.mark.django_db


def text(response):
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", response.content.decode(), flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&#x27;", "'")


def publish_url(version):
    return reverse("admin:policies_version_publish", args=[version.pk])


def withdraw_url(version):
    return reverse("admin:policies_version_withdraw", args=[version.pk])


@pytest.fixture
def draft():
    """A draft of pets 2025-01-01 (in effect) in which fish are allowed."""
    published = small_policy()
    version = services.version_copy(version=published, by=None)
    Rule.objects.filter(version=version, key="no-fish").delete()
    return version


def test_a_date_before_the_version_in_effect_is_refused_with_what_it_would_do(admin_client, draft):
    response = admin_client.post(
        publish_url(draft), {"effective_date": "2024-06-01", "notes": "Fish are fine."}
    )

    page = text(response)
    assert response.status_code == 200
    assert (
        response.context["form"]
        .errors["effective_date"][0]
        .startswith("2024-06-01 is not later than 2025-01-01")
    )
    assert "This date goes into the past" in page
    assert "would apply only from 2024-06-01 to 2025-01-01" in page
    assert "pets 2025-01-01 stays the version people get" in page
    assert "No version applied on those days before." in page
    assert 'name="confirm_past"' in response.content.decode()
    assert PolicyVersion.objects.get(pk=draft.pk).is_draft


def test_the_warning_counts_the_answer_sets_that_change_on_those_past_days(admin_client):
    policy = small_policy().policy
    later = pet_version(policy, dt.date(2025, 3, 1))
    draft = services.version_copy(version=later, by=None)
    Rule.objects.filter(version=draft, key="no-fish").delete()

    page = text(
        admin_client.post(publish_url(draft), {"effective_date": "2025-02-01", "notes": "x"})
    )

    assert "would apply only from 2025-02-01 to 2025-03-01" in page
    assert "On those days people got pets 2025-01-01." in page
    assert "This version changes the outcome for 1 of" in page


def test_confirming_publishes_into_the_past(admin_client, draft):
    response = admin_client.post(
        publish_url(draft),
        {"effective_date": "2024-06-01", "notes": "Fish are fine.", "confirm_past": "on"},
    )

    assert response.status_code == 302
    assert PolicyVersion.objects.get(pk=draft.pk).effective_date == dt.date(2024, 6, 1)
    assert catalog.version_in_effect("pets").version_id == "2025-01-01"


def test_a_later_date_needs_no_confirmation_and_is_in_the_history(admin_client, draft):
    response = admin_client.post(
        publish_url(draft), {"effective_date": "2025-06-01", "notes": "Fish are fine."}
    )

    assert response.status_code == 302
    entry = LogEntry.objects.get(object_id=str(draft.pk))
    assert entry.change_message.startswith("Published: takes effect on 2025-06-01.")
    history = admin_client.get(reverse("admin:policies_policyversion_history", args=[draft.pk]))
    assert "Published: takes effect on 2025-06-01" in text(history)


def test_the_date_field_is_an_iso_date_picker(admin_client, draft):
    html = admin_client.get(publish_url(draft)).content.decode()

    tag = re.search(r'<input[^>]*name="effective_date"[^>]*>', html).group(0)
    assert 'type="date"' in tag and 'placeholder="YYYY-MM-DD"' in tag
    assert 'name="confirm_past"' not in html  # nothing to confirm for an undated draft


def test_withdrawing_stops_a_version_applying_and_keeps_its_saved_results(admin_client, draft):
    first = draft.based_on
    mistaken = services.version_publish(
        version=draft, by=None, effective_date=dt.date(2025, 6, 1), notes="Oops."
    )
    result, _ = result_create(version=catalog.ref(mistaken), answers={"pet": "fish"})
    assert catalog.version_in_effect("pets").pk == mistaken.pk

    asked = admin_client.get(withdraw_url(mistaken))
    response = admin_client.post(withdraw_url(mistaken), {"because": "Fish are not fine."})

    assert "pets 2025-01-01 applies again from 2025-06-01" in text(asked)
    assert response.status_code == 302
    row = PolicyVersion.objects.get(pk=mistaken.pk)
    assert row.status == "withdrawn" and row.withdrawn_by.username == "admin"
    assert row.withdrawn_because == "Fish are not fine."
    assert catalog.version_in_effect("pets").pk == first.pk
    saved = admin_client.get(result.get_absolute_url())
    assert saved.status_code == 200
    history = text(
        admin_client.get(reverse("admin:policies_policyversion_history", args=[mistaken.pk]))
    )
    assert "Withdrawn: Fish are not fine." in history
    assert "Published: takes effect on 2025-06-01. Oops." in history


def test_a_withdrawn_version_stays_frozen_and_visible(admin_client, draft):
    mistaken = services.version_publish(
        version=draft, by=None, effective_date=dt.date(2025, 6, 1), notes="Oops."
    )
    services.version_withdraw(version=mistaken, by=None, because="Oops.")

    page = admin_client.get(reverse("admin:policies_policyversion_change", args=[mistaken.pk]))

    assert page.status_code == 200 and "Withdrawn" in text(page)
    with pytest.raises(Exception, match="cannot be changed"):
        Rule.objects.filter(version=mistaken).update(reason="x")


def test_withdrawing_needs_a_reason_and_the_publish_permission(client, django_user_model, draft):
    published = draft.based_on
    staff = django_user_model.objects.create_user("staff", password="pw", is_staff=True)
    client.force_login(staff)

    assert client.post(withdraw_url(published), {"because": "x"}).status_code == 403
    assert PolicyVersion.objects.get(pk=published.pk).status == "published"


def test_the_versions_list_marks_the_version_in_effect(admin_client, draft):
    html = text(admin_client.get(reverse("admin:policies_policyversion_changelist")))

    assert "Published · in effect" in html
    assert "pets draft from 2025-01-01 made " in html
