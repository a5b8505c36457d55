# The two commands a fresh machine needs: `make demo` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev
RUNSTAMP := $(VENV)/.installed

FLOOR := .venv-floor
FLOOR_STAMP := $(FLOOR)/.installed
FLOOR_CONSTRAINTS := ci/constraints-floor.txt
# pytest workers: most of the suite waits (subprocesses, servers, outages), so one more
# worker than this 2-core machine has cores. Bytecode is written during the tests (this
# machine's environment turns it off) so that each `python -m journal` child does not
# compile journal/ again.
WORKERS ?= 3

.PHONY: all install dev demo test test-floor lint fmt bench clean

all: test

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(RUNSTAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev,bench]'
	touch $@ $(RUNSTAMP)

install: $(RUNSTAMP)
dev: $(STAMP)

demo: $(RUNSTAMP)
	$(BIN)/python -m journal demo

lint: $(STAMP)
	$(BIN)/ruff check journal collector tui tests benchmarks migrations docs
	$(BIN)/ruff format --check journal collector tui tests benchmarks migrations docs
	$(BIN)/mypy
	$(BIN)/mypy collector
	$(BIN)/mypy tui
	$(BIN)/mypy tests/typing

fmt: $(STAMP)
	$(BIN)/ruff format journal collector tui tests benchmarks migrations docs
	$(BIN)/ruff check --fix journal collector tui tests benchmarks migrations docs

test: lint
	PYTHONDONTWRITEBYTECODE= $(BIN)/python -m pytest -n $(WORKERS) --dist loadgroup -q -p no:cacheprovider $(PYTEST_ARGS)

# The suite once more against the lowest declared version of every runtime dependency
# (ci/constraints-floor.txt), in its own venv; no lint (`make test` does it), no slow tests.
$(FLOOR_STAMP): pyproject.toml $(FLOOR_CONSTRAINTS)
	$(PY) -m venv $(FLOOR)
	$(FLOOR)/bin/python -m pip install -q --upgrade pip
	$(FLOOR)/bin/pip install -q -c $(FLOOR_CONSTRAINTS) -e '.[dev]'
	touch $@

test-floor: $(FLOOR_STAMP)
	PYTHONDONTWRITEBYTECODE= $(FLOOR)/bin/python -m pytest -n $(WORKERS) --dist loadgroup -q -p no:cacheprovider -m "not slow" $(PYTEST_ARGS)

bench: $(STAMP)
	@for f in benchmarks/bench_*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

clean:
	rm -rf $(VENV) $(FLOOR) .pytest_cache .mypy_cache .ruff_cache .hypothesis build *.egg-info
