"""The command line run as a user runs it: `python -m wheelnext_jupyter …` in a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.support.venvs import Venv, clean_env


def wheelnext(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """One command, its output captured; `env` adds to the clean environment."""
    return subprocess.run(
        [sys.executable, "-m", "wheelnext_jupyter", *args],
        capture_output=True,
        text=True,
        env=clean_env(env),
        check=False,
    )


def install_into(
    venv: Venv,
    tmp_path: Path,
    *args: str,
    profile: dict[str, Any],
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """`install --python VENV --profile FILE ARGS…` with a cache of the test's own."""
    path = tmp_path / "profile.json"
    path.write_text(json.dumps(profile))
    own = {"WHEELNEXT_JUPYTER_CACHE_DIR": str(tmp_path / "cache"), **(env or {})}
    return wheelnext(
        "install", "--python", str(venv.python), "--profile", str(path), *args, env=own
    )


def listed(
    venv: Venv, *args: str, env: dict[str, str] | None = None
) -> dict[str, tuple[str, str | None]]:
    """`list --json` of the venv: name -> (version, variant label)."""
    done = wheelnext("list", "--python", str(venv.python), "--json", *args, env=env)
    assert done.returncode == 0, done.stderr
    return {row["name"]: (row["version"], row["variant"]) for row in json.loads(done.stdout)}
