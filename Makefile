# tastyguard — the usual targets. `make demo` and `make test` work on a fresh machine: they find or install uv
# (scripts/uv says how) and then exactly the locked dependencies each one needs.
.ONESHELL:
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

# The project's Python (what Lambda runs; the one place it is named, docs are checked against it; not a
# .python-version file, which would switch pyenv users' python3 in this folder): a pyenv one when there is one,
# else uv finds or downloads it. Node (synth and deploy only): package.json "engines".
PYTHON_VERSION := 3.13
PYTHON ?= $(or $(shell ls -d $$HOME/.pyenv/versions/$(PYTHON_VERSION)*/bin/python$(PYTHON_VERSION) 2>/dev/null | sort -V | tail -1),$(PYTHON_VERSION))
UV := scripts/uv
# After an explicit sync: run inside .venv without syncing the default groups again.
RUN := $(UV) run --frozen --no-sync
export UV_PYTHON := $(PYTHON)
export CDK_DISABLE_VERSION_CHECK := 1
export CDK_DISABLE_CLI_TELEMETRY := 1

# What each target installs (--inexact: a smaller sync never removes what a bigger one installed).
SYNC := $(UV) sync --frozen --inexact --quiet
CLI_DEPS := --no-default-groups --extra cli
INFRA_DEPS := --no-default-groups --extra cli --group infra
ALL_DEPS := --all-extras --all-groups

.PHONY: help setup setup-cli setup-infra demo test unit integration chaos lint format typecheck bench layer \
	streamer-requirements synth bootstrap deploy node-check clean

# The CDK CLI is pinned in package.json (npm's `latest` is 3.x). The config to synthesize or deploy:
# CONFIG=path (default tastyguard.yaml); extra CDK flags: CDK_ARGS='-c reserved_concurrency=false'.
CDK := npx --no-install cdk
CONFIG ?= tastyguard.yaml
CDK_ARGS ?=

help:  ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

setup:  ## install uv and every dependency (runtime, CLI, development tools, CDK) from the lock file
	$(SYNC) $(ALL_DEPS)
	touch .venv/.tastyguard-cli

setup-cli:  ## install only what the CLI and the demo run (no development or CDK tools)
	$(SYNC) $(CLI_DEPS)
	touch .venv/.tastyguard-cli

setup-infra:  ## install what synth and deploy run (the CLI's dependencies plus the CDK)
	$(SYNC) $(INFRA_DEPS)
	touch .venv/.tastyguard-cli

demo: setup-cli  ## run the demo: paper broker + embedded AWS, no account needed
	./tastyguard demo

test: setup lint typecheck tests/js/node_modules/.package-lock.json  ## lint, type-check and run every test
	$(RUN) pytest

unit: setup  ## only the fast unit tests
	$(RUN) pytest tests/unit -q

integration: setup  ## only the integration tests (paper broker + moto)
	$(RUN) pytest tests/integration -q

CHAOS_EXAMPLES ?= 2000
chaos: setup  ## the protection state machine with fresh random seeds (CHAOS_EXAMPLES=2000; CI runs 12, fixed)
	TASTYGUARD_CHAOS_RANDOM=1 TASTYGUARD_CHAOS_EXAMPLES=$(CHAOS_EXAMPLES) $(RUN) pytest tests/integration/chaos -q

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

# The streamer image installs exactly these (with hashes): the runtime dependencies plus the `streamer` extra.
STREAMER_EXPORT := --frozen --no-default-groups --extra streamer --no-emit-project --no-header --no-annotate
streamer-requirements: setup  ## export the streamer image's pinned, hashed requirements from the lock file
	$(UV) export $(STREAMER_EXPORT) > streamer/requirements.txt

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

# The third-party JS clients (@tastytrade/api, @dxfeed/dxlink-api, ws) that the JS tests and docs examples run.
tests/js/node_modules/.package-lock.json: tests/js/package.json tests/js/package-lock.json
	cd tests/js && npm ci --no-audit --no-fund --loglevel=error

# jsii (the CDK's bridge to Node) prints a large banner on every synth for a Node past its end of life: say it
# once, in one line, and silence the banner for that major version only.
node-check:
	@major="$$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null)" || { echo "tastyguard: synth and deploy need Node 22 or newer (https://nodejs.org); none found" >&2; exit 1; }
	if (( major < 22 )); then echo "tastyguard: note: Node $$major is past its end of life; use Node 22 or newer (synth still runs)" >&2; fi

CDK_ENV = JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="$$(node -p 'process.versions.node.split(".")[0]')"

synth: setup-infra node_modules/.package-lock.json node-check  ## synthesize CONFIG into cdk.out (no AWS account, no Docker)
	$(RUN) tastyguard config check --quiet $(CONFIG)
	$(CDK_ENV) $(RUN) $(CDK) synth --no-notices --quiet -c config=$(CONFIG) $(CDK_ARGS)

bootstrap: setup-infra node_modules/.package-lock.json node-check  ## once per AWS account and region: cdk bootstrap (needs AWS credentials)
	$(RUN) tastyguard config check --quiet $(CONFIG)
	$(CDK_ENV) $(RUN) $(CDK) bootstrap --no-notices -c config=$(CONFIG) $(CDK_ARGS)

deploy: setup-infra node_modules/.package-lock.json node-check  ## deploy CONFIG into your AWS account (needs AWS credentials)
	$(RUN) tastyguard config check --deploy --quiet $(CONFIG)
	$(CDK_ENV) $(RUN) $(CDK) deploy --no-notices -c config=$(CONFIG) $(CDK_ARGS)

clean:  ## remove build output and caches
	rm -rf cdk.out .build .mypy_cache .ruff_cache .hypothesis
