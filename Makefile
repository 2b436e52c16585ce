# Townhall: `make run` serves the app, `make test` runs every test. Both set themselves up.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
CODE_DIRS := $(wildcard src tests bench)
MYPY_DIRS := $(wildcard src/townhall tests bench)

.PHONY: run test check format bench demo clean system-deps

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null || { echo "Townhall needs $(PYTHON) on PATH"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dev]"
	@touch $@ $(VENV)/.installed-run

## run: set up, migrate and serve on http://$(HOST):$(PORT) with SQLite under ./var
run: $(VENV)/.installed-run
	$(BIN)/townhall serve --host $(HOST) --port $(PORT)

## demo: load demo users, follows and posts into ./var
demo: $(VENV)/.installed-run
	$(BIN)/townhall demo

## system-deps: Debian packages the tests need (Chromium for browser tests)
system-deps:
	@scripts/install-system-deps

## test: set up and run the whole suite (SQLite and PostgreSQL, browser included)
test: $(VENV)/.installed-dev system-deps
	$(BIN)/pytest

## check: formatting, lint and strict typing
check: $(VENV)/.installed-dev
	$(BIN)/ruff format --check $(CODE_DIRS)
	$(BIN)/ruff check $(CODE_DIRS)
	$(BIN)/mypy $(MYPY_DIRS)

format: $(VENV)/.installed-dev
	$(BIN)/ruff format $(CODE_DIRS)
	$(BIN)/ruff check --fix $(CODE_DIRS)

## bench: the timeline benchmark (see bench/README.md)
bench: $(VENV)/.installed-dev
	$(BIN)/python bench/timeline.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
