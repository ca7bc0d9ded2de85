"""The TLS context of https index requests, and loading the default one ahead of time.

Without a context of their own, requests trust what httpx would: the system store through
`truststore` when it is installed, else the files `SSL_CERT_FILE` or `SSL_CERT_DIR` name, else
certifi's bundle. Loading a bundle takes 25 to 30 ms, all of it in OpenSSL without the GIL.
`load_ahead()` starts that load on a thread of its own as soon as a command (or the notebook
extension) knows https requests may follow, so that it runs on another core while the process
imports the engine; `default_context()` then takes the context made ahead, unless the trust-store
settings changed meanwhile. Only the standard library is imported here, and `ssl` only once a
context is made.
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING

from wheelnext_jupyter.workers import start_thread

if TYPE_CHECKING:
    import ssl


def default_verify() -> ssl.SSLContext | bool:
    """The system trust store via `truststore` when installed, else True (see `tls_context`).

    An explicit `SSL_CERT_FILE` / `SSL_CERT_DIR` wins over `truststore`.
    """
    if os.environ.get("SSL_CERT_FILE") or os.environ.get("SSL_CERT_DIR"):
        return True
    try:
        import truststore  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return True
    import ssl

    context: ssl.SSLContext = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    return context


def tls_context(verify: ssl.SSLContext | bool) -> ssl.SSLContext:
    """The TLS context `verify` stands for, as httpx reads it: a context as given; False, no
    verification; True, the trust store `SSL_CERT_FILE` or `SSL_CERT_DIR` names, else
    certifi's bundle."""
    import ssl  # here: a command that asks only plain-HTTP indexes never needs it

    if isinstance(verify, ssl.SSLContext):
        return verify
    if not verify:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    if os.environ.get("SSL_CERT_FILE"):
        return ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"])
    if os.environ.get("SSL_CERT_DIR"):
        return ssl.create_default_context(capath=os.environ["SSL_CERT_DIR"])
    import certifi

    return ssl.create_default_context(cafile=certifi.where())


def _settings() -> tuple[str, str]:
    """What `tls_context(True)` reads from the environment."""
    return os.environ.get("SSL_CERT_FILE", ""), os.environ.get("SSL_CERT_DIR", "")


class _Ahead:
    """One load started by `load_ahead`, with the settings it started from."""

    def __init__(self) -> None:
        self.settings = _settings()
        self.context: ssl.SSLContext | None = None
        self.thread = threading.Thread(target=self._load, name="wheelnext-tls", daemon=True)

    def _load(self) -> None:
        try:
            if default_verify() is True:  # not the system store through `truststore`
                self.context = tls_context(True)
        except Exception:
            pass  # the first request makes its own context, and meets and reports the error


_ahead: _Ahead | None = None
_ahead_lock = threading.Lock()


def load_ahead() -> None:
    """Start making `tls_context(True)` on another thread (once per process)."""
    global _ahead
    with _ahead_lock:
        if _ahead is not None:
            return
        _ahead = _Ahead()
        start_thread(_ahead.thread)


def default_context() -> ssl.SSLContext:
    """`tls_context(True)`: the one `load_ahead` made (waited for while it loads) when the
    trust-store settings are still those it started from, else one made now."""
    with _ahead_lock:
        ahead = _ahead
    if ahead is not None:
        ahead.thread.join()
        if ahead.context is not None and ahead.settings == _settings():
            return ahead.context
    return tls_context(True)


__all__ = ["default_context", "default_verify", "load_ahead", "tls_context"]
