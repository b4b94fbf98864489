# The project's commands. `make run` and `make test` are all a fresh clone needs (Python 3.11 + Java 17).
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV   := .venv
PY     := $(VENV)/bin/python
UV_VERSION := 0.13.9
PYTHON ?= $(shell command -v python3.11 || command -v python3)
STAMP  := $(VENV)/.installed
LAKE   := $(PY) -m lakehouse

# Plain `dbt` / `sqlfluff` from this Makefile see the project's profiles and target.
export DBT_PROFILES_DIR := $(CURDIR)/profiles
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help setup up down status logs run import serve ui maintenance test pytest lint format psql docs bench gold-url backup restore env clean \
	cluster-up cluster-down cluster-status dashboard dashboard-down stream

help: ## List the commands
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-9s %s\n", $$1, $$2}'

setup: $(STAMP) ## Create .venv from uv.lock (does nothing when the lock is unchanged)

$(STAMP): uv.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)' 2>/dev/null \
	  || { echo "error: Python 3.11 is required (found: $$($(PYTHON) --version 2>&1)); install python3.11 or set PYTHON=/path/to/python3.11" >&2; exit 1; }
	@command -v java >/dev/null || [ -x "$$JAVA_HOME/bin/java" ] \
	  || echo "warning: Java 17 not found; Spark needs it: apt-get install openjdk-17-jre-headless (Debian/Ubuntu) or brew install openjdk@17 (macOS)" >&2
	@if [ ! -x $(VENV)/bin/uv ]; then \
	  echo "bootstrapping uv $(UV_VERSION) into $(VENV)"; \
	  $(PYTHON) -m venv $(VENV) && $(VENV)/bin/pip install -q uv==$(UV_VERSION); fi
	$(VENV)/bin/uv sync --frozen --python $(PY) --quiet
	@touch $(STAMP)

up: setup ## Start the embedded Spark Thrift Server and PostgreSQL (reuses running ones)
	@$(LAKE) up

down: ## Stop the services `make up` started
	@if [ -x $(PY) ]; then $(LAKE) down; fi

status: setup ## Show the services
	@$(LAKE) status

logs: setup ## Show the end of the service logs
	@$(LAKE) logs

run: setup ## Run the whole pipeline once (Prefect flow) on the embedded services
	@$(PY) -m flows run

import: setup ## Your files to gold: make import FILES="a.xlsx b.csv" [LAYOUT= MAPPING= ENCODING=]
	@test -n "$(FILES)" || { echo 'usage: make import FILES="file-or-folder ..." [LAYOUT=name] [MAPPING=file.toml] [ENCODING=cp1252]' >&2; exit 2; }
	@$(PY) -m flows import $(FILES) $(if $(LAYOUT),--layout "$(LAYOUT)") $(if $(MAPPING),--mapping "$(MAPPING)") $(if $(ENCODING),--encoding "$(ENCODING)")

serve: setup ## Serve the scheduled deployments (Prefect UI on http://127.0.0.1:4200)
	@$(PY) -m flows serve

ui: setup ## Prefect UI over the runs `make run` stored, schedules paused (http://127.0.0.1:4200)
	@$(PY) -m flows ui

maintenance: setup ## Iceberg table maintenance now (compaction, manifests, expired snapshots, orphans)
	@$(PY) -m flows maintenance

test: setup ## All tests against real Spark/Iceberg/PostgreSQL, linters included (see README: Testing)
	$(PY) -m pytest

lint: setup ## ruff and mypy on the Python code, sqlfluff (dbt templater) on the dbt SQL; starts the services it needs
	@$(LAKE) lint

format: setup ## Fix what ruff and sqlfluff can fix (the same files `make lint` checks)
	@$(LAKE) lint --fix

psql: setup ## psql on gold as the read-only BI role (ROLE=writer or owner; the wheel's psql)
	@$(LAKE) psql --role $(ROLE)

docs: setup ## dbt docs as one static page, lake and gold in one lineage graph (<data dir>/dbt/docs/static_index.html)
	@$(LAKE) docs

stream: setup ## Streaming demo: embedded Kafka, generated events published at RATE/s (200), consumed into the lake, transformed to gold per cycle (Ctrl-C stops)
	@$(LAKE) up
	@$(LAKE) kafka up
	@$(PY) -m ingestion publish --rate $(or $(RATE),200) --days $(or $(DAYS),3) --duplicates 0.01 --poison 2 & pub=$$!; \
	  trap 'kill $$pub 2>/dev/null' EXIT INT TERM; \
	  $(PY) -m flows stream

bench: setup ## Run every benchmark in benchmarks/ (prints `name: value unit` lines)
	@for f in benchmarks/bench_*.py; do $(PY) $$f || exit 1; done

cluster-up: setup ## Start a local Spark standalone cluster (master, 2 workers, Thrift server); see README
	@$(LAKE) cluster up

cluster-down: ## Stop that cluster (no JVM of it left behind)
	@if [ -x $(PY) ]; then $(LAKE) cluster down; fi

cluster-status: setup ## Show the cluster's processes
	@$(LAKE) cluster status

dashboard: setup ## Start Apache Superset with the gold dashboards (http://127.0.0.1:8088); see README
	@$(LAKE) dashboard up

dashboard-down: ## Stop Superset (no process of it left behind)
	@if [ -x $(PY) ]; then $(LAKE) dashboard down; fi

ROLE ?= reader
gold-url: setup ## Print the gold URL of the read-only BI role (ROLE=writer or ROLE=owner for the others)
	@$(LAKE) gold-url --role $(ROLE)

backup: setup ## pg_dump the gold database (timestamped, compressed, 7 days kept)
	@$(LAKE) backup

restore: setup ## Restore a backup into a new database: make restore DATABASE=name [BACKUP=file]
	@$(LAKE) restore $(BACKUP) --database "$(DATABASE)"

env: setup ## Print the environment dbt needs: eval "$$(make -s env)"
	@$(LAKE) env

clean: dashboard-down ## Stop the services (and Superset) and delete the data directory
	@if [ -x $(PY) ]; then $(LAKE) clean; else rm -rf .lakehouse; fi
