"""The httpx client behind `HttpClient`, for what the direct path (`index.transfer`) does not
take: a proxy the environment names, a body in an encoding it did not offer, and a transport
given by a caller (tests). Imported only when one of those happens: httpx alone takes about as
long to import as the rest of the engine's network code.
"""

from __future__ import annotations

import ssl
import threading
import urllib.request
from collections.abc import Callable

import httpx


class _SchemeTransport(httpx.BaseTransport):
    """httpx's own transport, one for plain HTTP and one for HTTPS, each made when first used:
    the HTTPS one needs the client's TLS context."""

    def __init__(self, context: Callable[[], ssl.SSLContext], limits: httpx.Limits) -> None:
        self._context = context
        self._limits = limits
        self._made: dict[str, httpx.HTTPTransport] = {}
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self._for(request.url.scheme).handle_request(request)

    def _for(self, scheme: str) -> httpx.HTTPTransport:
        secure = scheme == "https"
        key = "https" if secure else "http"
        with self._lock:
            made = self._made.get(key)
        if made is None:
            # A plain connection never uses its TLS settings: no trust store is loaded for it.
            verify: ssl.SSLContext | bool = self._context() if secure else False
            fresh = httpx.HTTPTransport(verify=verify, limits=self._limits)
            with self._lock:
                made = self._made.setdefault(key, fresh)
            if made is not fresh:
                fresh.close()  # another thread made one first
        return made

    def close(self) -> None:
        with self._lock:
            made, self._made = list(self._made.values()), {}
        for transport in made:
            transport.close()


def make_client(
    *,
    context: Callable[[], ssl.SSLContext],
    verify: ssl.SSLContext | bool,
    timeout: float,
    max_connections: int,
    headers: dict[str, str],
    transport: httpx.BaseTransport | None,
) -> httpx.Client:
    """A pooled client using the TLS context `context()` makes (when HTTPS is first used);
    `verify` is what a caller's `transport` is given."""
    limits = httpx.Limits(max_connections=max_connections)
    # httpx applies the environment's proxies only with its own transport: then it keeps it.
    proxies = urllib.request.getproxies()
    own = transport is None and not any(proxies.get(k) for k in ("http", "https", "all"))
    return httpx.Client(
        timeout=httpx.Timeout(timeout),
        limits=limits,
        verify=verify if own or transport is not None else context(),
        headers=headers,
        follow_redirects=True,
        transport=_SchemeTransport(context, limits) if own else transport,
    )


def basic_auth(credentials: tuple[str, str] | None) -> httpx.BasicAuth | None:
    return httpx.BasicAuth(*credentials) if credentials else None


__all__ = ["basic_auth", "make_client"]
