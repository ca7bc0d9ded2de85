"""On-disk HTTP response cache keyed by (URL, Accept), with the freshness rules the client needs.

Each entry is two files named by the key's digest: `<key>.body` (written first) and `<key>.json`
(the headers; written last, so a reader never sees headers without their body). Writes go through a
temporary file and a rename, which keeps concurrent processes from reading half an entry.
"""

# Dozens of entries are read or stored per install, by the threads that are resolving: plain
# strings and `os` calls (pathlib and tempfile took four fifths of the time of storing one).
# ruff: noqa: PTH103, PTH105, PTH108, PTH118, PTH120, PTH123

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
from pathlib import Path

from wheelnext_jupyter.record import Record


class CacheControl(Record):
    max_age: int | None = None
    no_cache: bool = False
    no_store: bool = False
    immutable: bool = False

    @classmethod
    def parse(cls, header: str | None) -> CacheControl:
        max_age: int | None = None
        flags: set[str] = set()
        for part in (header or "").split(","):
            token, _, value = part.strip().partition("=")
            token = token.strip().lower()
            if token == "max-age":
                try:
                    max_age = max(0, int(value.strip().strip('"')))
                except ValueError:
                    max_age = 0
            elif token:
                flags.add(token)
        return cls(
            max_age=max_age,
            no_cache="no-cache" in flags,
            no_store="no-store" in flags,
            immutable="immutable" in flags,
        )


class CacheEntry(Record):
    url: str
    accept: str
    content_type: str | None
    etag: str | None
    last_modified: str | None
    cache_control: str | None
    #: When the response was received (or last revalidated), seconds since the epoch.
    stored_at: float
    body: bytes

    def is_fresh(self, now: float) -> bool:
        """Within max-age and not marked no-cache."""
        control = CacheControl.parse(self.cache_control)
        if control.no_cache or control.no_store or control.max_age is None:
            return False
        return now - self.stored_at < control.max_age


def cache_key(url: str, accept: str) -> str:
    return hashlib.sha256(f"{url}\n{accept}".encode()).hexdigest()


class DiskCache:
    """A directory of cached responses; safe to share between processes."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _paths(self, url: str, accept: str) -> tuple[str, str]:
        """The entry's headers file and body file."""
        key = cache_key(url, accept)
        sub = os.path.join(self.directory, key[:2])
        return os.path.join(sub, f"{key}.json"), os.path.join(sub, f"{key}.body")

    def load(self, url: str, accept: str) -> CacheEntry | None:
        meta_path, body_path = self._paths(url, accept)
        try:
            with open(meta_path, encoding="utf-8") as meta_file:
                meta = json.load(meta_file)
            with open(body_path, "rb") as body_file:
                body = body_file.read()
        except (OSError, ValueError):
            return None
        if not isinstance(meta, dict) or meta.get("size") != len(body) or meta.get("url") != url:
            return None
        try:
            return CacheEntry(
                url=url,
                accept=accept,
                content_type=meta.get("content_type"),
                etag=meta.get("etag"),
                last_modified=meta.get("last_modified"),
                cache_control=meta.get("cache_control"),
                stored_at=float(meta["stored_at"]),
                body=body,
            )
        except (KeyError, TypeError, ValueError):
            return None

    def store(self, entry: CacheEntry) -> None:
        meta_path, body_path = self._paths(entry.url, entry.accept)
        meta = {
            "url": entry.url,
            "accept": entry.accept,
            "content_type": entry.content_type,
            "etag": entry.etag,
            "last_modified": entry.last_modified,
            "cache_control": entry.cache_control,
            "stored_at": entry.stored_at,
            "size": len(entry.body),
        }
        try:
            os.makedirs(os.path.dirname(meta_path), exist_ok=True)
            _atomic_write(body_path, entry.body)
            _atomic_write(meta_path, json.dumps(meta).encode())
        except OSError:
            # A cache that cannot be written only costs speed.
            pass

    def delete(self, url: str, accept: str) -> None:
        for path in self._paths(url, accept):
            with contextlib.suppress(OSError):
                os.unlink(path)


def _atomic_write(path: str, data: bytes) -> None:
    """Write `data` to a new file beside `path` (readable by its owner only), then rename it
    into place. The name is unique to this process and thread; one left by a crash is reused."""
    tmp = f"{os.path.dirname(path)}/.tmp-{os.getpid()}-{threading.get_ident()}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
