"""Read TOML text: the standard library's parser, or tomli where Python is older than 3.11.

Imported only where a TOML file is read (most runs read none): the parser is slow to load.
"""

from __future__ import annotations

import sys
from typing import Any


def load_toml(text: str) -> dict[str, Any]:
    """The document `text` holds; a `ValueError` (the parser's `TOMLDecodeError`) if invalid."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]
    data: dict[str, Any] = tomllib.loads(text)
    return data


__all__ = ["load_toml"]
