# One command per action, used alike by people and CI. `make help` lists them.
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
# The CPU build; a looser pin would pull a multi-GB CUDA build.
TORCH_SPEC ?= torch==2.13.0
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help install run test lint bench soak clean

help: ## List the commands
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

install: $(STAMP) ## Create .venv and install everything (idempotent)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet "$(TORCH_SPEC)"
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: install ## Start API, worker and scheduler on http://127.0.0.1:8000 (embedded defaults)
	$(VENV)/bin/moderation dev

test: install ## Run every test (needs Redis, PostgreSQL and Chromium; see .ci/run)
	$(PY) -m pytest tests/policy -q --cov=policy --cov-branch --cov-report=term-missing:skip-covered --cov-fail-under=100
	$(PY) -m pytest --ignore=tests/policy
	@# Tests that name no database ran on SQLite above: the same again on PostgreSQL.
	MODERATION_TEST_DATABASE=postgresql $(PY) -m pytest tests/service tests/workers tests/security -q -k "not sqlite and not postgresql"

lint: install ## ruff and mypy
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

bench: install ## Benchmarks (not tests): ratios measured side by side in one run each
	$(PY) -m bench.scoring
	$(PY) -m bench.pipeline
	$(PY) -m bench.policy
	$(PY) -m bench.perspective

soak: install ## Steady load through the whole stack for 5 minutes (bounded)
	$(PY) -m bench.soak

clean: ## Remove var/ (the embedded database, broker and secret)
	rm -rf var
