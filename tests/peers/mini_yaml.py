"""A reader for the small block-style YAML subset packse scenario files use.

Block mappings and block lists nested by indentation, plain scalars folded over several lines,
quoted scalars, `true`/`false`/`null`, `{}` and `[]`. Every other scalar stays a string (packse
versions such as `1.0.0` are strings anyway). Flow collections with content, anchors, tags and
block scalars (`|`, `>`) are not supported and raise `YamlSubsetError` rather than mis-parse.
Kept here so reading the one YAML scenario needs no third-party parser.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class YamlSubsetError(ValueError):
    """The text uses YAML beyond the supported subset."""


@dataclass
class _Line:
    number: int
    indent: int
    text: str


def load_yaml(text: str) -> Any:
    lines = []
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#") or stripped == "---":
            continue
        if "\t" in raw[: len(raw) - len(raw.lstrip())]:
            raise YamlSubsetError(f"line {number}: tabs in indentation")
        lines.append(_Line(number, len(raw) - len(raw.lstrip(" ")), stripped))
    if not lines:
        return None
    value, end = _block(lines, 0, lines[0].indent)
    if end != len(lines):
        raise YamlSubsetError(f"line {lines[end].number}: unexpected indentation")
    return value


def _is_item(line: _Line) -> bool:
    return line.text == "-" or line.text.startswith("- ")


def _block(lines: list[_Line], i: int, indent: int) -> tuple[Any, int]:
    if _is_item(lines[i]):
        return _sequence(lines, i, indent)
    return _mapping(lines, i, indent)


def _sequence(lines: list[_Line], i: int, indent: int) -> tuple[list[Any], int]:
    items: list[Any] = []
    while i < len(lines) and lines[i].indent == indent and _is_item(lines[i]):
        line = lines[i]
        rest = line.text[1:].lstrip()
        if not rest:
            if i + 1 < len(lines) and lines[i + 1].indent > indent:
                value, i = _block(lines, i + 1, lines[i + 1].indent)
            else:
                value, i = None, i + 1
        elif _mapping_key(rest) is not None:
            # `- key: value` opens a mapping whose keys line up with `key`.
            lines[i] = _Line(line.number, indent + len(line.text) - len(rest), rest)
            value, i = _mapping(lines, i, lines[i].indent)
        else:
            value, i = _scalar_lines(lines, i, rest, indent)
        items.append(value)
    return items, i


def _mapping_key(text: str) -> str | None:
    if text[:1] in ("'", '"'):
        return None
    key, sep, rest = text.partition(":")
    if not sep or (rest and not rest.startswith(" ")):
        return None
    return key.strip()


def _mapping(lines: list[_Line], i: int, indent: int) -> tuple[dict[str, Any], int]:
    result: dict[str, Any] = {}
    while i < len(lines) and lines[i].indent == indent and not _is_item(lines[i]):
        line = lines[i]
        key = _mapping_key(line.text)
        if key is None:
            raise YamlSubsetError(f"line {line.number}: expected 'key: value', found {line.text!r}")
        rest = line.text.partition(":")[2].strip()
        nested = lines[i + 1] if i + 1 < len(lines) else None
        if rest:
            value, i = _scalar_lines(lines, i, rest, indent)
        elif (
            nested is not None
            and nested.indent > indent
            and not _is_item(nested)
            and _mapping_key(nested.text) is None
        ):
            # A plain scalar that starts on the line after its key.
            value, i = _scalar_lines(lines, i + 1, nested.text, indent)
        elif i + 1 < len(lines) and (
            lines[i + 1].indent > indent
            or (lines[i + 1].indent == indent and _is_item(lines[i + 1]))
        ):
            value, i = _block(lines, i + 1, lines[i + 1].indent)
        else:
            value, i = None, i + 1
        result[_unquote(key)] = value
    return result, i


def _scalar_lines(lines: list[_Line], i: int, first: str, indent: int) -> tuple[Any, int]:
    """A scalar starting on line i, folded with the more-indented lines that follow it."""
    parts = [first]
    i += 1
    while i < len(lines) and lines[i].indent > indent:
        parts.append(lines[i].text)
        i += 1
    return _scalar(" ".join(parts), lines[i - 1].number), i


def _scalar(text: str, number: int) -> Any:
    if text in ("true", "True"):
        return True
    if text in ("false", "False"):
        return False
    if text in ("null", "~"):
        return None
    if text == "{}":
        return {}
    if text == "[]":
        return []
    if text[:1] in ("[", "{", "|", ">", "&", "*", "!"):
        raise YamlSubsetError(f"line {number}: unsupported YAML construct {text!r}")
    return _unquote(text)


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in ("'", '"'):
        inner = text[1:-1]
        return inner.replace("''", "'") if text[0] == "'" else inner.replace('\\"', '"')
    return text
