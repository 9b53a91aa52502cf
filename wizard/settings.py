"""Settings for the eligibility wizard.

Everything that differs between machines comes from the environment through the small helpers
below, which fail loudly on a value they cannot read. The defaults are safe for a laptop: SQLite in
the project folder, DEBUG off unless asked for.
"""

import os
from pathlib import Path

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


DEBUG = env_bool("DJANGO_DEBUG", False)
# The fallback key only suits a local run; any deployment sets DJANGO_SECRET_KEY.
SECRET_KEY = env_str(
    "DJANGO_SECRET_KEY", "insecure-local-only-key-set-DJANGO_SECRET_KEY-in-production"
)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", "")

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

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"), conn_max_age=60
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
RATE_LIMIT_API = env_str("WIZARD_RATE_LIMIT_API", "120/m")
RATE_LIMIT_SAVE = env_str("WIZARD_RATE_LIMIT_SAVE", "20/m")
RATE_LIMIT_LOGIN = env_str("WIZARD_RATE_LIMIT_LOGIN", "10/m")
CACHES = {
    "default": {
        "BACKEND": env_str("DJANGO_CACHE_BACKEND", "django.core.cache.backends.locmem.LocMemCache"),
        "LOCATION": env_str("DJANGO_CACHE_LOCATION", "wizard"),
    },
    # Responses rendered once and reused while the process runs: question pages
    # (rendering.question_page) and API evaluations (api.evaluate), both of published versions,
    # which never change. In the process, not a shared cache: nothing is cheaper to read, and a
    # deploy with new templates starts empty. With DEBUG on, templates reload as they are edited,
    # so nothing rendered is kept.
    "rendered": {
        "BACKEND": "django.core.cache.backends.dummy.DummyCache"
        if DEBUG
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
