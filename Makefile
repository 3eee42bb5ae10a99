# RefundDesk — `make help` lists what you can do.
.DEFAULT_GOAL := help
SHELL := /bin/bash

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PG_TEST_URL ?= postgres://refunddesk:refunddesk@127.0.0.1:5432/refunddesk
PYTEST_ARGS ?=
# The package as a production install with REFUNDDESK_COMPILE=1 builds it (setup.py): the
# policy engine's hot path compiled with mypyc. Rebuilt when any file under src/ changes.
COMPILED := build/compiled
SOURCES := $(shell find src/refunddesk -type f -not -path '*/__pycache__/*')

.PHONY: help setup run test test-sqlite test-pg test-compiled compiled lint messages bench clean

help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | \
	  awk 'BEGIN {FS = ":.*## "}; {printf "  make %-14s %s\n", $$1, $$2}'

setup: $(VENV)/.installed ## Create .venv and install RefundDesk with its development tools

$(VENV)/.installed: pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $@

run: setup ## Migrate, load demo data and serve http://127.0.0.1:8000 with the worker
	$(BIN)/refunddesk demo

# The SQLite and PostgreSQL runs share nothing (each its own database, files and ports), so
# they run side by side: each is mostly one core of Python, and CI's time nearly halves.
# Each run's output is printed whole when it ends (--output-sync).
test: setup ## The whole suite: the compiled engine, then SQLite and PostgreSQL side by side (PostgreSQL required when CI=true)
	$(MAKE) --no-print-directory test-compiled
	@if $(BIN)/python -c 'import sys, psycopg; psycopg.connect(sys.argv[1], connect_timeout=3).close()' \
	    "$(PG_TEST_URL)" 2>/dev/null; then \
	  $(MAKE) --no-print-directory -j2 --output-sync=target test-sqlite test-pg; \
	elif [ "$(CI)" = "true" ]; then \
	  echo "PostgreSQL is not reachable at PG_TEST_URL; CI must run the suite on it." >&2; exit 1; \
	else \
	  $(MAKE) --no-print-directory test-sqlite && \
	  echo "PostgreSQL is not reachable at PG_TEST_URL: the PostgreSQL run was skipped" \
	       "(see docs/development.md)."; \
	fi

test-sqlite: setup ## The suite on SQLite
	DATABASE_URL= $(BIN)/pytest $(PYTEST_ARGS)

test-compiled: compiled ## The policy engine's tests against its compiled build
	@PYTHONPATH=$(COMPILED) $(BIN)/python -c 'import sys, refunddesk.policy.engine as e; \
	  sys.exit("the engine under test is not the compiled one" if e.__file__.endswith(".py") else 0)'
	DATABASE_URL= PYTHONPATH=$(COMPILED) $(BIN)/pytest $(PYTEST_ARGS) tests/policy

compiled: $(COMPILED)/.built ## Build the package with the policy engine compiled (build/compiled)

$(COMPILED)/.built: $(VENV)/.installed setup.py pyproject.toml $(SOURCES)
	rm -rf build  # setuptools keeps copies there, of deleted files too
	REFUNDDESK_COMPILE=1 $(BIN)/python -m pip install --quiet --no-deps --no-build-isolation \
	  --target $(COMPILED) .
	@touch $@

test-pg: setup ## The suite on PostgreSQL (PG_TEST_URL, default a local refunddesk database)
	DATABASE_URL="$(PG_TEST_URL)" $(BIN)/pytest $(PYTEST_ARGS)

lint: setup ## ruff on everything, mypy --strict on src/refunddesk
	$(BIN)/ruff check .
	$(BIN)/mypy src/refunddesk

messages: setup ## Extract new strings into the .po catalogues (needs GNU gettext), then compile them
	cd src/refunddesk && ../../$(BIN)/refunddesk makemessages -l zh_Hans --no-location --no-obsolete
	$(BIN)/pybabel compile --domain django --directory src/refunddesk/locale --statistics

bench: setup compiled ## Benchmarks of the production build; each prints `name: value` lines
	@for script in bench/bench_*.py; do \
	  PYTHONPATH=$(COMPILED) $(BIN)/python "$$script" || exit 1; done

clean: ## Remove the virtual environment and local data (var/)
	rm -rf $(VENV) var build .pytest_cache .ruff_cache .mypy_cache .hypothesis
