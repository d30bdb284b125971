# audiochain — run `make help` for the list of targets.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PYTEST_WORKERS ?= 2

.DEFAULT_GOAL := help
.PHONY: help install lint typecheck test test-unit test-functional test-e2e bench clean

help: ## Show this list of targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  %-16s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[local,dev]'
	@touch $(STAMP)

install: $(STAMP) ## Create .venv and install the project with its local and dev extras

lint: $(STAMP) ## ruff (lint + format check) and mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy shared localcloud functions

test: lint ## Lint, type-check and run every test tier (the CI command)
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) tests

test-unit: $(STAMP) ## Unit tests only (no sockets)
	$(BIN)/python -m pytest tests/unit

test-functional: $(STAMP) ## Functional tests (localcloud in process or on loopback)
	$(BIN)/python -m pytest tests/functional

test-e2e: $(STAMP) ## End-to-end tests (the whole chain)
	$(BIN)/python -m pytest tests/e2e

bench: $(STAMP) ## Benchmarks (figures go to bench/RESULTS.md by hand)
	$(BIN)/python -m bench

clean: ## Remove the virtual environment and caches
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build dist *.egg-info
