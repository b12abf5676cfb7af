# Boucle task runner. The README's two commands: `make demo` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

UV_VERSION := 0.13.8
TOOLS := .cache/tools
UV := $(TOOLS)/bin/uv
PY := .venv/bin/python
export UV_CACHE_DIR := $(CURDIR)/.cache/uv
export UV_PYTHON_DOWNLOADS := never
WITH_SERVICES := deploy/local/with-services.sh

# Demo size (override: make demo SITES=40 MONTHS=12 SEED=3); KEEP_RUNNING=1 leaves the
# services, Kafka and FerretDB up afterwards (the dashboard answers).
SITES ?= 4
MONTHS ?= 6
SEED ?= 7
OUT ?= out
KEEP_RUNNING ?=

.PHONY: help setup system-deps kustomize provision demo test check lint typecheck contracts-check specs-check pytest \
        unit integration e2e schemas specs services-up services-down services-status format

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | column -t -s $$'\t'

$(UV):
	python3 -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

.venv/.synced: $(UV) uv.lock pyproject.toml contracts/pyproject.toml libs/runtime/pyproject.toml services/*/pyproject.toml
	$(UV) sync --all-packages --frozen
	@touch $@

setup: .venv/.synced system-deps provision kustomize ## Python dependencies, Chromium, promtool, Kafka, FerretDB, OIDC provider, Mailpit

system-deps: ## Chromium (page tests) and promtool (alert rules) from Debian's packages, when missing
	@missing=""; command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v promtool >/dev/null || missing="$$missing prometheus"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq$$missing; \
	  else echo "missing Debian packages:$$missing (sudo apt-get install$$missing)"; exit 1; fi; \
	fi

kustomize: ## kustomize from the Go module proxy into .cache/bin (manifest tests)
	@deploy/kubernetes/build-kustomize.sh >/dev/null

provision: ## download Kafka from Maven Central, build FerretDB, the OIDC provider and Mailpit (Go module proxy)
	@if docker info >/dev/null 2>&1; then echo "Docker engine found: compose/testcontainers provide Kafka and MongoDB"; \
	  deploy/local/services.sh provision oidc mail; \
	else deploy/local/services.sh provision; fi

demo: setup ## set up, then run the whole loop on a sample network; audit pack in $(OUT)/
	BOUCLE_KEEP_SERVICES=$(if $(KEEP_RUNNING),1,) $(WITH_SERVICES) $(PY) -m tools.demo \
	  --sites $(SITES) --months $(MONTHS) --seed $(SEED) --out $(OUT) $(if $(KEEP_RUNNING),--keep-running,)

test: setup ## every check and every test, with Kafka and MongoDB brought up (and down) as needed
	$(WITH_SERVICES) $(MAKE) --no-print-directory check pytest

check: lint typecheck contracts-check specs-check ## static checks and generated-artefact drift

lint: .venv/.synced
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

format: .venv/.synced
	.venv/bin/ruff format .
	.venv/bin/ruff check --fix .

typecheck: .venv/.synced
	.venv/bin/mypy contracts/src libs/runtime/src services/*/src tests tools bench

contracts-check: .venv/.synced ## committed JSON Schemas match the models, no breaking change
	.venv/bin/boucle-contracts check

specs-check: .venv/.synced ## committed OpenAPI / AsyncAPI / .env.example match the code
	$(PY) tools/specs.py check

schemas: .venv/.synced ## regenerate JSON Schemas (refuses breaking changes)
	.venv/bin/boucle-contracts export

specs: .venv/.synced ## regenerate OpenAPI, AsyncAPI and .env.example files
	$(PY) tools/specs.py export

pytest: .venv/.synced
	.venv/bin/pytest -q

unit: .venv/.synced ## unit tests only (nothing needs to run)
	.venv/bin/pytest -q -m unit

integration: setup
	$(WITH_SERVICES) .venv/bin/pytest -q -m integration

e2e: setup
	$(WITH_SERVICES) .venv/bin/pytest -q -m e2e

services-up: provision ## start local Kafka, FerretDB, OIDC provider and Mailpit; leave them running
	deploy/local/services.sh start
	@echo 'eval "$$(deploy/local/services.sh env)" to point tests and services at them'

services-down: ## stop the local services started by services-up
	deploy/local/services.sh stop

services-status:
	deploy/local/services.sh status
