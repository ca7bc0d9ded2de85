"""Errors raised by the index client; every message carries redacted URLs only."""

from __future__ import annotations


class IndexClientError(Exception):
    """Base class for index problems."""


class IndexNetworkError(IndexClientError):
    """A source could not be reached or kept failing (connect error, timeout, 5xx) after retries."""

    def __init__(self, message: str, *, url: str, source: str | None = None) -> None:
        super().__init__(message)
        #: Redacted URL of the request that failed.
        self.url = url
        #: Name of the source the request belonged to, when known.
        self.source = source


class IndexHTTPError(IndexClientError):
    """An HTTP status that is neither success, "not found" nor retryable (e.g. 401, 403, 406)."""

    def __init__(self, message: str, *, url: str, status: int) -> None:
        super().__init__(message)
        self.url = url
        self.status = status


class IndexResponseError(IndexClientError):
    """A response that arrived but cannot be understood (malformed page, wrong content type)."""


class UnsupportedAPIVersion(IndexResponseError):
    """The page declares a simple-API major version this client does not know."""


class HashMismatch(IndexClientError):
    """A downloaded file whose digest differs from the one the index published."""

    def __init__(self, message: str, *, url: str, algorithm: str, expected: str, got: str) -> None:
        super().__init__(message)
        self.url = url
        self.algorithm = algorithm
        self.expected = expected
        self.got = got


class MetadataUnavailable(IndexClientError):
    """Neither a metadata file nor a wheel to read METADATA from exists for a file."""


class ConfigError(IndexClientError):
    """Index options or configuration files that cannot be used; the message names the fix."""


__all__ = [
    "ConfigError",
    "HashMismatch",
    "IndexClientError",
    "IndexHTTPError",
    "IndexNetworkError",
    "IndexResponseError",
    "MetadataUnavailable",
    "UnsupportedAPIVersion",
]
