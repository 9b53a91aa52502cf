"""Staff preview: walk a draft (or any version as of a date) in the real wizard, marked as a
preview, never saved, never shown to anyone who is not staff."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from policies import services
from policies.models import PolicyVersion, Question, Rule
from tests.factories import small_policy
from tests.wizard.progress import plant, stored
from wizard.models import Result
from wizard.progress import PREVIEW_NOT_SAVED, VERSION_GONE

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft():
    """A draft of the pets policy in which fish are allowed."""
    version = services.version_copy(version=small_policy(), by=None)
    Rule.objects.filter(version=version, key="no-fish").delete()
    return version


def preview_url(version: PolicyVersion) -> str:
    return reverse("wizard:preview", args=[version.policy.slug, version.pk])


def walk_fish(client) -> str:
    client.post(reverse("wizard:question", args=["pets", "pet"]), {"pet": "fish"})
    return client.get(reverse("wizard:result", args=["pets"])).content.decode()


def test_staff_walk_a_draft_in_the_wizard_marked_as_a_preview(admin_client, draft):
    asked = admin_client.get(preview_url(draft))
    started = admin_client.post(preview_url(draft), {"as_of": ""})
    question = admin_client.get(started["Location"])
    result = walk_fish(admin_client)

    assert asked.status_code == 200 and "Start the preview" in asked.content.decode()
    assert started["Location"] == reverse("wizard:question", args=["pets", "pet"])
    assert stored(admin_client) == {
        "version": draft.pk,
        "answers": {"pet": "fish"},
        "preview": True,
    }
    for page in (question.content.decode(), result):
        assert "Staff preview" in page
        assert "a draft that the public cannot see" in page
    assert "Yes" in result and "Text for yes." in result  # the draft allows fish


def test_a_preview_shows_each_edit_of_the_draft_at_once(admin_client, draft):
    admin_client.post(preview_url(draft))
    question_url = reverse("wizard:question", args=["pets", "pet"])
    before = admin_client.get(question_url).content.decode()

    Question.objects.filter(version=draft, key="pet").update(text="Which animal, exactly?")
    after = admin_client.get(question_url).content.decode()

    assert "Which pet?" in before
    assert "Which animal, exactly?" in after and "Which pet?" not in after


def test_a_preview_as_of_an_earlier_date_walks_the_version_in_effect_then(admin_client, draft):
    PolicyVersion.objects.filter(pk=draft.pk).update(effective_date=dt.date(2025, 6, 1))

    admin_client.post(preview_url(draft), {"as_of": "2025-03-01"})
    result = walk_fish(admin_client)

    assert stored(admin_client)["version"] == draft.based_on_id
    assert "Staff preview" in result and "Text for no." in result


def test_a_date_with_nothing_in_effect_is_a_form_error_naming_the_field(admin_client, draft):
    response = admin_client.post(preview_url(draft), {"as_of": "2020-01-01"})

    assert response.status_code == 400
    assert response.context["form"].errors.as_data()["as_of"][0].code == "not_in_effect"
    assert stored(admin_client) is None


def test_a_preview_is_never_saved_as_a_result(admin_client, draft):
    admin_client.post(preview_url(draft))
    walk_fish(admin_client)

    response = admin_client.post(
        reverse("wizard:result", args=["pets"]), {"expiry": "0"}, follow=True
    )

    assert not Result.objects.exists()
    assert PREVIEW_NOT_SAVED in response.content.decode()


def test_only_staff_may_start_a_preview(client, draft):
    response = client.get(preview_url(draft))

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_a_preview_in_a_browser_that_is_no_longer_staff_is_refused(client, draft):
    plant(client, {"version": draft.pk, "answers": {}, "preview": True})

    response = client.get(reverse("wizard:question", args=["pets", "pet"]), follow=True)

    assert VERSION_GONE in response.content.decode()
    assert "Staff preview" not in response.content.decode()


def test_without_the_preview_flag_a_draft_is_refused_even_for_staff(admin_client, draft):
    plant(admin_client, {"version": draft.pk, "answers": {}})

    response = admin_client.get(reverse("wizard:question", args=["pets", "pet"]), follow=True)

    assert VERSION_GONE in response.content.decode()


def test_starting_again_from_the_public_page_ends_the_preview(admin_client, draft):
    admin_client.post(preview_url(draft))
    admin_client.post(reverse("wizard:policy_start", args=["pets"]))

    assert stored(admin_client) == {"version": draft.based_on_id, "answers": {}}


def test_a_version_of_another_policy_is_not_found(admin_client, draft):
    url = reverse("wizard:preview", args=["other", draft.pk])
    assert admin_client.get(url).status_code == 404


def test_the_admin_page_of_a_version_links_to_its_preview(admin_client, draft):
    page = admin_client.get(reverse("admin:policies_policyversion_change", args=[draft.pk]))
    assert f'href="{preview_url(draft)}"' in page.content.decode()


def test_an_htmx_swap_carries_the_preview_notice_too(admin_client, draft):
    admin_client.post(preview_url(draft))

    response = admin_client.get(
        reverse("wizard:question", args=["pets", "pet"]), headers={"HX-Request": "true"}
    )

    html = response.content.decode()
    assert "<html" not in html  # only the swap partial
    assert "Staff preview" in html


def test_the_preview_result_names_the_version_it_walks(admin_client, draft):
    admin_client.post(preview_url(draft), {"as_of": ""})

    result = walk_fish(admin_client)

    line = result[result.index('id="preview-version"') :].split("</p>")[0]
    assert "A staff preview, checked against pets" in line
    assert "(draft)" in line
