"""Where wheelnext-jupyter keeps its caches and reads its user configuration."""

from __future__ import annotations

import os
import sys
from pathlib import Path

APP_NAME = "wheelnext-jupyter"
#: Overrides the cache directory; set but empty, caches that can be skipped are skipped.
CACHE_DIR_VARIABLE = "WHEELNEXT_JUPYTER_CACHE_DIR"


def user_base(kind: str) -> Path | None:
    """The per-user base directory of `kind` (`"config"` or `"cache"`) on Linux, where
    platformdirs puts it (the XDG variable, else `~/.config` or `~/.cache`), worked out without
    importing platformdirs, which the command line would otherwise load before its first
    request; None on other systems (and on Android), which ask platformdirs."""
    if not sys.platform.startswith("linux") or "ANDROID_DATA" in os.environ:
        return None
    configured = os.environ.get(f"XDG_{kind.upper()}_HOME", "")
    return Path(configured) if configured.strip() else Path.home() / f".{kind}"


def cache_dir() -> Path:
    """The cache directory: HTTP responses, wheels, built wheels, plugin environments."""
    configured = os.environ.get(CACHE_DIR_VARIABLE)
    if configured:
        return Path(configured)
    base = user_base("cache")
    if base is not None:
        return base / APP_NAME
    import platformdirs

    return Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))


def user_config_path() -> Path:
    """The user configuration file (TOML; it need not exist): indexes, pins, trusted providers."""
    base = user_base("config")
    if base is not None:
        return base / APP_NAME / "config.toml"
    import platformdirs

    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)) / "config.toml"


def file_url_path(url: str) -> Path:
    """The local path a `file:` URL names (its percent escapes decoded once), as
    `urllib.request.url2pathname` reads it. Importing `urllib.request` (http.client, email and
    more) took a find-links install's download threads a quarter of a second, contending for the
    interpreter lock while the resolver ran; its function is `unquote` on POSIX and `nturl2path`'s
    on Windows."""
    from urllib.parse import unquote, urlsplit

    path = urlsplit(url).path
    if os.name == "nt":
        from nturl2path import url2pathname

        return Path(url2pathname(path))
    return Path(unquote(path))
