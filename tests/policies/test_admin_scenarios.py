"""Scenarios in the admin: written as the checks write their examples, and every form error
names the field and what is wrong."""

import pytest
from django.urls import reverse

from policies.models import Scenario
from tests.factories import ScenarioFactory, small_policy

pytestmark = pytest.mark.django_db

ADD_URL = reverse("admin:policies_scenario_add")


def post(admin_client, **fields):
    policy = small_policy().policy
    data = {
        "policy": policy.pk,
        "name": "Fish",
        "as_of": "",
        "answers": "pet=fish",
        "verdict": "no",
        "must_include": "",
        "must_exclude": "",
        **fields,
    }
    return admin_client.post(ADD_URL, data)


def test_a_scenario_is_written_as_question_choice_pairs_and_id_lists(admin_client):
    response = post(admin_client, answers="pet=dog, walks=no", must_include="", must_exclude="yes")

    assert response.status_code == 302
    scenario = Scenario.objects.get()
    assert scenario.answers == {"pet": "dog", "walks": "no"}
    assert scenario.must_exclude == ["yes"]
    page = admin_client.get(reverse("admin:policies_scenario_change", args=[scenario.pk]))
    assert "pet=dog, walks=no" in page.content.decode()


def test_answers_may_also_be_a_json_object(admin_client):
    assert post(admin_client, answers='{"pet": "cat"}').status_code == 302
    assert Scenario.objects.get().answers == {"pet": "cat"}


@pytest.mark.parametrize(
    ("fields", "field", "code", "message"),
    [
        (
            {"answers": "pet fish"},
            "answers",
            "invalid_answers",
            "“pet fish” is not a question=choice",
        ),
        ({"answers": "pet=fish, pet=cat"}, "answers", "invalid_answers", "pet is answered twice."),
        ({"answers": "{nope"}, "answers", "invalid_answers", "This is not valid JSON"),
        ({"answers": ""}, "answers", "required", "This field is required."),
        ({"must_include": "Yes!"}, "must_include", "invalid_ids", "Write a list of outcome ids"),
        (
            {"must_include": "yes", "must_exclude": "yes"},
            "must_exclude",
            "contradiction",
            "yes cannot both appear and not appear.",
        ),
        ({"verdict": "Not OK"}, "verdict", "invalid_key", "Use lower-case letters"),
        ({"as_of": "March"}, "as_of", "invalid", "Enter a valid date."),
    ],
)
def test_each_scenario_form_error_names_the_field_and_what_is_wrong(
    admin_client, fields, field, code, message
):
    response = post(admin_client, **fields)

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors.as_data()
    assert list(errors) == [field]
    assert errors[field][0].code == code
    html = response.content.decode().replace("&#x27;", "'").replace("&quot;", '"')
    row = html[html.index(f"errors field-{field}") :]
    assert message in row[: row.index("</div>")]
    assert not Scenario.objects.exists()


def test_two_scenarios_of_a_policy_cannot_share_a_name(admin_client):
    policy = small_policy().policy
    ScenarioFactory(policy=policy, name="Fish", answers={"pet": "fish"})

    response = admin_client.post(
        ADD_URL, {"policy": policy.pk, "name": "Fish", "answers": "pet=cat"}
    )

    assert response.status_code == 200
    assert "Scenario with this Policy and Name already exists." in response.content.decode()


def test_scenarios_are_edited_on_the_policys_page(admin_client):
    policy = small_policy().policy
    url = reverse("admin:policies_policy_change", args=[policy.pk])
    data = {
        "slug": policy.slug,
        "title": policy.title,
        "summary": policy.summary,
        "versions-TOTAL_FORMS": 0,
        "versions-INITIAL_FORMS": 0,
        "scenarios-TOTAL_FORMS": 1,
        "scenarios-INITIAL_FORMS": 0,
        "scenarios-0-name": "Cats",
        "scenarios-0-answers": "pet=cat",
        "scenarios-0-verdict": "yes",
        "scenarios-0-must_include": "",
        "scenarios-0-must_exclude": "leash",
    }

    response = admin_client.post(url, data)

    assert response.status_code == 302, response.content.decode()[:3000]
    assert Scenario.objects.get(policy=policy).must_exclude == ["leash"]
    assert "Cats" in admin_client.get(url).content.decode()
