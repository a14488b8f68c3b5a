# The README's commands. `make run` serves Opencall on SQLite with demo data, in local mode (plain http on
# 127.0.0.1, which it asks for explicitly: `opencall serve` alone runs the production settings); `make test` runs the suite
# (SQLite, and PostgreSQL too when OPENCALL_TEST_POSTGRES holds a URL); `make check` is what CI runs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The default run leaves out the long sweeps marked `slow` (full conformance runs, the demo-page crawl);
# `make test PYTEST_ARGS=` runs everything.
PYTEST_ARGS ?= -m "not slow"

.PHONY: run test test-fast check lint typecheck bench lock clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"

$(VENV)/.base: requirements/base.lock pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r requirements/base.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

$(VENV)/.dev: requirements/dev.lock pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r requirements/dev.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@ $(VENV)/.base

run: $(VENV)/.base
	$(BIN)/opencall serve --local --demo

test: $(VENV)/.dev
	@echo "== on SQLite"
	OPENCALL_TEST_POSTGRES= $(BIN)/python -m pytest $(PYTEST_ARGS)
	@if [ -n "$$OPENCALL_TEST_POSTGRES" ]; then \
		echo "== again on PostgreSQL ($$OPENCALL_TEST_POSTGRES)"; \
		$(BIN)/python -m pytest $(PYTEST_ARGS); \
	fi

lint: $(VENV)/.dev
	$(BIN)/ruff check src tests bench
	$(BIN)/lint-imports

typecheck: $(VENV)/.dev
	$(BIN)/mypy src

check: lint typecheck test

bench: $(VENV)/.dev
	$(BIN)/python bench/budgeting
	$(BIN)/python bench/ranking
	$(BIN)/python bench/assignment

lock:
	$(BIN)/pip-compile --generate-hashes --no-emit-index-url --no-emit-trusted-host --no-emit-find-links \
		--strip-extras --allow-unsafe -q -o requirements/base.lock pyproject.toml
	$(BIN)/pip-compile --generate-hashes --no-emit-index-url --no-emit-trusted-host --no-emit-find-links \
		--strip-extras --allow-unsafe --extra dev -q -o requirements/dev.lock pyproject.toml

clean:
	rm -rf $(VENV) var test-artifacts .pytest_cache .mypy_cache .ruff_cache
