"""Host and provider tests each get their own cache directory (archspec's cached CPU match)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _private_cache(private_cache_dir: object) -> None:
    """Applies the root `private_cache_dir` fixture to every test here."""
