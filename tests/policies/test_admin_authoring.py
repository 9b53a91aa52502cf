"""Authoring in the admin: a version's page with its checks, scenarios, coverage and flow; new
drafts; publishing with a date and a note, refused while something is wrong; comparing versions."""

import datetime as dt
import re
import xml.etree.ElementTree as ET

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.urls import reverse

from policies import services
from policies.models import PolicyVersion, Rule
from tests.factories import ClauseFactory, ScenarioFactory, small_policy
from wizard.services import result_create

pytestmark = pytest.mark.django_db


def change_url(version):
    return reverse("admin:policies_policyversion_change", args=[version.pk])


def text(response):
    """The page's words, without markup, for assertions on what an admin reads."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", response.content.decode(), flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&#x27;", "'")


@pytest.fixture
def draft():
    """A draft of the pets policy in which cats get no verdict (an error) and one clause is cited
    by nothing (a warning)."""
    published = small_policy()
    ScenarioFactory(policy=published.policy, name="Fish", answers={"pet": "fish"}, verdict="no")
    version = services.version_copy(version=published, by=None)
    Rule.objects.filter(version=version, key="default-yes").delete()
    ClauseFactory(version=version, key="spare")
    return version


def fixed(version):
    """Give cats (and walked dogs) their verdict back."""
    yes = version.outcomes.get(key="yes")
    rule = Rule.objects.create(version=version, key="default-yes", outcome=yes, reason="Fine.")
    rule.clauses.set(version.clauses.filter(key="pet-act"))
    return version


# --- the version's page -------------------------------------------------------------------------


def test_a_drafts_page_shows_errors_and_warnings_each_with_an_example(admin_client, draft):
    response = admin_client.get(change_url(draft))

    page = text(response)
    assert response.status_code == 200
    assert "Publishing is blocked until the errors below are fixed" in page
    assert "2 errors, 2 warnings." in page
    assert "No verdict rule matches 1 reachable answer set where pet is cat." in page
    assert "pet=cat" in page  # the example answer set
    assert "No rule cites clause spare." in page


def test_a_drafts_page_shows_its_scenarios_and_the_rules_none_exercises(admin_client, draft):
    page = text(admin_client.get(change_url(draft)))

    assert "The scenario passes." in page
    assert "No scenario exercises 2 of the 3 rules: dog-leash lazy-dog" in page


def test_a_failing_scenario_is_shown_with_what_went_wrong(admin_client, draft):
    ScenarioFactory(policy=draft.policy, name="Cats", answers={"pet": "cat"}, verdict="yes")

    page = text(admin_client.get(change_url(draft)))

    assert "1 of 2 scenarios fails." in page
    assert "Expected the verdict yes, got no verdict." in page
    assert "every scenario passes" in page


def test_the_page_shows_the_flow_diagram_served_as_svg(admin_client, draft):
    flow_url = reverse("admin:policies_version_flow", args=[draft.pk])

    page = admin_client.get(change_url(draft)).content.decode()
    response = admin_client.get(flow_url)

    assert f'<img src="{flow_url}"' in page
    assert response["Content-Type"] == "image/svg+xml; charset=utf-8"
    root = ET.fromstring(response.content)
    lines = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert {"pet", "walks", "only if pet is dog"} <= set(lines)


def test_the_pages_cost_a_bounded_number_of_queries(
    admin_client, seeded, django_assert_max_num_queries
):
    published = PolicyVersion.objects.filter(policy__slug="claude-code").latest("effective_date")
    draft = services.version_copy(version=published, by=None)
    pages = {
        # + two for the citation checks: the source documents and their copies
        change_url(published): 27,
        change_url(draft): 27,
        reverse("admin:policies_version_publish", args=[draft.pk]): 20,
        reverse("admin:policies_version_compare", args=[draft.pk]): 20,
        reverse("admin:policies_version_flow", args=[draft.pk]): 10,
    }
    for url, most in pages.items():
        with django_assert_max_num_queries(most):
            assert admin_client.get(url).status_code == 200


def test_saving_a_draft_comes_back_to_its_page_with_the_checks_in_a_message(admin_client, draft):
    response = admin_client.get(change_url(draft))
    data = {key: value for key, value in _form_data(response).items() if not key.startswith("_")}
    data["notes"] = "Cats need thought."
    data["_save"] = "Save"

    response = admin_client.post(change_url(draft), data)

    assert response.status_code == 302, text(response)[:3000]
    assert response["Location"] == change_url(draft)
    assert [str(m) for m in get_messages(response.wsgi_request)][-1] == (
        "Checks: 2 errors, 2 warnings. Scenarios: 1 of 1 pass."
    )
    assert PolicyVersion.objects.get(pk=draft.pk).notes == "Cats need thought."


def _form_data(response):
    """The values the change form would post back unchanged."""
    data = {}
    form = response.context["adminform"].form
    for name in form.fields:
        value = form[name].value()
        data[name] = "" if value is None else value
    for formset in response.context["inline_admin_formsets"]:
        management = formset.formset.management_form
        for name in management.fields:
            data[management.add_prefix(name)] = management[name].value()
        for inline_form in formset.formset.forms:
            for name in inline_form.fields:
                value = inline_form[name].value()
                if value is None:
                    continue
                data[inline_form.add_prefix(name)] = value
    return data


# --- new drafts ---------------------------------------------------------------------------------


def test_new_draft_from_a_published_version_asks_then_copies(admin_client):
    published = small_policy()
    url = reverse("admin:policies_version_copy", args=[published.pk])

    asked = admin_client.get(url)
    response = admin_client.post(url)

    assert "copies pets 2025-01-01 with its 2 questions" in text(asked)
    draft = PolicyVersion.objects.get(based_on=published)
    assert response["Location"] == change_url(draft)
    assert draft.is_draft and draft.rules.count() == 4
    assert draft.created_by.username == "admin"
    assert "New draft from this version" in text(admin_client.get(change_url(published)))


def test_new_draft_is_also_an_action_on_the_list_of_versions(admin_client):
    published = small_policy()
    changelist = reverse("admin:policies_policyversion_changelist")

    response = admin_client.post(
        changelist, {"action": "new_draft_action", "_selected_action": [published.pk]}
    )
    two = admin_client.post(
        changelist,
        {
            "action": "new_draft_action",
            "_selected_action": [published.pk, services.version_copy(version=published).pk],
        },
        follow=True,
    )

    assert response["Location"] == reverse("admin:policies_version_copy", args=[published.pk])
    assert "Select exactly one version" in text(two)


# --- publishing ---------------------------------------------------------------------------------


def publish_url(version):
    return reverse("admin:policies_version_publish", args=[version.pk])


def test_publishing_asks_for_the_date_and_a_note_and_records_who(admin_client, draft):
    fixed(draft)

    asked = admin_client.get(publish_url(draft))
    response = admin_client.post(
        publish_url(draft), {"effective_date": "2025-06-01", "notes": "Spare clause added."}
    )

    assert 'name="effective_date"' in asked.content.decode()
    assert response["Location"] == change_url(draft)
    published = PolicyVersion.objects.get(pk=draft.pk)
    assert (published.status, published.effective_date) == ("published", dt.date(2025, 6, 1))
    assert published.published_by.username == "admin"
    page = text(admin_client.get(change_url(published)))
    assert "Published by: admin" in page
    assert "Publish…" not in page


def test_the_publish_page_says_how_many_answer_sets_change_against_the_version_in_effect(
    admin_client, draft
):
    fixed(draft)
    Rule.objects.filter(version=draft, key="no-fish").delete()  # fish become allowed

    page = text(admin_client.get(publish_url(draft)))

    assert "People get pets 2025-01-01 now." in page
    assert (
        "Publishing this changes the outcome for 1 answer set compared with pets 2025-01-01" in page
    )
    assert "pet=fish" in page and "verdict no → yes" in page
    assert "rule no-fish removed" in page


def test_the_publish_page_counts_the_saved_results_that_would_change(admin_client, draft):
    published = draft.based_on
    result_create(version=published, answers={"pet": "fish"})
    result_create(version=published, answers={"pet": "cat"})
    fixed(draft)
    Rule.objects.filter(version=draft, key="no-fish").delete()

    page = text(admin_client.get(publish_url(draft)))

    assert "Saved results: 1 of 2 would get another outcome" in page


def test_publishing_is_refused_with_the_reason_while_a_check_reports_an_error(admin_client, draft):
    response = admin_client.post(
        publish_url(draft), {"effective_date": "2025-06-01", "notes": "Cats need thought."}
    )

    assert response.status_code == 200
    assert response.context["form"].non_field_errors().as_data()[0].code == "check_errors"
    assert "The checks report 2 errors (" in text(response)
    assert "; fix them first." in text(response)
    assert PolicyVersion.objects.get(pk=draft.pk).is_draft


@pytest.mark.parametrize(
    ("data", "field", "code", "message"),
    [
        ({"notes": "x"}, "effective_date", "required", "Give the day this version takes effect."),
        (
            {"effective_date": "1 June", "notes": "x"},
            "effective_date",
            "invalid",
            "Write the effective date as YYYY-MM-DD.",
        ),
        (
            {"effective_date": "2025-06-01"},
            "notes",
            "required",
            "Say in a few words what changed in this version.",
        ),
        (
            {"effective_date": "2025-01-01", "notes": "x"},
            "effective_date",
            "date_taken",
            "A version taking effect on 2025-01-01 is already published; choose another day.",
        ),
    ],
)
def test_each_publish_form_error_names_the_field_and_what_is_wrong(
    admin_client, draft, data, field, code, message
):
    fixed(draft)

    response = admin_client.post(publish_url(draft), data)

    errors = response.context["form"].errors.as_data()
    assert [e.code for e in errors[field]] == [code]
    html = response.content.decode()
    row = html[html.index(f"field-{field}") :]
    assert message in row[: row.index("</label>")]


def test_only_staff_with_the_publish_permission_may_publish(client, django_user_model, draft):
    editor = django_user_model.objects.create_user("editor", password="pw", is_staff=True)
    editor.user_permissions.set(
        Permission.objects.filter(
            codename__in=["view_policyversion", "change_policyversion", "add_policyversion"]
        )
    )
    client.force_login(editor)

    assert "Publish…" not in text(client.get(change_url(draft)))
    assert client.get(publish_url(draft)).status_code == 403
    assert client.post(publish_url(draft), {"effective_date": "2025-06-01"}).status_code == 403

    editor.user_permissions.add(Permission.objects.get(codename="publish_policyversion"))
    client.force_login(django_user_model.objects.get(pk=editor.pk))
    assert "Publish…" in text(client.get(change_url(draft)))


def test_a_published_version_offers_no_publishing(admin_client):
    published = small_policy()

    response = admin_client.get(publish_url(published))

    assert response["Location"] == change_url(published)
    assert "Publish…" not in text(admin_client.get(change_url(published)))


# --- comparing ----------------------------------------------------------------------------------


def test_the_compare_page_lists_changes_and_their_impact_against_any_version(admin_client, draft):
    fixed(draft)
    Rule.objects.filter(version=draft, key="no-fish").delete()
    url = reverse("admin:policies_version_compare", args=[draft.pk])

    default = text(admin_client.get(url))
    chosen = text(admin_client.get(url, {"with": draft.based_on.pk}))

    assert default == chosen
    assert "From pets 2025-01-01 to pets undated (draft)" in default
    assert "the outcome for 1 answer set" in default
    assert "rule no-fish removed" in default
    assert "clause spare added" in default


def test_a_published_version_is_compared_with_the_one_before_it(admin_client, draft):
    fixed(draft)
    services.version_publish(
        version=draft, by=None, effective_date=dt.date(2025, 6, 1), notes="Spare clause."
    )

    page = text(admin_client.get(reverse("admin:policies_version_compare", args=[draft.pk])))

    assert "What changed from pets 2025-01-01" in page
    assert "clause spare added" in page
    assert "the outcome for 0 answer sets" in page
