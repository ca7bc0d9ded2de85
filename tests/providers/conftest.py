"""Shared fixtures of the provider and detection tests."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from wheelnext_jupyter import detection

CPUINFO = Path(__file__).parents[1] / "data" / "cpuinfo"  # recorded, MIT (LICENSE-MIT there)


@pytest.fixture(autouse=True)
def _private_cache(private_cache_dir: object) -> None:
    """Applies the root `private_cache_dir` fixture (archspec's cached CPU match) to every test."""


@pytest.fixture(autouse=True)
def fresh_detection_cache() -> Iterator[None]:
    """Every test starts and ends without cached detections."""
    detection.clear_cache()
    yield
    detection.clear_cache()


@pytest.fixture
def haswell_root(tmp_path: Path) -> Path:
    """A filesystem root holding a recorded Haswell /proc/cpuinfo and nothing else."""
    (tmp_path / "proc").mkdir()
    shutil.copy(CPUINFO / "linux-rhel7-haswell", tmp_path / "proc" / "cpuinfo")
    return tmp_path
