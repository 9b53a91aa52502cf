"""The admin shows every policy record; published versions are read-only there too."""

import pytest
from django.urls import reverse

from policies.models import PolicyVersion, Question
from tests.factories import PolicyVersionFactory, QuestionFactory, small_policy

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, django_user_model):
    user = django_user_model.objects.create_superuser("admin", "admin@example.com", "pw")
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    "name", ["policy", "policyversion", "question", "rule", "outcome", "clause"]
)
def test_every_policy_model_has_an_admin_list(staff_client, name):
    small_policy()
    response = staff_client.get(reverse(f"admin:policies_{name}_changelist"))
    assert response.status_code == 200


def test_a_published_version_is_shown_read_only_with_its_records(staff_client):
    version = small_policy()
    response = staff_client.get(reverse("admin:policies_policyversion_change", args=[version.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Which pet?" in html  # the questions inline
    assert 'name="_save"' not in html


def test_posting_a_change_to_a_published_question_is_refused(staff_client):
    small_policy()
    question = Question.objects.get(key="pet")
    url = reverse("admin:policies_question_change", args=[question.pk])
    response = staff_client.post(url, {"key": "pet", "text": "Changed?", "order": 0})
    # Refused with a message on the page it came from, not an error page.
    assert response.status_code == 302
    assert "is published" in staff_client.get(response["Location"]).content.decode()
    question.refresh_from_db()
    assert question.text == "Which pet?"


def test_a_draft_question_can_be_edited_in_the_admin(staff_client):
    draft = PolicyVersionFactory()
    question = QuestionFactory(version=draft, key="pet", text="Which pet?")
    url = reverse("admin:policies_question_change", args=[question.pk])
    data = {
        "version": draft.pk,
        "key": "pet",
        "text": "Which animal?",
        "help": "",
        "order": 0,
        "shown_when": "[]",
        "change_cost": 1,
        "choices-TOTAL_FORMS": 0,
        "choices-INITIAL_FORMS": 0,
        "choices-MIN_NUM_FORMS": 0,
        "choices-MAX_NUM_FORMS": 1000,
    }
    response = staff_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    question.refresh_from_db()
    assert question.text == "Which animal?"
    assert PolicyVersion.objects.get(pk=draft.pk).is_draft


def test_a_change_cost_out_of_range_is_a_form_error(staff_client):
    draft = PolicyVersionFactory()
    question = QuestionFactory(version=draft, key="pet", text="Which pet?")
    url = reverse("admin:policies_question_change", args=[question.pk])
    data = {
        "version": draft.pk,
        "key": "pet",
        "text": "Which pet?",
        "order": 0,
        "shown_when": "[]",
        "change_cost": 10,
        "choices-TOTAL_FORMS": 0,
        "choices-INITIAL_FORMS": 0,
        "choices-MIN_NUM_FORMS": 0,
        "choices-MAX_NUM_FORMS": 1000,
    }
    response = staff_client.post(url, data)
    assert response.status_code == 200
    assert "less than or equal to 9" in response.context["adminform"].form.errors["change_cost"][0]
    question.refresh_from_db()
    assert question.change_cost == 1


def test_a_bad_condition_is_refused_with_a_message_naming_the_question(staff_client):
    draft = PolicyVersionFactory()
    question = QuestionFactory(version=draft, key="pet")
    url = reverse("admin:policies_question_change", args=[question.pk])
    data = {
        "version": draft.pk,
        "key": "pet",
        "text": "Which pet?",
        "help": "",
        "order": 0,
        "shown_when": '[{"colour": ["red"]}]',
        "choices-TOTAL_FORMS": 0,
        "choices-INITIAL_FORMS": 0,
        "choices-MIN_NUM_FORMS": 0,
        "choices-MAX_NUM_FORMS": 1000,
    }
    response = staff_client.post(url, data)
    assert response.status_code == 200
    assert "Unknown question &#x27;colour&#x27;" in response.content.decode()


def test_the_admin_is_for_staff_only(client):
    response = client.get(reverse("admin:policies_policyversion_changelist"))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
