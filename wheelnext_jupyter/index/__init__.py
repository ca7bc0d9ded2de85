"""Package indexes: the simple-API client, sources and their priority (PEP 766)."""

from __future__ import annotations

from wheelnext_jupyter.index.config import IndexConfig, IndexOptions, resolve_index_config
from wheelnext_jupyter.index.http import HttpClient
from wheelnext_jupyter.index.models import FileKind, IndexFile, ProjectPage, ProjectStatus
from wheelnext_jupyter.index.priority import Lookup, SourceSet, SourceUnavailable, Strategy
from wheelnext_jupyter.index.sources import (
    Candidate,
    FindLinksDirectory,
    FlatPageSource,
    IndexSource,
    SourceRef,
)

__all__ = [
    "Candidate",
    "FileKind",
    "FindLinksDirectory",
    "FlatPageSource",
    "HttpClient",
    "IndexConfig",
    "IndexFile",
    "IndexOptions",
    "IndexSource",
    "Lookup",
    "ProjectPage",
    "ProjectStatus",
    "SourceRef",
    "SourceSet",
    "SourceUnavailable",
    "Strategy",
    "resolve_index_config",
]
