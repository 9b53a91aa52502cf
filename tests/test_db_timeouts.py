"""A database that hangs: connect and statement timeouts end in the 503 page within seconds,
/healthz keeps answering meanwhile, and a restarted database costs no request."""

from __future__ import annotations

import os
import runpy
import threading
import time
from pathlib import Path

import pytest
from django.db import connection, connections
from django.db.utils import ConnectionHandler
from django.test import RequestFactory

from bench import load
from wizard.middleware import DatabaseUnavailableMiddleware
from wizard.settings import database_settings

ROOT = Path(__file__).resolve().parent.parent
on_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL's own timeouts (the PostgreSQL pass)"
)


def test_postgres_connections_carry_both_timeouts_and_health_checks():
    config = database_settings(
        "postgres://u@db.example:5432/w", connect_timeout=3, statement_timeout=10
    )

    assert config["OPTIONS"] == {"connect_timeout": 3, "options": "-c statement_timeout=10000"}
    assert config["CONN_HEALTH_CHECKS"] is True


def test_options_in_the_url_are_kept_beside_the_statement_timeout():
    config = database_settings(
        "postgres://u@db/w?connect_timeout=5&options=-c%20search_path%3Dwizard",
        connect_timeout=3,
        statement_timeout=2,
    )

    assert config["OPTIONS"]["connect_timeout"] == 5
    assert config["OPTIONS"]["options"] == "-c search_path=wizard -c statement_timeout=2000"


def test_sqlite_waits_for_a_lock_at_most_the_statement_timeout():
    config = database_settings("sqlite:////tmp/x.sqlite3", connect_timeout=3, statement_timeout=7)

    assert config["OPTIONS"] == {"timeout": 7}


def test_a_statement_timeout_of_zero_sets_none():
    config = database_settings("postgres://u@db/w", connect_timeout=3, statement_timeout=0)

    assert "options" not in config["OPTIONS"]


def test_gunicorn_waits_longer_than_the_database_timeouts(monkeypatch):
    from django.conf import settings

    for name in ("GUNICORN_TIMEOUT", "DJANGO_DB_CONNECT_TIMEOUT", "DJANGO_DB_STATEMENT_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    conf = runpy.run_path(str(ROOT / "wizard" / "gunicorn_conf.py"))

    assert conf["timeout"] > settings.DB_CONNECT_TIMEOUT + settings.DB_STATEMENT_TIMEOUT
    assert conf["worker_class"] == "gthread" and conf["threads"] > 1
    monkeypatch.setenv("DJANGO_DB_STATEMENT_TIMEOUT", "40")
    with pytest.raises(ValueError, match="GUNICORN_TIMEOUT"):
        runpy.run_path(str(ROOT / "wizard" / "gunicorn_conf.py"))


def test_a_database_that_never_answers_gives_the_503_page_within_the_connect_timeout(
    client, black_hole, django_db_blocker
):
    # libpq counts whole seconds, at least 2.
    hanging = ConnectionHandler(
        {"default": database_settings(black_hole.url(), connect_timeout=2, statement_timeout=2)}
    )["default"]
    kept = connections["default"]
    connections["default"] = hanging
    try:
        with django_db_blocker.unblock():
            started = time.monotonic()
            response = client.get("/")
            waited = time.monotonic() - started
    finally:
        connections["default"] = kept
        hanging.close()

    assert response.status_code == 503
    assert "Sorry, the service is unavailable" in response.content.decode()
    assert 1.5 < waited < 3.5, f"waited {waited:.2f} s"
    assert black_hole.accepted, "the request should have reached the black hole"


@on_postgres
@pytest.mark.django_db
def test_a_statement_past_the_timeout_is_cancelled_and_answers_503():
    slow = ConnectionHandler(
        {
            "default": {
                **connection.settings_dict,
                "OPTIONS": {"options": "-c statement_timeout=300"},
            }
        }
    )["default"]

    def sleeps_in_the_database(request):
        with slow.cursor() as cursor:
            cursor.execute("SELECT pg_sleep(5)")
        raise AssertionError("the statement should have been cancelled")

    started = time.monotonic()
    try:
        response = DatabaseUnavailableMiddleware(sleeps_in_the_database)(
            RequestFactory().get("/policy/")
        )
    finally:
        slow.close()

    assert response.status_code == 503
    assert time.monotonic() - started < 2


@on_postgres
@pytest.mark.django_db
def test_sessions_on_postgres_run_with_the_configured_statement_timeout():
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        (value,) = cursor.fetchone()

    assert value == "10s"


# --- under gunicorn -------------------------------------------------------------------------------


def timed_request(port: int, method: str, path: str, **kwargs: object) -> tuple[int, float]:
    started = time.monotonic()
    status, _, _ = load.request_once(port, method, path, timeout=15, **kwargs)
    return status, time.monotonic() - started


def test_under_gunicorn_healthz_answers_while_requests_hang_and_those_get_503(black_hole):
    # Two workers, as `make serve` runs; with sync workers both would be stuck here.
    with load.Server(black_hole.url(), workers=2, DJANGO_DB_CONNECT_TIMEOUT="2") as server:
        stuck: list[tuple[int, float]] = []
        requests: list[tuple[str, str, dict[str, object]]] = [
            ("GET", "/", {}),
            ("POST", "/api/v1/policies/claude-code/evaluate", {"json_body": {"answers": {}}}),
        ]
        threads = [
            threading.Thread(
                target=lambda m=m, p=p, k=k: stuck.append(timed_request(server.port, m, p, **k))
            )
            for m, p, k in requests
        ]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 2
        while len(black_hole.accepted) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(black_hole.accepted) >= 2, "both requests should be waiting on the database"
        health = [timed_request(server.port, "GET", "/healthz") for _ in range(3)]
        for thread in threads:
            thread.join(timeout=10)

    print(f"/healthz meanwhile: {[f'{s * 1000:.1f} ms' for _, s in health]}")
    print(f"stuck requests: {[f'{code} after {s:.2f} s' for code, s in stuck]}")
    assert all(code == 200 and seconds < 1 for code, seconds in health), health
    assert sorted(code for code, _ in stuck) == [503, 503], stuck
    assert all(seconds < 3.5 for _, seconds in stuck), stuck


@on_postgres
@pytest.mark.django_db
def test_a_database_restart_costs_no_request():
    """Kept connections are checked before reuse: after every server connection is cut (as a
    restart does), the next requests reconnect and answer 200, none 503."""
    url = os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/" + connection.settings_dict["NAME"]
    with load.Server(url, workers=1, GUNICORN_THREADS="2") as server:
        before = [load.request_once(server.port, "GET", "/")[0] for _ in range(4)]
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            (cut,) = cursor.fetchone()
        after = [load.request_once(server.port, "GET", "/")[0] for _ in range(4)]

    assert before == [200] * 4
    assert cut >= 1, "the server's kept connections should have been cut"
    assert after == [200] * 4
