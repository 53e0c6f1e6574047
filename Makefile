# The two commands: `make run` (portal on 127.0.0.1:8000) and `make test` (the whole suite).
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/portal
TEST_BROKER_URL ?= redis://127.0.0.1:6379/14

.PHONY: run test install services browser lint bench bench-background clean

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet ".[dev]"
	touch $@

install: $(VENV)/.installed

run: install
	$(PY) manage.py setup_portal
	$(PY) manage.py runserver 127.0.0.1:8000

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
