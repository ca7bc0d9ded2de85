"""Fixtures for install tests (the venv fixtures come from `tests/conftest.py`)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.index_server import IndexServer, IndexTree
from tests.support.venvs import REPO_ROOT
from wheelnext_jupyter.install import archive, staging

#: A target profile with no accelerator: only plain and CPU-level wheels fit.
CPU_PROFILE = {"format": "wheelnext-profile/1", "providers": {}, "host": {}}


@pytest.fixture(scope="session")
def engine_path(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A PYTHONPATH that lets a venv's own python import the engine and its dependencies."""
    import packaging

    deps = tmp_path_factory.mktemp("engine-deps")
    source = Path(packaging.__file__ or "").parent
    (deps / source.name).symlink_to(source)
    return os.pathsep.join([str(REPO_ROOT), str(deps)])


@pytest.fixture
def server(tree: IndexTree) -> Iterator[IndexServer]:
    """A loopback index serving the module's own `tree` fixture."""
    with IndexServer(tree.root) as running:
        yield running


@pytest.fixture(scope="module")
def profile(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The path of a CPU-only target profile."""
    path = tmp_path_factory.mktemp("profile") / "cpu.json"
    path.write_text(json.dumps(CPU_PROFILE))
    return str(path)


@pytest.fixture(params=["native", "python"])
def unpacker(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each test twice: with the native unpacker (`make test` checks that it is built) and with
    the pure-Python one that builds without a compiler use."""
    if request.param == "python":
        monkeypatch.setattr(staging, "_native", None)
        monkeypatch.setattr(archive, "_native", None)
    elif staging._native is None:
        pytest.skip("the native unpacker is not built in this environment")
    return str(request.param)


@pytest.fixture
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every member above 4 KiB takes the block-by-block path of either unpacker."""
    monkeypatch.setattr(staging, "_BLOCK", 4096)
    monkeypatch.setattr(staging, "_native_whole_limit", 0)
