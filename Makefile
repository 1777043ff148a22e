# One command table for people and CI: each target does its own set-up on a fresh machine.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
PYTEST_ARGS ?=
# Test processes (pytest-xdist): the tests mostly wait on sockets, sleeps and subprocesses, so
# two share two cores well; tests marked `serial` run alone afterwards.
WORKERS ?= 2

.PHONY: run test test-sqlite test-postgres lint bench quality train install migrate worker clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

## run: serve the dashboard and API with embedded defaults and a demo account
run: $(STAMP)
	$(BIN)/bcrao serve --demo

## test: ruff and mypy, then the whole suite on SQLite, then again on a throw-away PostgreSQL when its binaries exist
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(MAKE) --no-print-directory test-sqlite
	@if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
		$(MAKE) --no-print-directory test-postgres; \
	else echo "PostgreSQL binaries not found: PostgreSQL pass skipped"; fi

test-sqlite: $(STAMP)
	$(BIN)/pytest -q -n $(WORKERS) -m "not serial" $(PYTEST_ARGS)
	$(BIN)/pytest -q -m serial $(PYTEST_ARGS) || [ $$? -eq 5 ]  # 5: PYTEST_ARGS selected none of them

test-postgres: $(STAMP)
	scripts/with-postgres.sh $(BIN)/pytest -q -n $(WORKERS) -m "not browser and not serial" $(PYTEST_ARGS)
	scripts/with-postgres.sh $(BIN)/pytest -q -m "serial and not browser" $(PYTEST_ARGS) || [ $$? -eq 5 ]

## lint: what test checks first: ruff check, ruff format --check, mypy over src/bcrao
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

migrate: $(STAMP)
	$(BIN)/bcrao migrate

worker: $(STAMP)
	$(BIN)/bcrao worker

bench: $(STAMP)
	$(BIN)/python bench/pipeline.py

## quality: filter and classifier figures on the held-out test split (bench/quality.md)
quality: $(STAMP)
	$(BIN)/python bench/quality.py

## train: retrain the shipped model from data/labels (deterministic: same labels, same file)
train: $(STAMP)
	$(BIN)/python scripts/train_model.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
