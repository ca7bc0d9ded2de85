# The two commands a newcomer runs are at the top of README.md.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test venv lint typecheck unit js docs ui clean

## Set up a fresh machine and start the demo: JupyterLab with the sidebar and a demo notebook
## against a local variant index built on the spot (own environment in .venv-demo).
demo:
	./scripts/demo.sh

## Set up a fresh machine (own virtual environment) and run the whole test suite.
test: venv lint typecheck unit js docs ui

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

venv: $(BIN)/python
	./scripts/build-deps.sh
	$(BIN)/python -m pip install --quiet -e '.[test,docs]'

lint:
	$(BIN)/ruff check wheelnext_jupyter tests bench hatch_build.py
	$(BIN)/ruff format --check wheelnext_jupyter tests bench hatch_build.py

typecheck:
	$(BIN)/mypy

# The suite covers the native unpacker and the pure-Python one; the first must have been built.
unit:
	@$(BIN)/python -c "import wheelnext_jupyter.install._unpack" 2>/dev/null || { \
	  echo "the native unpacker was not built: see the output of 'make venv' (scripts/build-deps.sh)" >&2; \
	  exit 1; }
	$(BIN)/pytest

# The sidebar's TypeScript: type check and jest (node_modules come from the editable install's build).
js:
	PATH=$(CURDIR)/$(BIN):$$PATH jlpm lint:check
	PATH=$(CURDIR)/$(BIN):$$PATH jlpm test

# The sidebar in JupyterLab in headless Chromium (Debian's package), against a real kernel.
ui:
	./ui-tests/run.sh

# The user documentation, built strictly (broken links and anchors are errors).
docs:
	$(BIN)/mkdocs build --strict --quiet -d build/site

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache node_modules lib wheelnext_jupyter/labextension
