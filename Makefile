# The two commands: `make run` (portal on 127.0.0.1:8000) and `make test` (the whole suite).
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
# Tests never touch the real `portal` database: pytest-django creates test_portal_tests from this URL.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/portal_tests
TEST_BROKER_URL ?= redis://127.0.0.1:6379/14

# Every install takes exact versions with their hashes from the lock files, never the ranges of
# pyproject.toml: requirements/dev.txt (runtime + dev, for .venv) and requirements/runtime.txt (the
# image). `make lock` regenerates both after pyproject.toml changed (tests/test_lock.py fails until then).
LOCK := requirements/dev.txt
RUNTIME_LOCK := requirements/runtime.txt
UV_COMPILE := $(VENV)/bin/uv pip compile pyproject.toml --quiet --generate-hashes --python-version 3.11 \
	--python-platform x86_64-unknown-linux-gnu

.PHONY: run test install lock services browser lint bench bench-background clean

$(VENV)/.installed: $(LOCK)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --require-hashes --no-deps -r $(LOCK)
	touch $@

install: $(VENV)/.installed

# Refresh the locks after pyproject.toml changed: pins already in the lock are kept where the ranges
# allow; `make lock ARGS=--upgrade` moves everything to the newest allowed versions,
# `ARGS="--upgrade-package NAME"` one package. The runtime lock takes the dev lock's versions.
lock: install
	$(UV_COMPILE) --extra dev $(ARGS) -o $(LOCK)
	$(UV_COMPILE) -c $(LOCK) -o $(RUNTIME_LOCK)

# The embedded development mode is asked for explicitly (PORTAL_DEV=1): debug, the dev-only secret
# key, SQLite and in-process tasks unless DATABASE_URL / CELERY_BROKER_URL say otherwise, demo accounts.
# Without it the settings are production's and refuse to start without their variables.
run: install
	PORTAL_DEV=1 $(PY) manage.py setup_portal
	PORTAL_DEV=1 $(PY) manage.py runserver 127.0.0.1:8000

services:
	bash scripts/ensure_services.sh

browser:
	bash scripts/ensure_browser.sh

test: install services browser
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} TEST_BROKER_URL=$${TEST_BROKER_URL:-$(TEST_BROKER_URL)} \
		bash scripts/run_tests.sh $(ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

bench: install services
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/portal_bench} $(PY) bench/run.py $(ARGS)

# needs the database `make bench` set up (100,000 enterprises with their results)
bench-background: install services
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/portal_bench} $(PY) bench/background.py $(ARGS)

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles
