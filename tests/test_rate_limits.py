"""Rate limits that count the right client: trusted proxies, and rates that are checked at
start-up (the cache that counts them is local memory here; tests/test_redis_limits.py has Redis)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory

from tests.factories import small_policy
from wizard.middleware import client_address
from wizard.settings import env_rate

EVALUATE = "/api/v1/policies/pets/evaluate"


def request_from(remote: str, forwarded: str | None = None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


def evaluate(client, forwarded: str | None = None):
    extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded else {}
    return client.post(
        EVALUATE, {"answers": {"pet": "cat"}}, content_type="application/json", **extra
    ).status_code


# --- the client address ---------------------------------------------------------------------------


def test_without_trusted_proxies_the_header_is_ignored(settings):
    settings.TRUSTED_PROXIES = 0

    assert client_address(request_from("192.0.2.1", "203.0.113.7")) == "192.0.2.1"


def test_behind_one_proxy_the_address_it_saw_counts_and_forged_entries_do_not(settings):
    settings.TRUSTED_PROXIES = 1

    assert client_address(request_from("10.0.0.2", "203.0.113.7")) == "203.0.113.7"
    # The client wrote the first entry itself; the proxy appended the real one.
    assert client_address(request_from("10.0.0.2", "1.1.1.1, 203.0.113.7")) == "203.0.113.7"


def test_behind_two_proxies_the_second_entry_from_the_right_counts(settings):
    settings.TRUSTED_PROXIES = 2

    forwarded = "1.1.1.1, 203.0.113.7, 10.0.0.9"
    assert client_address(request_from("10.0.0.2", forwarded)) == "203.0.113.7"
    # Entered after the outer proxy: the one entry there was written by the inner one.
    assert client_address(request_from("10.0.0.2", "198.51.100.4")) == "198.51.100.4"


def test_a_request_that_bypassed_the_proxies_counts_its_own_address(settings):
    settings.TRUSTED_PROXIES = 1

    assert client_address(request_from("192.0.2.1")) == "192.0.2.1"


def test_ports_and_brackets_are_dropped_and_junk_counts_the_proxy(settings):
    settings.TRUSTED_PROXIES = 1

    assert client_address(request_from("10.0.0.2", "203.0.113.7:51234")) == "203.0.113.7"
    assert client_address(request_from("10.0.0.2", "[2001:db8::1]:443")) == "2001:db8::1"
    assert client_address(request_from("10.0.0.2", "not-an-address")) == "10.0.0.2"


@pytest.mark.django_db
@pytest.mark.usefixtures("still_rate_window")
def test_behind_a_proxy_each_visitor_has_a_limit_of_their_own(client, settings):
    settings.TRUSTED_PROXIES = 1
    settings.RATE_LIMIT_API = "2/m"
    small_policy()

    first = [evaluate(client, "203.0.113.7") for _ in range(3)]
    second = [evaluate(client, "198.51.100.4") for _ in range(3)]
    forged = evaluate(client, "9.9.9.9, 203.0.113.7")  # the limited visitor, forging an entry

    assert first == [200, 200, 429]
    assert second == [200, 200, 429]
    assert forged == 429


# --- rates, checked at start-up -------------------------------------------------------------------


@pytest.mark.parametrize("rate", ["120/m", "5/10m", "1/s", "3/h", "1000/d"])
def test_rates_django_ratelimit_reads_as_written_are_accepted(monkeypatch, rate):
    monkeypatch.setenv("WIZARD_RATE_LIMIT_API", rate)

    assert env_rate("WIZARD_RATE_LIMIT_API", "120/m") == rate


def test_an_empty_rate_switches_the_limit_off(monkeypatch):
    monkeypatch.setenv("WIZARD_RATE_LIMIT_SAVE", "")

    assert env_rate("WIZARD_RATE_LIMIT_SAVE", "20/m") == ""


@pytest.mark.parametrize("rate", ["120", "5/M", "120/min", "fast", "0/m", "5/0m", "-1/m"])
def test_a_rate_it_would_misread_is_refused_naming_the_variable(monkeypatch, rate):
    monkeypatch.setenv("WIZARD_RATE_LIMIT_LOGIN", rate)

    with pytest.raises(ImproperlyConfigured, match=r"WIZARD_RATE_LIMIT_LOGIN must be a rate"):
        env_rate("WIZARD_RATE_LIMIT_LOGIN", "10/m")


@pytest.mark.parametrize(
    ("variable", "value"), [("WIZARD_RATE_LIMIT_API", "lots"), ("WIZARD_TRUSTED_PROXIES", "one")]
)
def test_a_bad_value_stops_start_up_with_a_message_naming_the_variable(variable, value):
    completed = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=Path(django_settings.BASE_DIR),
        env={**os.environ, variable: value},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert completed.returncode != 0
    assert f"{variable} must be" in completed.stderr
