"""Keep archspec's cached CPU match (host.target_cache) out of the user's cache directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from wheelnext_jupyter.host.target_cache import CACHE_DIR_VARIABLE


@pytest.fixture(autouse=True)
def private_cache_dir(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    directory = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv(CACHE_DIR_VARIABLE, str(directory))
    return directory
