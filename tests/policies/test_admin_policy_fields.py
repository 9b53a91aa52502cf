"""A policy's own fields are published too: the slug is frozen once a version is published, and
the title and summary need the publish permission."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from policies.models import Policy
from tests.factories import PolicyFactory, small_policy

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

    response = admin_client.post(url, post_data(policy, slug="renamed", title="New title"))

    assert response.status_code == 302
    policy.refresh_from_db()
    assert (policy.slug, policy.title) == ("pets", "New title")


def test_without_the_publish_permission_title_and_summary_are_read_only(editor):
    policy = small_policy().policy
    url = reverse("admin:policies_policy_change", args=[policy.pk])

    editor.post(url, post_data(policy, title="Changed live", summary="Changed"))

    policy.refresh_from_db()
    assert policy.title == "Pet licence"
    assert 'name="title"' not in editor.get(url).content.decode()


def test_a_policy_with_drafts_only_can_still_be_renamed(admin_client):
    policy = PolicyFactory(slug="early")
    url = reverse("admin:policies_policy_change", args=[policy.pk])

    admin_client.post(url, post_data(policy, slug="better"))

    assert Policy.objects.filter(slug="better").exists()
