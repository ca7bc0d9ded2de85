"""PEP 503 HTML pages for a static index directory: a root page and one page per project.

Each file link carries its sha256 in the URL fragment; wheels carry `data-core-metadata` with the
sha256 of their PEP 658 metadata file, which sits beside the wheel as `<wheel>.metadata`.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class PageFile:
    filename: str
    #: The link target, relative to the project page.
    href: str
    sha256: str
    #: sha256 of the PEP 658 metadata file, when there is one.
    metadata_sha256: str | None = None


def _document(title: str, body: Iterable[str]) -> str:
    lines = [
        "<!DOCTYPE html>",
        "<html>",
        "  <head>",
        '    <meta name="pypi:repository-version" content="1.1">',
        f"    <title>{html.escape(title)}</title>",
        "  </head>",
        "  <body>",
        *(f"    {line}" for line in body),
        "  </body>",
        "</html>",
    ]
    return "\n".join(lines) + "\n"


def root_page(projects: Sequence[str]) -> str:
    """The `/simple/` page: one link per normalised project name."""
    links = [f'<a href="{html.escape(p)}/">{html.escape(p)}</a><br>' for p in sorted(projects)]
    return _document("Simple index", links)


def project_page(project: str, files: Sequence[PageFile]) -> str:
    """The `/simple/<project>/` page."""
    links = []
    for file in sorted(files, key=lambda f: f.filename):
        href = html.escape(f"{file.href}#sha256={file.sha256}")
        metadata = (
            f' data-core-metadata="sha256={file.metadata_sha256}"' if file.metadata_sha256 else ""
        )
        links.append(f'<a href="{href}"{metadata}>{html.escape(file.filename)}</a><br>')
    return _document(f"Links for {project}", links)
