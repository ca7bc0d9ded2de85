"""Keep every test away from the user's own caches and configuration files."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.venvs import Venv, clean_env


@pytest.fixture(autouse=True, scope="session")
def isolated_user_dirs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Caches and the user config file (indexes, pins, trusted providers) live in a temporary
    directory for the whole run; subprocesses inherit the same setting."""
    saved = {key: os.environ.get(key) for key in ("WHEELNEXT_JUPYTER_CACHE_DIR", "XDG_CONFIG_HOME")}
    os.environ["WHEELNEXT_JUPYTER_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))
    os.environ["XDG_CONFIG_HOME"] = str(tmp_path_factory.mktemp("config"))
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="session")
def venv_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One real virtual environment (with pip) per test session."""
    root = tmp_path_factory.mktemp("template") / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", str(root)], check=True, env=clean_env(), timeout=300
    )
    return root


@pytest.fixture
def venv(venv_template: Path, tmp_path: Path) -> Venv:
    """A fresh copy of the template venv for one test."""
    root = tmp_path / "venv"
    shutil.copytree(venv_template, root, symlinks=True)
    return Venv(root)


@pytest.fixture
def private_cache_dir(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """A cache directory of this test's own (e.g. for archspec's cached CPU match)."""
    from wheelnext_jupyter.host.target_cache import CACHE_DIR_VARIABLE

    directory = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv(CACHE_DIR_VARIABLE, str(directory))
    return directory
