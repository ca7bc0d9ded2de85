"""Fixtures for index tests: a loopback index server over a directory the test fills."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.index_server import IndexServer, IndexTree


@pytest.fixture
def tree(tmp_path: Path) -> IndexTree:
    return IndexTree(tmp_path / "index")


@pytest.fixture
def server(tree: IndexTree) -> Iterator[IndexServer]:
    tree.root.mkdir(parents=True, exist_ok=True)
    with IndexServer(tree.root) as running:
        yield running
