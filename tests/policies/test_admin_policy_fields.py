"""A policy's own fields are published too: its title and summary change through a draft (each
version carries its own) and become what people see when that version is in effect; the slug is
frozen once a version is published, renamed only on the rename page with the publish
permission, and every old slug keeps leading to the policy."""

import datetime as dt

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from policies import catalog, services
from policies.models import Policy, PolicySlug, PolicyVersion
from tests.factories import PolicyFactory, pet_version, publish, small_policy

pytestmark = pytest.mark.django_db


def post_data(policy, **changes):
    data = {
        "slug": policy.slug,
        "title": policy.title,
        "summary": policy.summary,
        "versions-TOTAL_FORMS": 0,
        "versions-INITIAL_FORMS": policy.versions.count(),
        "scenarios-TOTAL_FORMS": 0,
        "scenarios-INITIAL_FORMS": 0,
    }
    data.update(changes)
    return data


def draft_page_data(admin_client, draft, **changes):
    """What the draft's admin page posts, as the browser would send it, with `changes`."""
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
    data.update(changes, _save="Save")
    return data


@pytest.fixture
def editor(client, django_user_model):
    """Staff who may change policies but not publish."""
    user = django_user_model.objects.create_user("editor", password="pw", is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(
            codename__in=[
                "view_policy",
                "change_policy",
                "view_policyversion",
                "view_scenario",
                "change_scenario",
                "add_scenario",
                "delete_scenario",
            ]
        )
    )
    client.force_login(user)
    return client


def test_the_slug_is_frozen_once_a_version_is_published(admin_client):
    policy = small_policy().policy
    url = reverse("admin:policies_policy_change", args=[policy.pk])

    admin_client.post(url, post_data(policy, slug="renamed"))

    policy.refresh_from_db()
    assert policy.slug == "pets"
    assert not PolicySlug.objects.exists()


def test_title_and_summary_are_read_only_once_there_is_a_version_even_for_a_superuser(
    admin_client,
):
    policy = small_policy().policy
    url = reverse("admin:policies_policy_change", args=[policy.pk])

    admin_client.post(url, post_data(policy, title="Changed live", summary="Changed"))

    policy.refresh_from_db()
    assert (policy.title, policy.summary) == ("Pet licence", "May you keep this pet?")
    html = admin_client.get(url).content.decode()
    assert 'name="title"' not in html and 'name="summary"' not in html
    assert "change through a draft" in html


def test_without_the_publish_permission_title_and_summary_are_read_only(editor):
    policy = small_policy().policy
    url = reverse("admin:policies_policy_change", args=[policy.pk])

    editor.post(url, post_data(policy, title="Changed live", summary="Changed"))

    policy.refresh_from_db()
    assert policy.title == "Pet licence"
    assert 'name="title"' not in editor.get(url).content.decode()


def test_a_policy_with_drafts_only_can_still_be_renamed_and_keeps_its_old_slug(admin_client):
    policy = PolicyFactory(slug="early")
    url = reverse("admin:policies_policy_change", args=[policy.pk])

    admin_client.post(url, post_data(policy, slug="better"))

    assert Policy.objects.filter(slug="better").exists()
    assert catalog.moved_to("early") == "better"


def test_a_drafts_title_and_summary_are_edited_on_its_page_and_shown_once_published(
    admin_client,
):
    published = small_policy()
    draft = services.version_copy(version=published, by=None)
    assert (draft.title, draft.summary) == ("Pet licence", "May you keep this pet?")
    url = reverse("admin:policies_policyversion_change", args=[draft.pk])

    response = admin_client.post(
        url, draft_page_data(admin_client, draft, title="Pet permit", summary="New words.")
    )

    assert response.status_code == 302
    draft.refresh_from_db()
    assert (draft.title, draft.summary) == ("Pet permit", "New words.")
    # Nothing people see changes until the draft is published and in effect.
    assert catalog.version_in_effect("pets").policy.title == "Pet licence"
    assert Policy.objects.get(pk=published.policy_id).title == "Pet licence"

    services.version_publish(
        version=draft, by=None, effective_date=dt.date(2025, 6, 1), notes="New title."
    )

    now = catalog.version_in_effect("pets")
    assert (now.policy.title, now.policy.summary) == ("Pet permit", "New words.")
    assert catalog.published_policy("pets").policy.title == "Pet permit"
    # The earlier version keeps its own, for results and history pages pinned to it.
    assert catalog.version_by_id("pets", "2025-01-01").policy.title == "Pet licence"
    assert catalog.version_in_effect("pets", dt.date(2025, 3, 1)).policy.title == "Pet licence"
    assert Policy.objects.get(pk=published.policy_id).title == "Pet permit"


def test_a_published_versions_title_cannot_change(admin_client):
    published = small_policy()
    published.title = "Rewritten"

    with pytest.raises(Exception, match="is published and cannot be changed"):
        published.save()


def test_a_future_version_names_the_policy_only_once_it_takes_effect():
    first = small_policy()
    later = pet_version(first.policy, dt.date.today() + dt.timedelta(days=30), published=False)
    PolicyVersion.objects.filter(pk=later.pk).update(title="Pets, from next month")
    publish(later)

    assert catalog.published_policy("pets").policy.title == "Pet licence"
    assert [listing.policy.title for listing in catalog.published_policies()] == ["Pet licence"]
    # The admin's name for the policy is the newest published version's.
    assert Policy.objects.get(pk=first.policy_id).title == "Pets, from next month"


def test_withdrawing_the_newest_gives_the_policy_the_title_before_again():
    first = small_policy()
    draft = services.version_copy(version=first, by=None)
    PolicyVersion.objects.filter(pk=draft.pk).update(title="Mistake")
    services.version_publish(
        version=draft, by=None, effective_date=dt.date(2025, 6, 1), notes="Oops."
    )

    services.version_withdraw(version=draft, by=None, because="Published by mistake.")

    assert Policy.objects.get(pk=first.policy_id).title == "Pet licence"
    assert catalog.version_in_effect("pets").policy.title == "Pet licence"


# --- renaming the slug ---------------------------------------------------------------------


def rename_url(policy):
    return reverse("admin:policies_policy_rename", args=[policy.pk])


def test_the_rename_page_keeps_the_old_slug_and_says_so(admin_client):
    policy = small_policy().policy

    response = admin_client.post(rename_url(policy), {"slug": "pet-permits"})

    assert response.status_code == 302
    policy.refresh_from_db()
    assert policy.slug == "pet-permits"
    assert list(policy.previous_slugs.values_list("slug", flat=True)) == ["pets"]
    assert (
        "pets"
        in admin_client.get(
            reverse("admin:policies_policy_change", args=[policy.pk])
        ).content.decode()
    )


def test_renaming_needs_the_publish_permission(editor):
    policy = small_policy().policy

    assert editor.get(rename_url(policy)).status_code == 403
    assert editor.post(rename_url(policy), {"slug": "pet-permits"}).status_code == 403
    assert Policy.objects.get(pk=policy.pk).slug == "pets"


@pytest.mark.parametrize(
    ("slug", "words"),
    [
        ("", "Give the new slug."),
        ("two words", "letters, digits, hyphens or underscores"),
        ("other", "Another policy has the slug 'other'."),
        ("was-other", "was another policy's slug"),
        ("pets", "is 'pets' already"),
    ],
)
def test_a_slug_that_cannot_be_given_is_a_form_error_naming_why(admin_client, slug, words):
    policy = small_policy().policy
    other = PolicyFactory(slug="was-other")
    services.policy_rename(policy=other, slug="other", by=None)

    response = admin_client.post(rename_url(policy), {"slug": slug})

    assert response.status_code == 200
    assert words in " ".join(response.context["form"].errors["slug"])
    assert Policy.objects.get(pk=policy.pk).slug == "pets"


def test_renaming_back_takes_the_slug_out_of_the_old_ones():
    policy = small_policy().policy
    services.policy_rename(policy=policy, slug="pet-permits", by=None)

    services.policy_rename(policy=policy, slug="pets", by=None)

    assert list(policy.previous_slugs.values_list("slug", flat=True)) == ["pet-permits"]
    assert catalog.moved_to("pets") is None
    assert catalog.moved_to("pet-permits") == "pets"


def test_a_new_policy_cannot_take_a_renamed_policys_old_slug(admin_client):
    policy = small_policy().policy
    services.policy_rename(policy=policy, slug="pet-permits", by=None)

    response = admin_client.post(
        reverse("admin:policies_policy_add"),
        {
            "slug": "pets",
            "title": "Impostor",
            "summary": "",
            "versions-TOTAL_FORMS": 0,
            "versions-INITIAL_FORMS": 0,
            "scenarios-TOTAL_FORMS": 0,
            "scenarios-INITIAL_FORMS": 0,
        },
    )

    assert response.status_code == 200
    assert "was another policy's slug" in " ".join(
        response.context["adminform"].form.errors["slug"]
    )
    assert not Policy.objects.filter(title="Impostor").exists()
