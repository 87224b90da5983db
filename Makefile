# One command per action, used alike by people and CI. `make help` lists them.
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
# torch (the CPU build; a looser pin would pull a multi-GB CUDA build) is pinned in this one
# file, which the Dockerfile reads too. Everything else comes from hashed locks (`make lock`).
TORCH_REQ := requirements/torch.txt
LOCK_MAIN := requirements/main.txt
LOCK_DEV := requirements/dev.txt
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help install lock run test lint bench soak clean

help: ## List the commands
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

install: $(STAMP) ## Create .venv and install everything (idempotent)

# torch first, by pip, from its pin; then every other package from the hashed dev lock, exactly
# (--no-deps: nothing unlocked comes in); then the project itself; `pip check` proves the
# lock complete.
$(STAMP): pyproject.toml $(TORCH_REQ) $(LOCK_MAIN) $(LOCK_DEV)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r $(TORCH_REQ)
	$(PY) -m pip install --quiet --require-hashes --no-deps -r $(LOCK_DEV)
	$(PY) -m pip install --quiet --no-deps -e .
	$(PY) -m pip check
	touch $(STAMP)

# pip-compile in a venv of its own, so that .venv holds exactly the lock. The locks are resolved
# against torch's pin with torch left out of them (--unsafe-package); pip must see torch's CPU
# build while resolving, or torch's CUDA libraries would land in the locks (tests/test_install.py
# refuses them): elsewhere than here, PIP_EXTRA_INDEX_URL=<the Dockerfile's TORCH_INDEX_URL>.
# Existing pins are kept; LOCK_ARGS=--upgrade (or --upgrade-package NAME) moves them.
LOCK_VENV := $(VENV)/.lock-tools
LOCK_ARGS ?=
PIP_COMPILE = CUSTOM_COMPILE_COMMAND="make lock" $(LOCK_VENV)/bin/pip-compile --quiet \
	--generate-hashes --strip-extras --unsafe-package torch --no-emit-index-url \
	--no-emit-find-links -c $(TORCH_REQ) $(LOCK_ARGS)

lock: ## Re-resolve the hashed locks requirements/main.txt and dev.txt from pyproject.toml
	test -x $(LOCK_VENV)/bin/pip-compile || { $(PYTHON) -m venv $(LOCK_VENV) \
		&& $(LOCK_VENV)/bin/pip install --quiet "pip-tools==7.7.0"; }
	$(PIP_COMPILE) --output-file $(LOCK_MAIN) pyproject.toml
	$(PIP_COMPILE) --extra dev -c $(LOCK_MAIN) --output-file $(LOCK_DEV) pyproject.toml

run: install ## Start API, worker and scheduler on http://127.0.0.1:8000 (embedded defaults)
	$(VENV)/bin/moderation dev

test: install ## Run every test (needs Redis, PostgreSQL and Chromium; see .ci/run)
	$(PY) -m pytest tests/policy -q --cov=policy --cov-branch --cov-report=term-missing:skip-covered --cov-fail-under=100
	$(PY) -m pytest --ignore=tests/policy
	@# Tests that name no database ran on SQLite above: the same again on PostgreSQL.
	MODERATION_TEST_DATABASE=postgresql $(PY) -m pytest tests/service tests/workers tests/security -q -m default_backend

lint: install ## ruff, ruff format --check, mypy strict and the import layers (import-linter)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

bench: install ## Benchmarks (not tests): ratios measured side by side in one run each
	$(PY) -m bench.scoring
	$(PY) -m bench.pipeline
	$(PY) -m bench.policy
	$(PY) -m bench.perspective
	$(PY) -m bench.worker_events

soak: install ## Steady load through the whole stack for 5 minutes (bounded)
	$(PY) -m bench.soak

clean: ## Remove var/ (the embedded database, broker and secret)
	rm -rf var
