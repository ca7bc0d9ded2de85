#!/usr/bin/env bash
# Browser tests of the sidebar: headless Debian Chromium (no browser download), JupyterLab with
# the working tree's build of the sidebar, a real kernel and a loopback index.
# Run from anywhere after `make venv`; extra arguments go to `playwright test`.
set -euo pipefail
cd "$(dirname "$0")"
ROOT="$(cd .. && pwd)"
export PATH="$ROOT/.venv/bin:$PATH" CI=1 PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
export CHROMIUM_PATH="${CHROMIUM_PATH:-/usr/lib/chromium/chromium}"

if [ ! -x "$CHROMIUM_PATH" ]; then
  SUDO=""
  if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends chromium fonts-liberation
fi

# npm ci only when node_modules was not installed from this lockfile (it takes a minute or two).
STAMP=node_modules/.installed-from-package-lock.json
if ! cmp -s package-lock.json "$STAMP" 2>/dev/null; then
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json "$STAMP"
fi

# Rebuild the sidebar when its sources are newer than the build the server will load.
BUILT="$ROOT/wheelnext_jupyter/labextension/package.json"
if [ ! -f "$BUILT" ] || [ -n "$(find "$ROOT/labextension" "$ROOT/package.json" -newer "$BUILT" -print -quit)" ]; then
  (cd "$ROOT" && jlpm build:lib:prod && jlpm build:labextension)
fi

mkdir -p "$ROOT/docs/images"
# Playwright starts JupyterLab and the index (webServer) and stops them when it exits.
exec npx playwright test "$@"
