"""A publish (or a policy's rename) in one process is seen by every process that shares the
cache on its next request, through a generation counter; without a shared cache, within the TTL.
Another process is played by forgetting this one's own list without telling the cache."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache

from policies import catalog
from tests.factories import pet_version, small_policy

pytestmark = pytest.mark.django_db


def published_elsewhere(policy, day):
    """A version published by another worker: the shared counter moves, this worker's list
    stays as it was."""
    kept = dict(catalog._published)
    version = pet_version(policy, day)
    catalog._published.update(kept)
    return version


def test_a_publish_elsewhere_is_seen_on_the_next_request():
    first = small_policy()
    assert catalog.version_in_effect("pets").pk == first.pk  # now listed in this process

    newer = published_elsewhere(first.policy, dt.date(2025, 6, 1))

    assert catalog.version_in_effect("pets", dt.date(2025, 7, 1)).pk == newer.pk


def test_without_the_counter_the_list_would_be_stale_until_its_ttl():
    # The control for the test above: the same, with the counter held still.
    first = small_policy()
    catalog.version_in_effect("pets")
    generation = cache.get(catalog.GENERATION_KEY)

    published_elsewhere(first.policy, dt.date(2025, 6, 1))
    cache.set(catalog.GENERATION_KEY, generation, timeout=None)

    assert catalog.version_in_effect("pets", dt.date(2025, 7, 1)).pk == first.pk


def test_a_policy_renamed_in_the_admin_is_seen_at_once(admin_client):
    first = small_policy()
    catalog.version_in_effect("pets")  # cached under the old slug
    generation = cache.get(catalog.GENERATION_KEY) or 0

    admin_client.post(f"/admin/policies/policy/{first.policy_id}/rename/", {"slug": "pet-permits"})

    assert catalog.version_in_effect("pet-permits").pk == first.pk
    with pytest.raises(catalog.PolicyNotFound):
        catalog.version_in_effect("pets")
    assert catalog.moved_to("pets") == "pet-permits"
    # Other workers drop their lists on their next request.
    assert cache.get(catalog.GENERATION_KEY) > generation


def test_a_cache_that_is_down_leaves_the_ttl_in_charge(monkeypatch):
    first = small_policy()

    def down(*args, **kwargs):
        raise ConnectionError("cache down")

    monkeypatch.setattr(cache, "get", down)
    monkeypatch.setattr(cache, "add", down)
    assert catalog.version_in_effect("pets").pk == first.pk
    catalog.forget_published_versions()  # no error either
    assert catalog.version_in_effect("pets").pk == first.pk


def test_a_withdrawn_version_is_out_of_effect_and_says_so():
    from policies import services

    first = small_policy()
    newer = pet_version(first.policy, dt.date(2025, 6, 1))
    services.version_withdraw(version=newer, by=None, because="Published by mistake.")

    assert catalog.version_in_effect("pets", dt.date(2025, 7, 1)).pk == first.pk
    assert catalog.version_by_pk(newer.pk, include_drafts=True).status == "withdrawn"
    assert catalog.version_in_effect("pets").status == "published"
