# Two commands matter: `make run` and `make test`. Both reuse `make setup`, which is idempotent:
# it rebuilds .venv only when requirements.lock changes.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PG_URL ?= postgres://postgres@127.0.0.1:5432/test
# The Redis that the cache-dependent tests use (each test under a key prefix of its own).
REDIS_URL ?= redis://127.0.0.1:6379/0

.PHONY: setup db run serve test lint typecheck checks test-sqlite test-postgres test-browser bench load lock clean

# setup also prepares the local database, so `manage.py evaluate` works right after it.
setup: $(STAMP) db

db: $(STAMP)
	$(PY) manage.py migrate --noinput -v 0
	$(PY) manage.py load_policy --if-absent

$(STAMP): requirements.lock pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --require-hashes -r requirements.lock
	touch $(STAMP)

# One process with local memory counts its rate limits exactly: the warning that the cache is not
# shared (wizard.W001, wizard/checks.py) is for several workers, so the one-process targets silence
# it (and so do their prerequisites: migrate and load_policy run the checks too). `make serve`
# keeps it, and `check --deploy` still fails on it (wizard.E001).
run checks: export DJANGO_SILENCED_SYSTEM_CHECKS = wizard.W001

run: setup
	$(PY) manage.py runserver 127.0.0.1:8000

# The production profile: DEBUG off, collected static files served by WhiteNoise, gunicorn.
# Set DJANGO_SECRET_KEY, DJANGO_ALLOWED_HOSTS, DATABASE_URL and (behind TLS) DJANGO_HTTPS=1.
serve: setup
	DJANGO_STATIC_FROM_FINDERS=0 $(PY) manage.py collectstatic --noinput -v 0
	DJANGO_STATIC_FROM_FINDERS=0 $(VENV)/bin/gunicorn -c wizard/gunicorn_conf.py

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache

typecheck: $(STAMP)
	$(VENV)/bin/mypy .

checks: $(STAMP)
	$(PY) manage.py check --fail-level WARNING
	$(PY) manage.py makemigrations --check --dry-run

test-sqlite: $(STAMP)
	env -u DATABASE_URL WIZARD_TEST_REDIS_URL=$(REDIS_URL) $(VENV)/bin/pytest

test-postgres: $(STAMP)
	DATABASE_URL=$(PG_URL) WIZARD_TEST_REDIS_URL=$(REDIS_URL) $(VENV)/bin/pytest

test: setup lint typecheck checks test-sqlite test-postgres

# Only the Playwright tests (part of both pytest runs above); prints the page budgets at the end.
test-browser: $(STAMP)
	env -u DATABASE_URL $(VENV)/bin/pytest -m browser tests/browser

bench: $(STAMP)
	$(PY) bench/engine.py
	$(PY) bench/analysis.py
	$(PY) bench/whatif.py
	$(PY) bench/quotes.py
	$(PY) bench/admin_pages.py
	$(PY) bench/citations.py
	$(PY) bench/http_bench.py

# The load and soak test: 50 browsers walking the wizard for 60 s, alternating between two gunicorn
# servers that share PostgreSQL and Redis (REDIS_URL, under a key prefix of the run's own).
load: $(STAMP)
	$(PY) bench/load.py --redis-url $(REDIS_URL)

# Regenerates the lock from pyproject.toml (needs uv: `pip install uv`).
lock:
	uv pip compile pyproject.toml --extra dev --python-version 3.11 --generate-hashes -o requirements.lock

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
