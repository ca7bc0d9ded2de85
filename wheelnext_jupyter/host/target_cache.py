"""A file cache of archspec's microarchitecture match, so that a new kernel need not import archspec.

Importing archspec and matching costs more than the rest of CPU detection many times over, and
the answer only changes when the CPU facts, the archspec installation or our matching code
change. Each entry is keyed on all three: the facts the match reads, the size and modification
time of archspec's code and JSON, and of the module that does the matching. When archspec is
pointed at other JSON files (`ARCHSPEC_CPU_DIR`, `ARCHSPEC_EXTENSION_CPU_DIR`) nothing is cached.

The file lives in the user cache directory (`WHEELNEXT_JUPYTER_CACHE_DIR` overrides it; set it
empty to switch the cache off). It is written with `marshal` because reading it must not import
anything, and is named per interpreter version because that format is. Every failure to read or
write it is silent: the cache can only save time, never change an answer.
"""

from __future__ import annotations

import contextlib
import marshal
import os
import sys
from pathlib import Path

from wheelnext_jupyter.paths import APP_NAME, CACHE_DIR_VARIABLE, user_base

#: archspec reads other JSON files when these are set; its answer is then not ours to cache.
ARCHSPEC_VARIABLES = ("ARCHSPEC_CPU_DIR", "ARCHSPEC_EXTENSION_CPU_DIR")
#: archspec files whose content decides a match.
ARCHSPEC_FILES = (
    "__init__.py",
    "cpu/alias.py",
    "cpu/detect.py",
    "cpu/microarchitecture.py",
    "cpu/schema.py",
    "json/cpu/microarchitectures.json",
)
#: Entries kept; more than one machine may share a home directory.
MAX_ENTRIES = 16

Key = tuple[object, ...]
Value = tuple[object, ...]


def cache_dir() -> Path | None:
    """Where the cache file goes, or None when caching is switched off."""
    configured = os.environ.get(CACHE_DIR_VARIABLE)
    if configured is not None:
        return Path(configured) if configured else None
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / APP_NAME
    base = user_base("cache")
    if base is not None:
        return base / APP_NAME
    import platformdirs  # other systems: the same place the other caches use

    return Path(platformdirs.user_cache_dir(APP_NAME))


def cache_file(directory: Path) -> Path:
    return directory / f"cpu-target-{sys.implementation.cache_tag}.marshal"


def _stamp(path: Path) -> tuple[str, int, int]:
    found = path.stat()
    return (str(path), found.st_size, found.st_mtime_ns)


def fingerprint(matcher_file: str) -> Key | None:
    """What the match depends on besides the CPU facts; None when that cannot be known."""
    if any(name in os.environ for name in ARCHSPEC_VARIABLES):
        return None
    from importlib.machinery import PathFinder

    loaded = sys.modules.get("archspec")
    locations = list(getattr(loaded, "__path__", ()) or ())
    if not locations:
        spec = PathFinder.find_spec("archspec")
        locations = list(spec.submodule_search_locations or ()) if spec else []
    if not locations:
        return None
    try:
        return (
            _stamp(Path(matcher_file)),
            *(_stamp(Path(locations[0], name)) for name in ARCHSPEC_FILES),
        )
    except OSError:
        return None


def _read(path: Path) -> dict[Key, Value]:
    try:
        with path.open("rb") as handle:
            data = marshal.load(handle)
    except (OSError, EOFError, ValueError, TypeError):
        return {}
    return data if isinstance(data, dict) else {}


def load(key: Key) -> Value | None:
    """The cached value of `key`, or None."""
    directory = cache_dir()
    if directory is None:
        return None
    value = _read(cache_file(directory)).get(key)
    return value if isinstance(value, tuple) else None


def store(key: Key, value: Value) -> None:
    """Remember `value` under `key` (best effort; concurrent writers replace whole files)."""
    directory = cache_dir()
    if directory is None:
        return
    path = cache_file(directory)
    entries = _read(path)
    entries.pop(key, None)
    entries[key] = value
    while len(entries) > MAX_ENTRIES:
        entries.pop(next(iter(entries)))
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with temporary.open("wb") as handle:
            marshal.dump(entries, handle)
        temporary.replace(path)
    except (OSError, ValueError):
        with contextlib.suppress(OSError):
            temporary.unlink()
