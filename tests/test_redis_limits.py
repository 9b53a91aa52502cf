"""Rate limits counted in real Redis (the shared cache a deployment with several workers uses)."""

from __future__ import annotations

import contextlib
import http.client
import logging
import random
import shutil
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
from django.urls import reverse

from bench import load
from tests.factories import small_policy
from tests.redis_cache import RunScopedRedisCache, cache_settings, new_prefix, redis_server
from tests.test_settings_profiles import settings_under
from tests.wizard.conftest import answer_all
from wizard import middleware
from wizard.models import Result

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("still_rate_window")]

EVALUATE = "/api/v1/policies/pets/evaluate"


def evaluate(client, *, save: bool = False):
    return client.post(
        EVALUATE, {"answers": {"pet": "cat"}, "save": save}, content_type="application/json"
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


# --- a cache that goes away -----------------------------------------------------------------------


@pytest.fixture
def own_redis():
    """Starts a redis-server of the test's own, which the test may stop."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server; .ci/run does)")
    return redis_server


@pytest.fixture
def fresh_outage(monkeypatch):
    """The middleware's memory of an outage, for this test only."""
    outage = middleware.CacheOutage()
    monkeypatch.setattr(middleware, "outage", outage)
    return outage


def use_cache(settings, url: str) -> None:
    settings.CACHES = {**settings.CACHES, "default": cache_settings(url, new_prefix())}


def test_with_redis_stopped_everything_answers_and_limits_fail_open_with_a_warning(
    client, settings, caplog, fresh_outage, own_redis
):
    settings.RATE_LIMIT_API = "2/m"
    small_policy()
    with own_redis() as server:
        use_cache(settings, server.url)
        assert [evaluate(client).status_code for _ in range(3)] == [200, 200, 429]

        server.stop()
        with caplog.at_level(logging.WARNING, logger="wizard.middleware"):
            api = [evaluate(client).status_code for _ in range(3)]
            saved = evaluate(client, save=True).status_code
            answer_all(client, pet="dog", walks="yes")
            page_save = client.post(reverse("wizard:result", args=["pets"])).status_code
            login = client.post(reverse("admin:login"), {"username": "a", "password": "b"})
            page = client.get(reverse("wizard:policy_start", args=["pets"])).status_code
            health = client.get("/healthz").status_code

    assert api == [200, 200, 200]
    assert saved == 200 and page_save == 302 and Result.objects.count() == 2
    assert login.status_code == 200 and page == 200 and health == 200
    warnings = [r for r in caplog.records if r.name == "wizard.middleware"]
    assert len(warnings) == 1, "one warning per interval, not one per request"
    assert "Rate limits are not applied" in warnings[0].getMessage()
    assert "ConnectionError" in warnings[0].getMessage()


def test_limits_count_again_once_redis_is_back(client, settings, fresh_outage, own_redis):
    settings.RATE_LIMIT_API = "2/m"
    small_policy()
    with own_redis() as server:
        use_cache(settings, server.url)
        server.stop()
        assert evaluate(client).status_code == 200
        assert fresh_outage.active()
    with own_redis() as server:  # back (as a new server)
        use_cache(settings, server.url)
        fresh_outage.until = 0.0  # its retry interval has passed

        codes = [evaluate(client).status_code for _ in range(3)]

    assert codes == [200, 200, 429]


def test_a_redis_that_hangs_costs_one_request_one_socket_timeout(
    client, settings, black_hole, fresh_outage
):
    settings.RATE_LIMIT_API = "2/m"
    small_policy()
    use_cache(settings, f"redis://127.0.0.1:{black_hole.port}/0")  # 0.5 s socket timeouts

    timings = []
    for _ in range(3):
        started = time.monotonic()
        status = evaluate(client).status_code
        timings.append((status, time.monotonic() - started))

    print("evaluate POSTs against a hanging Redis:", [f"{s * 1000:.0f} ms" for _, s in timings])
    assert [status for status, _ in timings] == [200, 200, 200]
    assert timings[0][1] < 1.5, timings
    assert all(seconds < 0.2 for _, seconds in timings[1:]), timings


def test_a_redis_cache_from_the_environment_waits_at_most_half_a_second():
    printed = settings_under(
        {"DJANGO_CACHE_BACKEND": "django.core.cache.backends.redis.RedisCache"},
        "sorted(settings.CACHES['default']['OPTIONS'].items()), settings.RATELIMIT_FAIL_OPEN",
    )

    assert printed == "[('socket_connect_timeout', 0.5), ('socket_timeout', 0.5)] True"


# --- two servers, one Redis -----------------------------------------------------------------------

CLAUDE_EVALUATE = "/api/v1/policies/claude-code/evaluate"


def addresses_mid_window(count: int, period: int, margin: float) -> list[str]:
    """Client addresses whose rate window (django-ratelimit staggers them by the counted value)
    does not end within `margin` seconds, so a count cannot start again during the test."""
    from django_ratelimit.core import _get_window

    found = [
        address
        for address in (f"203.0.113.{i}" for i in range(1, 255))
        if _get_window(address, period) - time.time() > margin
    ]
    return found[:count]


def post_evaluate(port: int, forwarded: str) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(
            "POST",
            CLAUDE_EVALUATE,
            body=b'{"answers": {}}',
            headers={"Content-Type": "application/json", "X-Forwarded-For": forwarded},
        )
        return connection.getresponse().status
    finally:
        connection.close()


def test_two_servers_sharing_redis_let_exactly_the_limit_through_whichever_each_hits(
    served_database, redis_cache
):
    shared = {
        "DJANGO_CACHE_BACKEND": "django.core.cache.backends.redis.RedisCache",
        "DJANGO_CACHE_LOCATION": redis_cache.url,
        "DJANGO_CACHE_KEY_PREFIX": redis_cache.prefix,
        "WIZARD_RATE_LIMIT_API": "5/h",
        "WIZARD_TRUSTED_PROXIES": "1",  # as behind the README's reverse proxy
    }
    clients = addresses_mid_window(2, period=3600, margin=120)
    rng = random.Random(15)
    with contextlib.ExitStack() as running, ThreadPoolExecutor(max_workers=8) as pool:
        # Started side by side; stopped (by the stack) whatever happens.
        servers = [load.Server(served_database, workers=2, **shared) for _ in range(2)]
        first, second = pool.map(running.enter_context, servers)
        # 12 POSTs from each client, sent 8 at a time, each to either server at random.
        plan = [(client, rng.choice([first.port, second.port])) for client in clients * 12]
        statuses = list(pool.map(lambda item: post_evaluate(item[1], item[0]), plan))

    for client in clients:
        theirs = [s for (c, _), s in zip(plan, statuses, strict=True) if c == client]
        assert sorted(theirs) == [200] * 5 + [429] * 7, (client, theirs)
    ports = {port for _, port in plan}
    assert ports == {first.port, second.port}, "both servers should have been asked"
