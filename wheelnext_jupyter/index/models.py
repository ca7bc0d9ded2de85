"""What a simple-API project page says, independent of the JSON or HTML form it came in."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from urllib.parse import urldefrag

from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from wheelnext_jupyter.record import Record
from wheelnext_jupyter.record import field as record_field
from wheelnext_jupyter.variants.filename import WheelFilename

#: The simple-API version this client implements (PEP 629 / PEP 792 era).
SUPPORTED_API_VERSION = (1, 4)

_EMPTY: Mapping[str, str] = MappingProxyType({})


def normalize_project_name(name: str) -> NormalizedName:
    """PEP 503 normalisation: runs of `-_.` become `-`, lower case."""
    return canonicalize_name(name)


def project_page_url(index_url: str, name: str) -> str:
    """`{index}/{normalized-name}/`, the URL clients MUST request."""
    return f"{index_url.rstrip('/')}/{normalize_project_name(name)}/"


class FileKind(enum.Enum):
    WHEEL = "wheel"
    SDIST = "sdist"
    #: `{name}-{version}-variants.json`: variant metadata of one version, never a distribution.
    VARIANTS_JSON = "variants-json"


class ProjectStatus(enum.Enum):
    """PEP 792 project status markers."""

    ACTIVE = "active"
    ARCHIVED = "archived"
    QUARANTINED = "quarantined"
    DEPRECATED = "deprecated"


class CoreMetadata(Record):
    """PEP 658/714: whether `{file url}.metadata` exists, and its hashes when published."""

    available: bool = False
    hashes: Mapping[str, str] = record_field(default_factory=lambda: _EMPTY)


@dataclass(frozen=True)
class IndexFile:
    """One file entry of a project page."""

    filename: str
    #: Absolute URL without the hash fragment.
    url: str
    hashes: Mapping[str, str]
    kind: FileKind
    #: The project and version the filename names.
    name: NormalizedName
    version: Version
    #: Set for wheels (variant or not).
    wheel: WheelFilename | None = None
    requires_python: str | None = None
    yanked: bool = False
    yanked_reason: str | None = None
    core_metadata: CoreMetadata = field(default_factory=CoreMetadata)
    size: int | None = None
    upload_time: str | None = None

    @property
    def metadata_url(self) -> str:
        """Where PEP 658 places the file's METADATA."""
        return urldefrag(self.url)[0] + ".metadata"

    @property
    def is_variant_wheel(self) -> bool:
        return self.wheel is not None and self.wheel.is_variant


class ProjectPage(Record):
    """One project's page on one index, parsed."""

    name: NormalizedName
    #: Distributions only (wheels and sdists), in page order.
    files: tuple[IndexFile, ...]
    #: `{name}-{version}-variants.json` entries by the version they describe.
    variants_files: Mapping[Version, IndexFile]
    #: PEP 700 `versions` (may list versions without files, and strings that are not PEP 440).
    versions: tuple[str, ...]
    api_version: tuple[int, int]
    status: ProjectStatus
    status_reason: str | None
    #: The URL the page was fetched from (redacted).
    source_url: str
    #: Things worth telling the user (newer minor API version, archived project, skipped entries).
    warnings: tuple[str, ...] = ()

    def variants_file(self, version: Version) -> IndexFile | None:
        return self.variants_files.get(version)
