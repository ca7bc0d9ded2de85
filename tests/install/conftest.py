"""Fixtures for install tests (the venv fixtures come from `tests/conftest.py`)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support.venvs import REPO_ROOT


@pytest.fixture(scope="session")
def engine_path(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A PYTHONPATH that lets a venv's own python import the engine and its dependencies."""
    import filelock
    import packaging

    deps = tmp_path_factory.mktemp("engine-deps")
    for module in (packaging, filelock):
        source = Path(module.__file__ or "").parent
        (deps / source.name).symlink_to(source)
    return os.pathsep.join([str(REPO_ROOT), str(deps)])
