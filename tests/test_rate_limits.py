"""Rate limits that count the right client: trusted proxies, and rates that are checked at
start-up (the cache that counts them is local memory here; tests/test_redis_limits.py has Redis)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory
from django.urls import reverse

from tests.factories import small_policy
from tests.wizard.conftest import answer_all
from wizard.middleware import SAVE_PEEK_BYTES, client_address
from wizard.models import Result
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


# --- admin logins: per address and per username ---------------------------------------------------


@pytest.fixture
def fast_passwords(settings):
    # A login with an unknown username still hashes the password (against timing attacks).
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def login(client, username: str, forwarded: str) -> int:
    return client.post(
        reverse("admin:login"),
        {"username": username, "password": "wrong"},
        HTTP_X_FORWARDED_FOR=forwarded,
    ).status_code


@pytest.mark.django_db
@pytest.mark.usefixtures("still_rate_window", "fast_passwords")
def test_guesses_at_one_username_from_many_addresses_are_limited(client, settings):
    settings.TRUSTED_PROXIES = 1
    settings.RATE_LIMIT_LOGIN_USERNAME = "3/m"

    codes = [login(client, "alice", f"203.0.113.{i}") for i in range(1, 6)]

    assert codes == [200, 200, 200, 429, 429]
    # The same name in other letter cases or with spaces is the same count.
    assert login(client, " ALICE ", "203.0.113.9") == 429
    # Other admins sign in as usual meanwhile.
    assert login(client, "bob", "203.0.113.9") == 200


@pytest.mark.django_db
@pytest.mark.usefixtures("still_rate_window", "fast_passwords")
def test_one_address_alone_cannot_lock_an_account_out_with_the_defaults(client, settings):
    settings.TRUSTED_PROXIES = 1
    assert settings.RATE_LIMIT_LOGIN == "10/m" and settings.RATE_LIMIT_LOGIN_USERNAME == "20/m"

    attacker = [login(client, "alice", "198.51.100.66") for _ in range(25)]

    assert attacker.count(200) == 10 and attacker[10:] == [429] * 15
    # Stopped at its own limit, the attacker has used only 10 of alice's 20.
    assert login(client, "alice", "203.0.113.5") == 200


# --- API saves count against the save limit -------------------------------------------------------


def post_json(client, body: bytes | str):
    return client.post(EVALUATE, body, content_type="application/json").status_code


@pytest.mark.django_db
@pytest.mark.usefixtures("still_rate_window")
def test_api_saves_count_against_the_save_limit_with_the_pages(client, settings):
    settings.RATE_LIMIT_SAVE = "2/m"
    small_policy()
    save = json.dumps({"answers": {"pet": "cat"}, "save": True})

    api = [post_json(client, save) for _ in range(3)]
    answer_all(client, pet="cat")
    page = client.post(reverse("wizard:result", args=["pets"])).status_code

    assert api == [200, 200, 429]
    assert page == 429  # one count for saves, whichever door they come through
    assert Result.objects.count() == 2
    # Evaluating without saving is limited only by the API's own rate.
    assert post_json(client, json.dumps({"answers": {"pet": "cat"}})) == 200


@pytest.mark.django_db
@pytest.mark.usefixtures("still_rate_window")
def test_a_body_too_large_to_peek_at_counts_as_a_save(client, settings):
    settings.RATE_LIMIT_SAVE = "1/m"
    small_policy()
    padded = json.dumps({"answers": {"pet": "cat"}, "save": True, "pad": "x" * SAVE_PEEK_BYTES})

    assert post_json(client, padded) != 429
    assert post_json(client, padded) == 429
    assert post_json(client, "{not json") != 429  # not a save: the API answers 400
    assert post_json(client, json.dumps({"answers": {}, "save": "true"})) != 429


@pytest.mark.django_db
@pytest.mark.usefixtures("still_rate_window")
def test_a_body_over_djangos_upload_limit_is_refused_by_the_api_not_the_limiter(client, settings):
    settings.RATE_LIMIT_SAVE = "1/m"
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    small_policy()
    body = json.dumps({"answers": {"pet": "cat"}, "save": True, "pad": "x" * 200})

    codes = [post_json(client, body) for _ in range(2)]

    assert 500 not in codes and 429 not in codes, codes
    assert Result.objects.count() == 0


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
