"""Credentials for index hosts: from the URLs the user gave, then from netrc."""

from __future__ import annotations

import netrc
import os
import threading
from pathlib import Path
from urllib.parse import urlsplit

from wheelnext_jupyter.index.redact import strip_credentials

Credentials = tuple[str, str]


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), (parts.hostname or "").lower() + (
        f":{parts.port}" if parts.port else ""
    )


class CredentialStore:
    """Remembers credentials per origin so that file URLs on an index's host reuse them."""

    def __init__(self, netrc_file: Path | str | None = None, *, use_netrc: bool = True) -> None:
        self._by_origin: dict[tuple[str, str], Credentials] = {}
        self._lock = threading.Lock()
        self._netrc_file = netrc_file
        self._use_netrc = use_netrc
        self._netrc: netrc.netrc | None = None
        self._netrc_loaded = False

    def remember(self, url: str) -> str:
        """Record the credentials embedded in `url`; return the URL without them."""
        clean, creds = strip_credentials(url)
        if creds is not None:
            with self._lock:
                self._by_origin[_origin(clean)] = creds
        return clean

    def lookup(self, url: str) -> Credentials | None:
        """Credentials for a request to `url` (already stripped of userinfo)."""
        with self._lock:
            found = self._by_origin.get(_origin(url))
        if found is not None:
            return found
        return self._from_netrc(urlsplit(url).hostname or "")

    def _from_netrc(self, host: str) -> Credentials | None:
        if not self._use_netrc or not host:
            return None
        with self._lock:
            if not self._netrc_loaded:
                self._netrc_loaded = True
                path = self._netrc_file or os.environ.get("NETRC") or Path.home() / ".netrc"
                try:
                    self._netrc = netrc.netrc(str(path))
                except (OSError, netrc.NetrcParseError):
                    self._netrc = None
            if self._netrc is None:
                return None
            entry = self._netrc.authenticators(host)
        if entry is None:
            return None
        login, _account, password = entry
        return (login or "", password or "")
