"""The header fields of a core metadata text (METADATA, PKG-INFO), read without `email`.

The resolver reads `Requires-Dist`, `Requires-Python`, `Provides-Extra` and `Default-Extra` of
every candidate it pins, and the lookahead the same again: `email.parser` takes a millisecond and
a half for a typical METADATA, this reader a few tens of microseconds. Values are what the
standard library's parser (its default, compat32, policy) returns for the same text: the text
after the colon with leading blanks removed, continuation lines kept as they were, line ends at
the end removed; field names match without regard to case. The fields end at the first empty
line, or at a line that is neither a field nor a continuation (where the body begins). The body,
the description the report shows, is the parser's payload for the same text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

#: The header section: lines the standard library takes for header lines (an mbox separator,
#: a field name of printable ASCII but blank and colon with its colon, or a continuation), each
#: with its line end; matched in one pass, as the body can be long.
_HEADER_SECTION = re.compile(
    r"(?:(?:From |[\041-\071\073-\176]*:|[\t ])[^\r\n]*(?:\r\n|\r|\n|\Z))*"
)
_LINES = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


class MetadataFields:
    """Field values by name; `get` and `get_all` as on an `email.message.Message`, and the
    body (the description) as its payload."""

    __slots__ = ("_values", "body")

    def __init__(self, values: dict[str, list[str]], body: str = "") -> None:
        self._values = values
        #: The text after the fields (and the empty line that ends them).
        self.body = body

    def get(self, name: str, default: str | None = None) -> str | None:
        values = self._values.get(name.lower())
        return values[0] if values else default

    def get_all(self, name: str, default: list[str] | None = None) -> list[str] | None:
        values = self._values.get(name.lower())
        return list(values) if values else default

    def items(self) -> Iterator[tuple[str, list[str]]]:
        """(lower-case name, every value) per field, in the order the fields first appear."""
        for name, values in self._values.items():
            yield name, list(values)


def read_fields(text: str) -> MetadataFields:
    section = _HEADER_SECTION.match(text)
    assert section is not None  # it matches the empty string
    rest = text[section.end() :]
    # The empty line that ends the fields is not part of the body.
    body = rest[2:] if rest.startswith("\r\n") else rest[1:] if rest[:1] in ("\n", "\r") else rest
    lines = _LINES.findall(section.group())
    if len(lines) > 1 and lines[-1].startswith("From "):
        # An mbox separator as the last of several lines starts the body (so the library says).
        body = lines.pop() + body
    values: dict[str, list[str]] = {}
    source: list[str] = []

    def finish() -> None:
        if source:
            first = source[0].split(":", 1)[1].lstrip(" \t")
            value = (first + "".join(source[1:])).rstrip("\r\n")
            values.setdefault(source[0].split(":", 1)[0].lower(), []).append(value)

    for line in lines:
        if line[0] in " \t":
            if source:  # a continuation before any field is dropped
                source.append(line)
            continue
        finish()
        source = []
        # An mbox separator is not a field; a line starting with a colon has no name.
        if not line.startswith(("From ", ":")):
            source = [line]
    finish()
    return MetadataFields(values, body)


__all__ = ["MetadataFields", "read_fields"]
