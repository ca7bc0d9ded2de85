# The two commands a newcomer runs are at the top of README.md.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: test venv lint typecheck unit clean

## Set up a fresh machine (own virtual environment) and run the whole test suite.
test: venv lint typecheck unit

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

venv: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'

lint:
	$(BIN)/ruff check wheelnext_jupyter tests bench
	$(BIN)/ruff format --check wheelnext_jupyter tests bench

typecheck:
	$(BIN)/mypy

unit:
	$(BIN)/pytest

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
