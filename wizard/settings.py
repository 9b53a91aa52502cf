"""Settings for the eligibility wizard.

Everything that differs between machines comes from the environment through the small helpers
below, which fail loudly on a value they cannot read. The defaults are safe for a laptop: SQLite in
the project folder, DEBUG off unless asked for.
"""

import os
import re
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false, yes/no), not {value!r}")


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        number = minimum - 1
    if number < minimum:
        raise ImproperlyConfigured(f"{name} must be a whole number >= {minimum}, not {value!r}")
    return number


RATE = re.compile(r"[1-9][0-9]*/([1-9][0-9]*)?[smhd]")


def env_rate(name: str, default: str) -> str:
    """A django-ratelimit rate ("120/m": requests per second, minute, hour or day, or per
    "10m"), or empty to switch that limit off. django-ratelimit itself would read "120" as per
    second and "5/M" as 5 a second, silently; here they stop start-up."""
    value = env_str(name, default).strip()
    if value and not RATE.fullmatch(value):
        raise ImproperlyConfigured(
            f"{name} must be a rate such as 120/m (a number of requests per s, m, h or d, "
            f"or per 10m), or empty to switch the limit off; not {value!r}"
        )
    return value


def database_settings(url: str, *, connect_timeout: int, statement_timeout: int) -> dict[str, Any]:
    """One DATABASES entry that never waits for ever: a database that accepts connections and
    then says nothing must turn into an OperationalError (the 503 page) within seconds, well
    before gunicorn gives up on the worker. Options given in the URL win."""
    config: dict[str, Any] = dict(
        dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
    )
    options = config.setdefault("OPTIONS", {})
    if config["ENGINE"] == "django.db.backends.postgresql":
        # libpq's connect timeout covers the TCP connect and the start-up handshake; it counts
        # whole seconds, at least 2.
        options.setdefault("connect_timeout", connect_timeout)
        # The server cancels a statement that runs longer (QueryCanceled, an OperationalError).
        # 0 sets none, e.g. for a long migration.
        timeout = f"-c statement_timeout={statement_timeout * 1000}"
        if statement_timeout and "options" in options:
            options["options"] = f"{options['options']} {timeout}"
        elif statement_timeout:
            options["options"] = timeout
    elif config["ENGINE"] == "django.db.backends.sqlite3" and statement_timeout:
        # How long a statement waits for another connection's write lock, then "database is
        # locked" (an OperationalError).
        options.setdefault("timeout", statement_timeout)
    return config


DEBUG = env_bool("DJANGO_DEBUG", False)
# The fallback key only suits a local run; any deployment sets DJANGO_SECRET_KEY, and
# `check --deploy` fails while it is unset, empty or this key (wizard/checks.py).
FALLBACK_SECRET_KEY = "insecure-local-only-key-set-DJANGO_SECRET_KEY-in-production"
SECRET_KEY = env_str("DJANGO_SECRET_KEY", "") or FALLBACK_SECRET_KEY
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", "")
# e.g. wizard.W001 where one process serves with local memory (make run, make checks).
SILENCED_SYSTEM_CHECKS = env_list("DJANGO_SILENCED_SYSTEM_CHECKS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "ninja",
    "django_htmx",
    "template_partials",
    "csp",
    "policies",
    "wizard",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Outside the session middleware, so a session that cannot be saved also gets the 503 page.
    "wizard.middleware.DatabaseUnavailableMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # A renamed policy's old URLs: only a 404 that named a slug is looked at.
    "wizard.middleware.MovedPolicyMiddleware",
    "wizard.middleware.ApiMethodNotAllowedMiddleware",
    "wizard.middleware.RateLimitMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
]

ROOT_URLCONF = "wizard.urls"
WSGI_APPLICATION = "wizard.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# A database that hangs gives the 503 page within these (seconds): connecting, then each statement.
# gunicorn's worker timeout (wizard/gunicorn_conf.py) stays above their sum.
DB_CONNECT_TIMEOUT = env_int("DJANGO_DB_CONNECT_TIMEOUT", 3, minimum=1)
DB_STATEMENT_TIMEOUT = env_int("DJANGO_DB_STATEMENT_TIMEOUT", 10, minimum=0)
DATABASES = {
    # Connections are kept for a minute and checked before reuse (CONN_HEALTH_CHECKS), so the
    # first request after a database restart reconnects instead of failing.
    "default": database_settings(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        connect_timeout=DB_CONNECT_TIMEOUT,
        statement_timeout=DB_STATEMENT_TIMEOUT,
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("DJANGO_STATIC_ROOT", str(BASE_DIR / "staticfiles")))
# WhiteNoise serves static files with DEBUG off. By default it reads them straight from the
# source folders, so `make run` needs no collectstatic; a deployment (`make serve`) collects them
# under hashed names, which WhiteNoise serves with far-future caching, and sets this to 0.
WHITENOISE_USE_FINDERS = env_bool("DJANGO_STATIC_FROM_FINDERS", True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "wizard.storage.SourceStaticStorage"
        if WHITENOISE_USE_FINDERS
        else "wizard.storage.CollectedStaticStorage"
    },
}

# A form without a valid token gets a plain-language page with a way back, not Django's default.
CSRF_FAILURE_VIEW = "wizard.error_pages.csrf_failure"

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Behind HTTPS (the production profile): secure cookies, HSTS and a redirect from plain HTTP.
# DJANGO_PROXY_SSL_HEADER trusts a proxy's X-Forwarded-Proto; set it only behind such a proxy.
HTTPS = env_bool("DJANGO_HTTPS", False)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS
SECURE_HSTS_SECONDS = 31_536_000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
if env_bool("DJANGO_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# /healthz answers over plain HTTP too, for load balancers probing the container directly.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# Rate limits per client address (see wizard/middleware.py). The default cache is per process;
# with several workers, point DJANGO_CACHE_LOCATION at a shared cache for exact limits.
RATE_LIMIT_API = env_rate("WIZARD_RATE_LIMIT_API", "120/m")
RATE_LIMIT_SAVE = env_rate("WIZARD_RATE_LIMIT_SAVE", "20/m")
RATE_LIMIT_LOGIN = env_rate("WIZARD_RATE_LIMIT_LOGIN", "10/m")
# Admin login attempts per username, from any address: guesses spread over many addresses stop
# here. Above the per-address rate, so that one address alone can never lock an account out.
RATE_LIMIT_LOGIN_USERNAME = env_rate("WIZARD_RATE_LIMIT_LOGIN_USERNAME", "20/m")
# The client address is the one the outermost of this many proxies saw (X-Forwarded-For, counted
# from the right); 0 trusts no header and counts REMOTE_ADDR. Behind one reverse proxy set 1, or
# every visitor shares the proxy's address and its limits.
TRUSTED_PROXIES = env_int("WIZARD_TRUSTED_PROXIES", 0, minimum=0)
RATELIMIT_IP_META_KEY = "wizard.middleware.client_address"
# A cache that fails lets requests through uncounted (rate limiting fails open, with a warning in
# the log); django-ratelimit's own fallback, for a count it could not read, would refuse them.
RATELIMIT_FAIL_OPEN = True
CACHE_BACKEND = env_str("DJANGO_CACHE_BACKEND", "django.core.cache.backends.locmem.LocMemCache")
# How long one Redis command may wait, so a Redis that hangs costs milliseconds, not requests.
CACHE_SOCKET_TIMEOUT = env_int("DJANGO_CACHE_SOCKET_TIMEOUT_MS", 500, minimum=1) / 1000
# Off only to measure what the reuse buys (bench/http_bench.py) or to rule it out.
REUSE_RENDERED = env_bool("WIZARD_REUSE_RENDERED", True)
CACHES = {
    "default": {
        "BACKEND": CACHE_BACKEND,
        "LOCATION": env_str("DJANGO_CACHE_LOCATION", "wizard"),
        # Several deployments (or test runs) can share one Redis without counting each other.
        "KEY_PREFIX": env_str("DJANGO_CACHE_KEY_PREFIX", ""),
        "OPTIONS": {
            "socket_connect_timeout": CACHE_SOCKET_TIMEOUT,
            "socket_timeout": CACHE_SOCKET_TIMEOUT,
        }
        if CACHE_BACKEND == "django.core.cache.backends.redis.RedisCache"
        else {},
    },
    # Responses rendered once and reused while the process runs: question pages
    # (rendering.question_page) and API evaluations (api.evaluate), both of published versions,
    # which never change. In the process, not a shared cache: nothing is cheaper to read, and a
    # deploy with new templates starts empty. With DEBUG on, templates reload as they are edited,
    # so nothing rendered is kept.
    "rendered": {
        "BACKEND": "django.core.cache.backends.dummy.DummyCache"
        if DEBUG or not REUSE_RENDERED
        else "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "rendered",
        # A question page is about 7 KB, an evaluation 5 to 45 KB: at most some 25 MB a worker.
        "OPTIONS": {"MAX_ENTRIES": 1000},
    },
}

# How long each worker keeps the list of a policy's published versions (policies.catalog): a
# publish in the same worker is seen at once, in another within this many seconds.
POLICY_VERSIONS_CACHE_SECONDS = 10

# No inline script or style anywhere, so the policy can stay strict: htmx is served from static/
# and configured by a <meta> tag (no eval, no injected indicator styles), and the browser tests
# check that no page triggers a violation.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    }
}

NINJA_PAGINATION_PER_PAGE = 100

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Result tokens and revoke secrets live in URLs; no log line may carry them.
    "filters": {"redact_secrets": {"()": "wizard.logs.RedactSecrets"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["redact_secrets"]},
    },
    "root": {"handlers": ["console"], "level": env_str("DJANGO_LOG_LEVEL", "WARNING")},
    "loggers": {
        # Django's own request loggers propagate to the root handler (and its filter).
        "django": {"level": env_str("DJANGO_LOG_LEVEL", "WARNING")},
    },
}
