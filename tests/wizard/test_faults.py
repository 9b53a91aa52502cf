"""Faults and abuse: an unreachable database, too many requests, secrets in logs, a policy
published mid-wizard, and the production profile."""

from __future__ import annotations

import logging
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from unittest import mock

import pytest
from django.conf import settings
from django.db import OperationalError
from django.db.backends.base.base import BaseDatabaseWrapper
from django.test import override_settings
from django.urls import reverse

from tests.factories import small_policy
from tests.wizard.conftest import answer_all
from tests.wizard.test_results import newer_version_banning_cats
from wizard.logs import RedactSecrets, redact
from wizard.models import Result

pytestmark = pytest.mark.django_db

EVALUATE = "/api/v1/policies/pets/evaluate"


@pytest.fixture(autouse=True)
def _one_rate_window(monkeypatch):
    """django-ratelimit counts in windows of the wall clock: a test whose requests straddled a
    window's end would see its count start again. Its clock stands still here."""
    import django_ratelimit.core

    now = time.time()
    monkeypatch.setattr(django_ratelimit.core, "time", SimpleNamespace(time=lambda: now))


def database_down():
    return mock.patch.object(
        BaseDatabaseWrapper, "ensure_connection", side_effect=OperationalError("refused")
    )


def test_pages_answer_503_when_the_database_is_unreachable(client, django_db_blocker):
    small_policy()
    from django.db import connection

    connection.close()  # the next query must connect, and connecting fails
    with database_down():
        page = client.get(reverse("wizard:policy_start", args=["pets"]))
        api = client.post(EVALUATE, {"answers": {}}, content_type="application/json")
        health = client.get("/healthz")
    assert page.status_code == 503
    assert "Sorry, the service is unavailable" in page.content.decode()
    assert "Traceback" not in page.content.decode()
    assert page["Retry-After"]
    assert api.status_code == 503
    assert "database" in api.json()["errors"]["service"]
    assert health.status_code == 200 and health.content == b"ok"


@override_settings(RATE_LIMIT_API="3/m")
def test_the_api_answers_429_with_retry_after_past_its_rate(client):
    small_policy()
    statuses = [
        client.post(EVALUATE, {"answers": {"pet": "cat"}}, content_type="application/json")
        for _ in range(4)
    ]
    assert [r.status_code for r in statuses] == [200, 200, 200, 429]
    limited = statuses[-1]
    assert int(limited["Retry-After"]) >= 1
    assert "Too many requests" in limited.json()["errors"]["rate"]


@override_settings(RATE_LIMIT_SAVE="1/m")
def test_saving_results_is_rate_limited_and_nothing_is_saved_past_it(client):
    small_policy()
    answer_all(client, pet="cat")
    url = reverse("wizard:result", args=["pets"])
    assert client.post(url).status_code == 302
    limited = client.post(url)
    assert limited.status_code == 429
    assert "Too many requests" in limited.content.decode()
    assert limited["Retry-After"]
    assert Result.objects.count() == 1


@override_settings(RATE_LIMIT_LOGIN="2/m")
def test_admin_login_is_throttled(client):
    url = reverse("admin:login")
    codes = [client.post(url, {"username": "x", "password": "y"}).status_code for _ in range(3)]
    assert codes == [200, 200, 429]


def test_reading_is_never_rate_limited(client):
    small_policy()
    with override_settings(RATE_LIMIT_API="1/m"):
        codes = {client.get("/api/v1/policies/pets").status_code for _ in range(5)}
    assert codes == {200}


def test_result_tokens_and_revoke_secrets_never_reach_the_logs():
    token, secret = secrets.token_urlsafe(22), secrets.token_urlsafe(22)
    record = logging.LogRecord(
        "django.request",
        logging.WARNING,
        __file__,
        1,
        "Not Found: %s",
        (f"/r/{token}/revoke/{secret}/",),
        None,
    )
    RedactSecrets().filter(record)
    message = record.getMessage()
    assert token not in message and secret not in message
    assert "/r/[redacted]/revoke/[redacted]/" in message
    assert token not in redact(f"GET /api/v1/results/{token} HTTP/1.1")
    for handler in settings.LOGGING["handlers"].values():
        assert "redact_secrets" in handler["filters"]


def test_a_version_published_mid_wizard_does_not_change_the_path(client):
    version = small_policy()
    answer_all(client, pet="cat")
    newer_version_banning_cats(version.policy)  # in effect from yesterday: cats now banned
    client.post(reverse("wizard:result", args=["pets"]))
    result = Result.objects.get()
    assert result.version == version
    assert result.snapshot["verdict"] == "yes"


def test_the_production_profile_passes_the_deploy_check():
    env = {
        **os.environ,
        "DJANGO_DEBUG": "0",
        "DJANGO_HTTPS": "1",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "wizard.example.com",
        "DJANGO_STATIC_FROM_FINDERS": "0",
        # Several workers count rate limits in one shared cache (wizard.E001 otherwise).
        "DJANGO_CACHE_BACKEND": "django.core.cache.backends.redis.RedisCache",
        "DJANGO_CACHE_LOCATION": "redis://127.0.0.1:6379/0",
    }
    env.pop("DATABASE_URL", None)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set while browser tests run; not a deployment
    completed = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=Path(settings.BASE_DIR),
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "no issues" in completed.stdout
