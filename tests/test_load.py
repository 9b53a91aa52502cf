"""A short run of the load test (bench/load.py): concurrent browsers walk the whole wizard,
alternating on every request between two gunicorn servers that share a PostgreSQL database of
the run's own and Redis, with zero errors and no lost results: every result saved on either
server reads back the same, and right, from both.

It needs PostgreSQL on 127.0.0.1:5432 and Redis at WIZARD_TEST_REDIS_URL (`make test` passes
REDIS_URL; .ci/run starts both), and skips, saying which is missing, without them. It never
touches pytest-django's test database: the run creates `wizard_load_<pid>_test`, migrates it, and
drops it afterwards; in Redis it writes under a key prefix of this test's own and deletes those
keys afterwards.
"""

from __future__ import annotations

import os

import pytest

from bench import load
from tests import redis_cache as test_redis

CLIENTS = 8
SECONDS = 6


def missing() -> str | None:
    if not load.postgres_reachable():
        return "the load test needs PostgreSQL on 127.0.0.1:5432 (none is listening)"
    reason = test_redis.unavailable_reason()
    if reason is not None:
        return f"the load test's two servers share Redis: {reason}; .ci/run starts one"
    return None


def test_concurrent_walks_across_two_servers_lose_nothing_and_never_fail():
    if reason := missing():
        pytest.skip(reason)
    report = load.run_load(
        clients=CLIENTS,
        seconds=SECONDS,
        max_requests=20_000,
        servers=2,
        database=f"wizard_load_{os.getpid()}_test",
        redis_url=test_redis.REDIS_URL,
        key_prefix=test_redis.new_prefix(),
    )
    print(report.table())
    assert report.error_count == 0, report.table()
    assert report.walks >= CLIENTS, report.table()  # every client got all the way through
    assert report.problems == [], report.table()  # each read back from both servers
    assert report.rows == report.saved, report.table()
    # Both servers answered and saved (each request goes to the other server than the last).
    assert len(report.ports) == 2, report.table()
    assert all(report.per_server.get(port) for port in report.ports), report.table()
    assert all(report.saved_per_server.get(port) for port in report.ports), report.table()
    # Both counted their saves into the one counter in Redis, and Redis never failed them.
    assert report.redis_saves == report.saved, report.table()
    assert report.cache_warnings == 0, report.table()
    assert report.ok, report.table()
