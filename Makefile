# Two commands matter: `make run` and `make test`. Both reuse `make setup`, which is idempotent:
# it rebuilds .venv only when requirements.lock changes.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PG_URL ?= postgres://postgres@127.0.0.1:5432/test

.PHONY: setup run test lint typecheck checks test-sqlite test-postgres bench lock clean

setup: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --require-hashes -r requirements.lock
	touch $(STAMP)

run: setup
	mkdir -p staticfiles
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_policy --if-absent
	$(PY) manage.py runserver 127.0.0.1:8000

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: setup
	$(VENV)/bin/mypy .

checks: setup
	$(PY) manage.py check --fail-level WARNING
	$(PY) manage.py makemigrations --check --dry-run

test-sqlite: setup
	env -u DATABASE_URL $(VENV)/bin/pytest

test-postgres: setup
	DATABASE_URL=$(PG_URL) $(VENV)/bin/pytest

test: lint typecheck checks test-sqlite test-postgres

bench: setup
	$(PY) bench/engine.py

# Regenerates the lock from pyproject.toml (needs uv: `pip install uv`).
lock:
	uv pip compile pyproject.toml --extra dev --python-version 3.11 --generate-hashes -o requirements.lock

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
