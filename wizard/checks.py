"""System checks for what a deployment gets wrong silently: a cache that each process keeps for
itself (so every worker counts its own rate limits), and the built-in secret key, which is public
in the repository (anyone could sign wizard cookies and sessions with it).

Registered by WizardConfig.ready(). The cache check is a warning in every `manage.py` command
and an error under `check --deploy`; `make run` and `make checks`, which serve or test one process
with local memory (where the counts are exact), silence the warning with
DJANGO_SILENCED_SYSTEM_CHECKS=wizard.W001.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core.cache.backends.db import DatabaseCache
from django.core.cache.backends.dummy import DummyCache
from django.core.cache.backends.filebased import FileBasedCache
from django.core.cache.backends.locmem import LocMemCache
from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.utils.module_loading import import_string

# Why each cache cannot count limits across processes and hosts.
NOT_SHARED = {
    LocMemCache: "lives in each process, so every worker counts its own limits",
    DummyCache: "stores nothing, so no limit is ever reached",
    FileBasedCache: "is neither shared across hosts nor atomic, so counts are lost",
    DatabaseCache: "has no atomic increment, so concurrent requests lose counts",
}
CACHE_HINT = (
    "Set DJANGO_CACHE_BACKEND=django.core.cache.backends.redis.RedisCache and "
    "DJANGO_CACHE_LOCATION=redis://<host>:6379/0 (README, 'Scaling out')."
)


def _unshared_cache_reason() -> tuple[str, str] | None:
    """(backend, why it is not shared) for the cache that counts rate limits, or None."""
    if settings.DEBUG:
        return None
    alias = getattr(settings, "RATELIMIT_USE_CACHE", "default")
    config = settings.CACHES.get(alias)
    backend = str(config.get("BACKEND", "")) if isinstance(config, dict) else ""
    try:
        cache_class = import_string(backend)
    except ImportError:
        return None  # Django's own cache handling reports a backend it cannot import
    for unshared, why in NOT_SHARED.items():
        if isinstance(cache_class, type) and issubclass(cache_class, unshared):
            return backend, why
    return None


def _cache_message(level: type[Warning] | type[Error], id: str) -> list[CheckMessage]:
    found = _unshared_cache_reason()
    if found is None:
        return []
    backend, why = found
    return [
        level(
            f"The cache that counts rate limits ({backend.rsplit('.', 1)[-1]}) {why}: with "
            "several workers or hosts the limits are not what they say.",
            hint=CACHE_HINT,
            id=id,
        )
    ]


@register(Tags.caches)
def check_rate_limit_cache(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    return _cache_message(Warning, "wizard.W001")


@register(Tags.caches, deploy=True)
def check_rate_limit_cache_deploy(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    return _cache_message(Error, "wizard.E001")


@register(Tags.security, deploy=True)
def check_secret_key(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    if settings.SECRET_KEY not in {"", settings.FALLBACK_SECRET_KEY}:
        return []
    return [
        Error(
            "DJANGO_SECRET_KEY is not set, so the built-in key is in use; it is public in the "
            "repository, and anyone can forge wizard cookies and sessions with it.",
            hint="Set DJANGO_SECRET_KEY to 50 or more random characters, e.g. the output of "
            "python -c 'import secrets; print(secrets.token_urlsafe(50))'.",
            id="wizard.E002",
        )
    ]
