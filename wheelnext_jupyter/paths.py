"""Where wheelnext-jupyter keeps its caches and reads its user configuration."""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "wheelnext-jupyter"
#: Overrides the cache directory; set but empty, caches that can be skipped are skipped.
CACHE_DIR_VARIABLE = "WHEELNEXT_JUPYTER_CACHE_DIR"


def cache_dir() -> Path:
    """The cache directory: HTTP responses, wheels, built wheels, plugin environments."""
    configured = os.environ.get(CACHE_DIR_VARIABLE)
    if configured:
        return Path(configured)
    import platformdirs  # imported late: detection's start-up path does not need it

    return Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))


def user_config_path() -> Path:
    """The user configuration file (TOML; it need not exist): indexes, pins, trusted providers."""
    import platformdirs

    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)) / "config.toml"
