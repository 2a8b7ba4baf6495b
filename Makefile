# Bookshelf: every command a developer or CI needs. `make help` lists them.
# uv is installed from PyPI when missing; everything else is installed by uv from uv.lock.

SHELL := /bin/bash
PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null || echo "$(PYTHON) -m uv")
RUN := $(UV) run --frozen
PYTEST := $(RUN) pytest
LINT_PATHS := libs services tools tests bench
SRC_DIRS := $(wildcard libs/*/src services/*/src tools/*/src)

.DEFAULT_GOAL := help
.PHONY: help uv setup setup-run run api-docs test test-unit test-integration test-e2e test-faults lint audit format bench up down logs images clean kafka-lock

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_-]+:.*## / {printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

uv: ## Install uv from PyPI if it is missing
	@command -v uv >/dev/null 2>&1 || $(PYTHON) -m uv --version >/dev/null 2>&1 \
		|| $(PYTHON) -m pip install --quiet --disable-pip-version-check uv

setup: uv ## Install every package of the workspace and the dev tools (from uv.lock) into .venv
	@$(UV) sync --locked --quiet

setup-run: uv ## Install what the system needs to run (from uv.lock), none of the test and lint tools
	@$(UV) sync --locked --quiet --no-dev --inexact

run: setup-run ## Start Apache Kafka + PostgreSQL (data in .bookshelf/) and every service; prints the URLs (Ctrl-C stops)
	@$(UV) run --frozen --no-sync bookshelf run

.PHONY: browser
browser: ## Chromium for the browser test: apt-get install as root, else says how to install it
	@command -v chromium >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) \
				|| echo "make browser: could not install chromium; the browser test will be skipped"; \
		else \
			echo "make browser: Chromium is missing; install it with 'sudo apt-get install chromium'" \
				"(Debian/Ubuntu) or the package of your system; the browser test is skipped without it"; \
		fi; }

test: setup browser ## Everything CI runs: unit, integration, end-to-end, contract tests, then the fault suite's short profile
	@$(PYTEST) -q --durations=25 --ignore=tests/faults
	@BOOKSHELF_FAULTS_PROFILE=short $(PYTEST) -q --durations=10 tests/faults

test-unit: setup ## Unit tests only (no I/O)
	@$(PYTEST) -q -m unit

test-integration: setup ## Integration tests (real PostgreSQL and Apache Kafka)
	@$(PYTEST) -q -m integration

test-e2e: setup browser ## End-to-end tests (every service over HTTP and Kafka)
	@$(PYTEST) -q -m e2e

test-faults: setup ## Fault-injection suite, full profile (make test runs the short one): kills, restarts, bad deliveries, then every invariant
	@$(PYTEST) -q tests/faults

lint: setup ## ruff (lint + format check), mypy, import contracts (layers), OpenAPI/schema drift and the dependency audit
	@$(RUN) ruff check $(LINT_PATHS)
	@$(RUN) ruff format --check $(LINT_PATHS)
	@$(RUN) mypy $(SRC_DIRS)
	@$(RUN) lint-imports
	@$(RUN) python -m tests.contract.openapi_docs --check
	@$(RUN) python -m bookshelf_contracts.export --check
	@UV="$(UV)" $(RUN) python tools/audit_dependencies.py

audit: setup ## Known vulnerabilities of uv.lock (pip-audit over `uv export`; AUDIT_STRICT=1 fails when offline)
	@UV="$(UV)" $(RUN) python tools/audit_dependencies.py

api-docs: setup ## Write the OpenAPI documents (docs/reference/openapi) and the message schemas + AsyncAPI (libs/contracts/schemas)
	@$(RUN) python -m tests.contract.openapi_docs
	@$(RUN) python -m bookshelf_contracts.export

format: setup ## Apply ruff fixes and formatting
	@$(RUN) ruff check --fix $(LINT_PATHS)
	@$(RUN) ruff format $(LINT_PATHS)

bench: setup ## Benchmarks (medians of 3 runs, ~10 min; ONLY=system_bench.py for one); results in bench/results, docs/benchmarks.md
	@ONLY="$(ONLY)" $(RUN) python bench/run.py

# Docker Compose (docs/deploy.md). Other setups: make up COMPOSE_FILES="-f docker-compose.yml -f deploy/compose/prod.yml"
COMPOSE ?= docker compose
COMPOSE_FILES ?= -f docker-compose.yml

up: ## Build the images and start everything on docker compose (real Kafka, PostgreSQL, Prometheus, Grafana); needs a Docker engine
	$(COMPOSE) $(COMPOSE_FILES) up -d --build --wait --wait-timeout 600
	@echo "catalog :8001  ordering :8002  inventory :8003  shipping :8004  storefront-query :8005"
	@echo "fulfillment :8006  observatory :9000  Kafka UI :8080  Prometheus :9090  Grafana :3000 (localhost)"

down: ## Stop docker compose, keeping the data volumes (make down ARGS=-v deletes them)
	$(COMPOSE) $(COMPOSE_FILES) down $(ARGS)

logs: ## Follow docker compose logs (make logs SERVICE=catalog for one service)
	$(COMPOSE) $(COMPOSE_FILES) logs -f --tail=100 $(SERVICE)

images: ## Build the service images localhost/bookshelf/<service>:<BOOKSHELF_IMAGE_TAG, default dev>
	$(COMPOSE) $(COMPOSE_FILES) build

clean: ## Delete the local data of `make run` (.bookshelf/: PostgreSQL and Kafka); the cached Kafka jars stay
	rm -rf .bookshelf

kafka-lock: setup ## Re-resolve the local broker's jars with mvn into libs/infra/.../kafka.lock.json (VERSION=4.4.0)
	@$(RUN) python -m bookshelf_infra.kafka_lock $(VERSION)
