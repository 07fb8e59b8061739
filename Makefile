# The two commands a new engineer needs: `make run` and `make test`.
# Each one creates the virtualenv and installs what it needs on first use.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
API_PORT ?= 8000
SITE_PORT ?= 3000
STAGE ?= dev
PYTEST_ARGS ?=
# `make test` runs test files on 2 workers (pytest-xdist, a file stays on one worker, in
# order; each worker starts its own local stack); PYTEST_WORKERS=0 runs them in one process.
PYTEST_WORKERS ?= 2

export API_PORT SITE_PORT MAIL_SENDER CONFIRMATIONS_PER_ADDRESS_PER_HOUR ALARM_EMAIL

# checkov's own pins clash with ours (docs/dependencies.md): its own virtualenv, with the
# version pinned in requirements-dev.txt.
CHECKOV_VENV ?= .venv-checkov
CHECKOV_PIN := $(shell sed -n 's/^\# *\(checkov==[0-9.]*\).*/\1/p' requirements-dev.txt)
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed

.PHONY: help install run test lint unit browser bench accuracy train-classifier screenshots token plan deploy destroy clean checkov reindex openapi soak

help:
	@echo "make run          start the local stack (moto, API on :$(API_PORT), site on :$(SITE_PORT)); SEED=1 adds demo tickets"
	@echo "make test         lint and run every test (unit, integration, HTTP and browser)"
	@echo "make lint         ruff and mypy only"
	@echo "make bench        measure DynamoDB work per request, cold import time, package size"
	@echo "make accuracy     offline classifier on the labelled sets (fails below the targets); CLAUDE=1 for the Claude path"
	@echo "make train-classifier   retrain the offline model from the development set"
	@echo "make screenshots  PNGs of every view into docs/screenshots/"
	@echo "make plan         build and check both stages' templates (cfn-lint, SAM, package, checkov)"
	@echo "make deploy|destroy STAGE=dev|prod   see README 'Deploy to AWS' (first deploy: MAIL_SENDER=...)"

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

install: $(STAMP)

$(CHECKOV_STAMP): requirements-dev.txt
	@test -n "$(CHECKOV_PIN)" || { echo "no '# checkov==X.Y.Z' line in requirements-dev.txt"; exit 1; }
	@test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check "$(CHECKOV_PIN)"
	@touch $@

checkov: $(CHECKOV_STAMP)

browser:
	@bash tools/ensure-chromium.sh
	@bash tools/ensure-axe.sh

run: install
	$(BIN)/python -m local_stack

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

unit: install
	$(BIN)/python -m pytest tests/unit $(PYTEST_ARGS)

# The two virtualenvs are installed side by side (about a minute saved on a fresh clone).
test:
	@$(MAKE) --no-print-directory -j2 install checkov
	@$(MAKE) --no-print-directory browser lint
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

bench: install
	$(BIN)/python -m tools.bench --write docs/benchmarks.md

# CLAUDE=1 measures the Claude path: the real API with ANTHROPIC_API_KEY, else the local fake.
accuracy: install
	$(BIN)/python -m tools.classifier_accuracy $(if $(CLAUDE),--claude)

train-classifier: install
	$(BIN)/python -m tools.train_classifier

screenshots: install browser
	$(BIN)/python -m tools.screenshots

token: install
	$(BIN)/python -m tools.token

# A bounded load test of the local stack (SOAK_SECONDS, default 300): see tools/soak.py.
soak: install
	$(BIN)/python -m tools.soak --into docs/benchmarks.md

# Rewrite chalicelib/api/openapi.json from tools/openapi_build.py (a test checks they agree).
openapi: install
	$(BIN)/python -m tools.openapi_build

# Build or repair the search index (idempotent, resumable). STAGE=local (default) is the
# stack `make run` started; STAGE=dev|prod is the deployed table (AWS credentials).
# REINDEX_ARGS=--force recomputes tickets already indexed (after the indexed fields change).
reindex: install
	$(BIN)/python -m tools.reindex --stage $(if $(filter command line,$(origin STAGE)),$(STAGE),local) $(REINDEX_ARGS)

# Both stages, whatever STAGE says: checkov audits them side by side, and no AWS is called.
plan: install checkov
	$(BIN)/python -m tools.deploy plan --stage dev --stage prod

# MAIL_SENDER="Support <support@example.com>" is required on a stage's first deploy, then
# remembered by the stack; CONFIRMATIONS_PER_ADDRESS_PER_HOUR=N too (default 3), and
# ALARM_EMAIL=ops@example.com (the alarms' topic emails it; ALARM_EMAIL=none stops). The sender
# reaches the tool through the environment, so its quotes and angle brackets stay intact.
deploy: install
	$(BIN)/python -m tools.deploy deploy --stage $(STAGE) \
		$(if $(MAIL_SENDER),--mail-sender "$$MAIL_SENDER") \
		$(if $(CONFIRMATIONS_PER_ADDRESS_PER_HOUR),--confirmations-per-hour "$$CONFIRMATIONS_PER_ADDRESS_PER_HOUR") \
		$(if $(ALARM_EMAIL),--alarm-email "$$ALARM_EMAIL")

destroy: install
	$(BIN)/python -m tools.deploy destroy --stage $(STAGE)

clean:
	rm -rf build .mypy_cache .ruff_cache .pytest_cache test-results
