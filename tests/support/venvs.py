"""Throw-away virtual environments for tests that install into a real environment.

`Venv` wraps one venv; `clean_env()` is the environment without this machine's pip configuration.
The fixtures `venv_template` (session) and `venv` (a copy per test) live in `tests/conftest.py`.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Venv:
    root: Path

    @property
    def python(self) -> Path:
        return self.root / "bin" / "python"

    @property
    def site_packages(self) -> Path:
        return next((self.root / "lib").glob("python3*/site-packages"))

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.python), *args], capture_output=True, text=True, env=clean_env(), check=check
        )

    def pip(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.run("-m", "pip", *args, check=check)

    def listing(self) -> dict[str, bytes]:
        """Every file under the venv with its content (our lock file aside)."""
        files: dict[str, bytes] = {}
        for path in sorted(self.root.rglob("*")):
            rel = path.relative_to(self.root).as_posix()
            if ".wheelnext-jupyter/install.lock" in rel:
                continue
            if path.is_symlink():
                files[rel] = b"-> " + str(path.readlink()).encode()
            elif path.is_file():
                files[rel] = path.read_bytes()
            else:
                files[rel + "/"] = b""
        return files


def clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment without the machine's pip configuration (it points to local mirrors)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "PYTHON"))}
    env.update(
        PIP_CONFIG_FILE=os.devnull,
        PIP_NO_INDEX="1",
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        PYTHONDONTWRITEBYTECODE="1",
    )
    env.update(extra or {})
    return env
