"""Fixtures for the packse scenario tests: the scenarios and one loopback index holding them all."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.peers.packse_index import build_index
from tests.peers.packse_scenarios import Scenario, load_scenarios
from tests.support.index_server import IndexServer


@pytest.fixture(scope="session")
def scenarios() -> dict[str, Scenario]:
    return {scenario.name: scenario for scenario in load_scenarios()}


@pytest.fixture(scope="session")
def packse_index(
    scenarios: dict[str, Scenario], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[IndexServer]:
    """Every scenario's packages on one index (about 1,050 files, built once per session)."""
    root: Path = tmp_path_factory.mktemp("packse") / "index"
    with build_index(scenarios.values(), root).server() as server:
        yield server
