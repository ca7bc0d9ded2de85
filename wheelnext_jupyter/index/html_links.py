"""The HTML reader of index pages: the links, `<base href>` and `pypi:*` meta tags of a page.

A module of its own so that `html.parser` is loaded only when an index answers in HTML.
"""

from __future__ import annotations

from html.parser import HTMLParser


class LinkParser(HTMLParser):
    """Collects anchors, `<base href>` and `pypi:*` meta tags; attribute values arrive unescaped."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.base: str | None = None
        self.meta: dict[str, str] = {}
        self.anchors: list[tuple[dict[str, str | None], str]] = []
        self._current: dict[str, str | None] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "base" and self.base is None and values.get("href"):
            self.base = values["href"]
        elif tag == "meta" and values.get("name") and values.get("content") is not None:
            self.meta[str(values["name"]).lower()] = str(values["content"])
        elif tag == "a":
            self._current, self._text = values, []

    def handle_data(self, data: str) -> None:
        if self._current is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._current is not None:
            self.anchors.append((self._current, "".join(self._text).strip()))
            self._current = None


__all__ = ["LinkParser"]
