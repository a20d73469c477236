# Overcast: `make up` starts the all-in-one cloud, `make test` runs every test.
PYTHON   ?= python3
VENV     := .venv
BIN      := $(VENV)/bin
DATA_DIR ?= data
SERVICES ?=
STAMP    := $(VENV)/.installed-stamp

.PHONY: install up test test-fast lint tempest bench bench-nova bench-swift clean

$(STAMP): pyproject.toml scripts/install-debian-packages.sh
	scripts/install-debian-packages.sh
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

## Start the all-in-one cloud in the foreground (Ctrl-C stops it, data stays in $(DATA_DIR)).
up: install
	ln -sfn $(DATA_DIR)/clouds.yaml clouds.yaml
	$(BIN)/overcast up --data-dir $(DATA_DIR)

## Lint, type-check, then every test: unit, API (SQLite and PostgreSQL), functional with the
## real openstack CLI and openstacksdk, schemathesis fuzzing, and the Tempest identity, image and compute baselines.
test: lint
	$(BIN)/pytest tests

## Everything but the slow tiers (Tempest, fuzzing), for a quick loop while developing.
test-fast: lint
	$(BIN)/pytest tests -m "not conformance and not fuzz"

lint: install
	$(BIN)/ruff check overcast tests bench
	$(BIN)/ruff format --check overcast tests bench
	$(BIN)/mypy

## Run Tempest against a temporary all-in-one cloud (or a running one: see README).
tempest: install
	$(BIN)/python -m tests.conformance.runner $(if $(SERVICES),--services "$(SERVICES)")

bench: install
	$(BIN)/python bench/identity.py
	$(BIN)/python bench/image.py
	$(BIN)/python bench/scheduler.py
	$(BIN)/python bench/compute.py
	$(BIN)/python bench/object.py

## The object storage benchmark against the real Swift too (installs and starts it).
bench-swift: install
	$(BIN)/python bench/object.py --swift

## The compute benchmark against the real Nova too (installs and starts it: slow).
bench-nova: install
	$(BIN)/python bench/compute.py --nova

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .tempest
