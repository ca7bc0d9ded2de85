#!/usr/bin/env bash
# The demo on a fresh machine: its own virtual environment with wheelnext-jupyter (sidebar
# included) and JupyterLab, then `wheelnext-jupyter demo`, which builds the demo index, serves it
# on 127.0.0.1 and opens JupyterLab on the demo notebook. Arguments go to `wheelnext-jupyter demo`
# (--port, --no-browser, --index-only, --dir).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
VENV=${DEMO_VENV:-.venv-demo}
if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --upgrade pip
fi
# A regular (not editable) install builds the JupyterLab extension (and the native unpacker,
# when scripts/build-deps.sh could provide a compiler and headers) into the wheel.
./scripts/build-deps.sh || true
"$VENV/bin/python" -m pip install --quiet '.[demo]'
exec "$VENV/bin/python" -m wheelnext_jupyter.demo --dir "${DEMO_DIR:-build/demo}" "$@"
