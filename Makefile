# tastyguard — the usual targets. `make demo` and `make test` work on a fresh machine: they install
# uv (pinned) and every dependency from the lock file first.
.ONESHELL:
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

UV_VERSION := 0.13.9
# Lambda runs Python 3.13: use it when pyenv has it, else whatever python3 is.
PYTHON ?= $(or $(shell ls -d $$HOME/.pyenv/versions/3.13*/bin/python3.13 2>/dev/null | sort -V | tail -1),$(shell command -v python3))
UV := python3 -m uv
RUN := $(UV) run --frozen --all-extras
export UV_PYTHON := $(PYTHON)
export CDK_DISABLE_VERSION_CHECK := 1
export CDK_DISABLE_CLI_TELEMETRY := 1

.PHONY: help setup demo test unit integration lint format typecheck bench layer synth deploy clean

# The CDK CLI is pinned in package.json (npm's `latest` is 3.x); pass extra flags with CDK_ARGS='-c config=prod.yaml'.
CDK := npx --no-install cdk
CDK_ARGS ?=

help:  ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

setup:  ## install uv and every dependency from the lock file
	python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet --disable-pip-version-check 'uv==$(UV_VERSION)'
	$(UV) sync --frozen --all-extras --quiet

demo: setup  ## run the demo: paper broker + embedded AWS, no account needed
	$(RUN) tastyguard demo

test: setup lint typecheck tests/js/node_modules/.package-lock.json  ## lint, type-check and run every test
	$(RUN) pytest

unit: setup  ## only the fast unit tests
	$(RUN) pytest tests/unit -q

integration: setup  ## only the integration tests (paper broker + moto)
	$(RUN) pytest tests/integration -q

lint: setup  ## ruff lint + format check
	$(RUN) ruff check .
	$(RUN) ruff format --check .

format: setup  ## apply ruff's fixes and formatting
	$(RUN) ruff check --fix .
	$(RUN) ruff format .

typecheck: setup  ## mypy (strict on the core package)
	$(RUN) mypy

bench: setup  ## run the benchmarks in bench/ and print their reports
	for script in bench/bench_*.py; do $(RUN) python "$$script"; done

layer: setup  ## export the pinned dependency-layer requirements from the lock file
	$(UV) export --frozen --no-default-groups --no-emit-project --no-hashes --no-header --no-annotate --prune boto3 --prune botocore > layers/deps/requirements.txt

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

# The third-party JS clients (@tastytrade/api, @dxfeed/dxlink-api, ws) that the JS tests and docs examples run.
tests/js/node_modules/.package-lock.json: tests/js/package.json tests/js/package-lock.json
	cd tests/js && npm ci --no-audit --no-fund --loglevel=error

synth: setup node_modules/.package-lock.json  ## synthesize the CDK app into cdk.out (no AWS account, no Docker)
	$(RUN) $(CDK) synth --no-notices --quiet $(CDK_ARGS)

deploy: setup node_modules/.package-lock.json  ## deploy the stack into your AWS account (needs credentials)
	$(RUN) $(CDK) deploy --no-notices $(CDK_ARGS)

clean:  ## remove build output and caches
	rm -rf cdk.out .build .mypy_cache .ruff_cache .hypothesis
