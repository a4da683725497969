# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
TSTAMP := $(VENV)/.installed-test

.PHONY: run test lint typecheck unit bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(TSTAMP): pyproject.toml $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

## make run: the terminal assessment (the web issue turns this into the server)
run: $(STAMP)
	$(BIN)/crossline ask

## make test: lint, type-check, knowledge check, the whole test suite
test: $(TSTAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	$(BIN)/crossline knowledge check
	$(BIN)/python -m pytest

lint: $(TSTAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

bench: $(TSTAMP)
	$(BIN)/python bench/engine_throughput.py
	$(BIN)/python bench/flow_burden.py

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info .pytest_cache .mypy_cache .ruff_cache
