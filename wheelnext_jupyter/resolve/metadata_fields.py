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

import itertools
import re
from collections.abc import Iterator

#: A field's name (printable ASCII but blank and colon) with its colon.
_NAME_COLON = r"[\041-\071\073-\176]*:"
#: The header section: lines the standard library takes for header lines (an mbox separator,
#: a field name with its colon, or a continuation), each with its line end; matched in one
#: pass, as the body can be long.
_HEADER_SECTION = re.compile(rf"(?:(?:From |{_NAME_COLON}|[\t ])[^\r\n]*(?:\r\n|\r|\n|\Z))*")
_LINES = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")
#: A line end that is not followed by a continuation line (a lone CR is a line end too).
_FIELD_ENDS = re.compile(r"(?:\r\n|\r(?!\n)|\n)(?![\t ])")
#: The same where there is no CR: searched several times faster (a literal comes first).
_LF_FIELD_ENDS = re.compile(r"\n(?![\t ])")
#: A field's name with its colon, at the start of its line.
_FIELD_NAME = re.compile(_NAME_COLON)


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
    values: dict[str, list[str]] = {}
    start = 0
    # Field by field, each with its continuation lines: a field ends at a line end not followed
    # by a blank, so a long License field is one step, not one per line. The search is lazy:
    # it stops where the fields end, however long the body.
    ends = _FIELD_ENDS if "\r" in text else _LF_FIELD_ENDS
    for boundary in itertools.chain(ends.finditer(text), [None]):
        stop = len(text) if boundary is None else boundary.start()
        if start == stop or text[start] in "\r\n":
            break  # an empty line ends the fields
        field = text[start:stop]
        if field[0] in " \t":
            pass  # continuation lines before any field are dropped
        elif field.startswith("From "):
            return _read_lines(text)  # mbox separators: rare, read line by line
        else:
            named = _FIELD_NAME.match(field)
            if named is None:
                break  # not a field: the body begins here
            name = named.group()[:-1]
            # A line starting with a colon has no name: it is dropped, with its continuations.
            if name:
                value = field[named.end() :].lstrip(" \t").rstrip("\r\n")
                values.setdefault(name.lower(), []).append(value)
        start = stop if boundary is None else boundary.end()
    return MetadataFields(values, _body(text[start:]))


def _body(rest: str) -> str:
    """The body after the fields: without the empty line that ends them."""
    return rest[2:] if rest.startswith("\r\n") else rest[1:] if rest[:1] in ("\n", "\r") else rest


def _read_lines(text: str) -> MetadataFields:
    """The fields line by line, as the library reads a header with an mbox separator."""
    section = _HEADER_SECTION.match(text)
    assert section is not None  # it matches the empty string
    body = _body(text[section.end() :])
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
