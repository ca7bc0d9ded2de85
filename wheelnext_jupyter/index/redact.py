"""Credentials are kept out of every message, log line and repr by passing URLs through here."""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit, urlunsplit

REDACTED = "****"

_USERINFO_RE = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<userinfo>[^/@\s]+)@")


def redact_url(url: str) -> str:
    """`https://user:secret@host/x` → `https://user:****@host/x`; a bare token → `****`.

    A user name alone is treated as a token (several indexes take the token as the user
    name), so it is hidden too.
    """
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    userinfo, _, host = parts.netloc.rpartition("@")
    user, sep, _password = userinfo.partition(":")
    shown = f"{user}:{REDACTED}" if sep else REDACTED
    return urlunsplit(parts._replace(netloc=f"{shown}@{host}"))


def redact_text(text: str) -> str:
    """Redact every `scheme://userinfo@` occurrence inside free text (e.g. a wrapped error)."""

    def _sub(match: re.Match[str]) -> str:
        user, sep, _ = match.group("userinfo").partition(":")
        shown = f"{user}:{REDACTED}" if sep else REDACTED
        return f"{match.group('scheme')}{shown}@"

    return _USERINFO_RE.sub(_sub, text)


def strip_credentials(url: str) -> tuple[str, tuple[str, str] | None]:
    """Split a URL into (URL without userinfo, (user, password) or None)."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url, None
    userinfo, _, host = parts.netloc.rpartition("@")

    user, _, password = userinfo.partition(":")
    return urlunsplit(parts._replace(netloc=host)), (unquote(user), unquote(password))
