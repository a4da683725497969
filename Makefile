# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
TSTAMP := $(VENV)/.installed-test
BSTAMP := $(VENV)/.installed-browser
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

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

# Browser tests: Debian's Chromium (Playwright's own download does not work here), axe-core,
# and NLM's LHC-Forms (a real FHIR form renderer) for the Questionnaire test. LHC-Forms' browser
# build is all that test needs: its tarball alone (npm pack, checked against the hash below),
# not the 250 MB of Angular sources a full install pulls in.
LFORMS     := lforms-40.1.3
LFORMS_SHA := 288cff4360e8a90a44e994a01422d2cf970170000ce915b5739ccc383097edd9
$(BSTAMP): package.json package-lock.json | $(BIN)/python
	command -v chromium >/dev/null || ($(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium)
	npm ci --no-audit --no-fund --silent
	cd node_modules && npm pack $(subst -,@,$(LFORMS)) --silent >/dev/null \
	  && echo "$(LFORMS_SHA)  $(LFORMS).tgz" | sha256sum --check --quiet \
	  && mkdir -p .$(LFORMS) && tar xzf $(LFORMS).tgz -C .$(LFORMS) --strip-components=3 package/dist/lforms \
	  && rm $(LFORMS).tgz
	touch $@

## make run: migrate the local SQLite database, start the background worker (alerts, reminders,
## audit anchors) and serve crossline at http://127.0.0.1:8000
run: $(STAMP)
	$(BIN)/crossline migrate
	@echo "crossline: open http://127.0.0.1:8000 (Ctrl-C stops the server and the worker)"
	@echo "crossline: clinician workspace at http://127.0.0.1:8000/clinic/ — first account:"
	@echo "           $(BIN)/crossline createuser --email you@example.org --role operator --role physician"
	$(BIN)/crossline worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	$(BIN)/crossline serve --host 127.0.0.1 --port 8000

## make test: lint, type-check, knowledge check, the whole test suite
PG_URL ?= postgres://postgres@127.0.0.1:5432/test

test: $(TSTAMP) $(BSTAMP)
	$(BIN)/ruff check src tests bench
	PYTHONPATH=. $(BIN)/mypy
	$(BIN)/crossline knowledge check
	$(BIN)/python -m pytest
	@echo "== the database tests again, on PostgreSQL ($(PG_URL))"
	DATABASE_URL=$(PG_URL) $(BIN)/python -m pytest -m django_db

lint: $(TSTAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

bench: $(TSTAMP)
	$(BIN)/python bench/engine_throughput.py
	$(BIN)/python bench/flow_burden.py

clean:
	rm -rf $(VENV) node_modules build *.egg-info src/*.egg-info .pytest_cache .mypy_cache .ruff_cache
