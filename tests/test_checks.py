"""System checks (wizard/checks.py): an unshared rate-limit cache, and the built-in secret key."""

from __future__ import annotations

import secrets

import pytest
from django.core.checks import run_checks
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from tests.test_settings_profiles import settings_under

LOCMEM = "django.core.cache.backends.locmem.LocMemCache"
REDIS = "django.core.cache.backends.redis.RedisCache"
UNSHARED = [
    LOCMEM,
    "django.core.cache.backends.dummy.DummyCache",
    "django.core.cache.backends.filebased.FileBasedCache",
    "django.core.cache.backends.db.DatabaseCache",
]


def ids(*, deploy: bool = False) -> dict[str, object]:
    return {m.id: m for m in run_checks(include_deployment_checks=deploy) if m.id}


def default_cache(settings, backend: str) -> None:
    location = "redis://127.0.0.1:6379/0" if backend == REDIS else "/tmp/wizard-check-cache"
    settings.CACHES = {**settings.CACHES, "default": {"BACKEND": backend, "LOCATION": location}}


@pytest.mark.parametrize("backend", UNSHARED)
def test_an_unshared_rate_limit_cache_warns_with_debug_off(settings, backend):
    settings.DEBUG = False
    default_cache(settings, backend)

    found = ids()

    assert found["wizard.W001"].level == 30  # a warning
    assert "DJANGO_CACHE_BACKEND" in found["wizard.W001"].hint
    assert "wizard.E001" not in found


def test_an_unshared_rate_limit_cache_is_an_error_under_deploy(settings):
    settings.DEBUG = False
    default_cache(settings, LOCMEM)

    error = ids(deploy=True)["wizard.E001"]

    assert error.level == 40
    assert "LocMemCache" in error.msg and "DJANGO_CACHE_BACKEND" in error.hint


def test_redis_satisfies_the_cache_check(settings):
    settings.DEBUG = False
    default_cache(settings, REDIS)

    found = ids(deploy=True)

    assert "wizard.W001" not in found and "wizard.E001" not in found


def test_with_debug_on_local_memory_is_fine(settings):
    settings.DEBUG = True
    default_cache(settings, LOCMEM)

    assert "wizard.W001" not in ids()


def test_the_built_in_secret_key_fails_the_deploy_check(settings):
    settings.SECRET_KEY = settings.FALLBACK_SECRET_KEY
    default_cache(settings, REDIS)

    with pytest.raises(SystemCheckError, match=r"wizard\.E002.*DJANGO_SECRET_KEY"):
        call_command("check", deploy=True)
    # Outside --deploy a laptop may use it.
    assert "wizard.E002" not in ids()


def test_a_secret_key_of_ones_own_passes_it(settings):
    settings.SECRET_KEY = secrets.token_urlsafe(50)

    assert "wizard.E002" not in ids(deploy=True)


def test_an_empty_secret_key_falls_back_to_the_built_in_one_and_fails_the_check():
    printed = settings_under(
        {"DJANGO_SECRET_KEY": ""}, "settings.SECRET_KEY == settings.FALLBACK_SECRET_KEY"
    )

    assert printed == "True"


def test_the_one_process_targets_silence_only_the_warning(settings):
    settings.DEBUG = False
    settings.SILENCED_SYSTEM_CHECKS = ["wizard.W001"]
    default_cache(settings, LOCMEM)

    call_command("check", fail_level="WARNING")  # make checks: passes
    with pytest.raises(SystemCheckError, match=r"wizard\.E001"):
        call_command("check", deploy=True)
