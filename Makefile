# rpmkit — the two commands that matter are `make dashboards` and `make test`.
# Both create or refresh the virtual environment in .venv themselves.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Touched after a successful install; pyproject.toml being newer triggers a re-install.
STAMP := $(VENV)/.installed

DASHBOARD_IP ?= 127.0.0.1
DASHBOARD_PORT ?= 8866
# The committed sample ledger; regenerated only when its invoices table is missing.
SAMPLES := data/samples
PYTEST_ARGS ?=

.DEFAULT_GOAL := help

.PHONY: help venv test lint format dashboards samples bench clean distclean

help:
	@echo "make dashboards  serve the Voila apps at http://$(DASHBOARD_IP):$(DASHBOARD_PORT)"
	@echo "make test        lint, format check and the full pytest suite"
	@echo "make lint        ruff check + ruff format --check"
	@echo "make format      ruff check --fix + ruff format"
	@echo "make bench       run benchmarks/load.py"
	@echo "make venv        create/refresh .venv (pip install -e '.[dev]')"
	@echo "make clean       remove caches and test output (distclean also removes .venv)"

venv: $(STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -e '.[dev]'
	touch $@

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# pytest's exit code 5 (no tests collected) fails the target on purpose.
test: lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

samples: $(STAMP)
	@if [ -z "$(wildcard $(SAMPLES)/invoices.*)" ]; then \
		echo "$(SAMPLES) has no sample ledger; generating it"; \
		$(BIN)/rpmkit sample --out $(SAMPLES); \
	fi

# Server settings (sources stripped, tracebacks hidden, preheated kernels, culling,
# file allowlist, execution timeout) come from voila.json in the repo root only;
# see docs/deployment.md. The "rpmkit" Voila template lives in share/jupyter.
dashboards: samples
	$(BIN)/rpmkit serve --ip=$(DASHBOARD_IP) --port=$(DASHBOARD_PORT)

bench: $(STAMP)
	$(BIN)/python benchmarks/load.py

clean:
	rm -rf .pytest_cache .ruff_cache .hypothesis test-output benchmarks/output
	rm -rf *.egg-info build dist
	find . -path ./$(VENV) -prune -o \
		\( -name __pycache__ -o -name .ipynb_checkpoints \) -type d -print0 \
		| xargs -0 rm -rf

distclean: clean
	rm -rf $(VENV)
