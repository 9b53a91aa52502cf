"""A short run of the load test (bench/load.py): concurrent browsers walk the whole wizard
against gunicorn and a PostgreSQL database of its own, with zero errors and no lost results.

It needs PostgreSQL on 127.0.0.1:5432 and skips without it. It never touches pytest-django's
test database: the run creates `wizard_load_<pid>_test`, migrates it, and drops it afterwards.
"""

from __future__ import annotations

import os

import pytest

from bench import load

CLIENTS = 8
SECONDS = 6


@pytest.mark.skipif(
    not load.postgres_reachable(),
    reason="the load test needs PostgreSQL on 127.0.0.1:5432 (none is listening)",
)
def test_concurrent_walks_through_the_wizard_lose_nothing_and_never_fail():
    report = load.run_load(
        clients=CLIENTS,
        seconds=SECONDS,
        max_requests=20_000,
        database=f"wizard_load_{os.getpid()}_test",
    )
    print(report.table())
    assert report.error_count == 0, report.table()
    assert report.walks >= CLIENTS, report.table()  # every client got all the way through
    assert report.problems == [], report.table()
    assert report.rows == report.saved, report.table()
