"""Rate limits counted in real Redis (the shared cache a deployment with several workers uses)."""

from __future__ import annotations

import pytest
import redis
from django.urls import reverse

from tests.factories import small_policy
from tests.redis_cache import RunScopedRedisCache, cache_settings, new_prefix
from tests.wizard.conftest import answer_all
from wizard.models import Result

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("still_rate_window")]

EVALUATE = "/api/v1/policies/pets/evaluate"


def evaluate(client, **extra):
    return client.post(
        EVALUATE, {"answers": {"pet": "cat"}}, content_type="application/json", **extra
    )


def test_the_api_limit_is_counted_in_redis_under_the_tests_prefix(client, redis_cache, settings):
    settings.RATE_LIMIT_API = "3/m"
    small_policy()

    codes = [evaluate(client).status_code for _ in range(4)]

    assert codes == [200, 200, 200, 429]
    keys = redis.Redis.from_url(redis_cache.url).keys(f"{redis_cache.prefix}:*")
    assert keys, "the counter should live in Redis"


def test_saving_results_is_limited_on_redis_too(client, redis_cache, settings):
    settings.RATE_LIMIT_SAVE = "1/m"
    small_policy()
    answer_all(client, pet="cat")
    url = reverse("wizard:result", args=["pets"])

    assert client.post(url).status_code == 302
    assert client.post(url).status_code == 429
    assert Result.objects.count() == 1


def test_clearing_a_test_cache_leaves_other_runs_keys_alone(redis_cache):
    ours = RunScopedRedisCache(redis_cache.url, cache_settings(redis_cache.url, new_prefix()))
    theirs = RunScopedRedisCache(redis_cache.url, cache_settings(redis_cache.url, new_prefix()))
    ours.set("counter", 1)
    theirs.set("counter", 2)
    try:
        ours.clear()

        assert ours.get("counter") is None
        assert theirs.get("counter") == 2
    finally:
        theirs.clear()
