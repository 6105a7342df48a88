# Two entry points for a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo serve test install install-test install-browser lint

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -e .

install-test: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test,dev]'

demo: install
	$(BIN)/runstream demo --keep-serving

serve: install
	$(BIN)/runstream serve

# Debian's chromium and the Playwright driver for the browser tests; without them
# (no root, no network) those tests skip locally and fail in CI.
install-browser: install-test
	-bash .ci/install-browser

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy runstream/domain runstream/application
	$(BIN)/mypy runstream/entrypoints runstream/adapters

# Two pytest-xdist workers: most tests wait on servers, failovers and leases, so
# two at once on two cores halve the suite's wall time. TEST_WORKERS=0 runs it
# in one process.
TEST_WORKERS ?= 2

test: lint install-browser
	$(BIN)/python -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)
