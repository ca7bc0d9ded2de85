"""What a simple-API project page says, independent of the JSON or HTML form it came in."""

from __future__ import annotations

import enum
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from types import MappingProxyType
from typing import Any, NamedTuple, overload
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


class IndexFile(Record):
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
    core_metadata: CoreMetadata = record_field(default_factory=CoreMetadata)
    size: int | None = None
    upload_time: str | None = None

    @property
    def metadata_url(self) -> str:
        """Where PEP 658 places the file's METADATA."""
        return urldefrag(self.url)[0] + ".metadata"

    @property
    def is_variant_wheel(self) -> bool:
        return self.wheel is not None and self.wheel.is_variant


class PendingFile(NamedTuple):
    """What a page says of one distribution file before its `IndexFile` is made: enough to sort
    it by version and to judge yanking and variants without making it. Checked: making the
    file cannot fail. (A tuple: a page makes thousands.)"""

    version: Version
    filename: str
    is_variant_wheel: bool
    yanked: bool
    yanked_reason: str | None
    #: What `make` turns into the file.
    raw: Any


class PageFiles(Sequence[IndexFile]):
    """A page's distribution files (wheels and sdists) in page order, made into `IndexFile`s
    one version at a time.

    A page of a popular project lists thousands of files over hundreds of versions, and a
    resolution looks at the files of a few: making every record took most of the time spent
    reading such a page. Each entry is checked when the page is read (a malformed one is
    reported then); its record is made when its version is first asked for, or when
    the files are read as a whole. Thread-safe.
    """

    __slots__ = ("_lock", "_made", "_make", "_pending", "_positions", "_versions", "_whole")

    def __init__(self, pending: Sequence[PendingFile], make: Callable[[Any], IndexFile]) -> None:
        self._pending = tuple(pending)
        self._make = make
        self._positions: dict[Version, list[int]] = {}
        # A release's files come one after the other, mostly with one `Version` object between
        # them: hashing a version costs a microsecond, comparing identities nothing.
        last: Version | None = None
        positions: list[int] = []
        for position, entry in enumerate(self._pending):
            if entry.version is not last:
                last = entry.version
                positions = self._positions.setdefault(last, [])
            positions.append(position)
        self._made: list[IndexFile | None] = [None] * len(self._pending)
        self._versions: dict[Version, tuple[IndexFile, ...]] = {}
        self._whole: tuple[IndexFile, ...] | None = None
        self._lock = threading.Lock()

    @classmethod
    def made(cls, files: Iterable[IndexFile]) -> PageFiles:
        """Files already made (small pages, local directories)."""
        pending = [
            PendingFile(f.version, f.filename, f.is_variant_wheel, f.yanked, f.yanked_reason, f)
            for f in files
        ]
        return cls(pending, _same)

    def versions(self) -> Iterable[Version]:
        """Every version with a file, in the order of their first file on the page."""
        return self._positions.keys()

    def pending(self) -> tuple[PendingFile, ...]:
        """The entries in page order, without making any file."""
        return self._pending

    def of_version(self, version: Version) -> tuple[IndexFile, ...]:
        """The files of one version, in page order."""
        found = self._versions.get(version)
        if found is None:
            with self._lock:
                found = self._versions.get(version)
                if found is None:
                    found = tuple(self._file(p) for p in self._positions.get(version, ()))
                    self._versions[version] = found
        return found

    def yanked(self, version: Version) -> tuple[bool, str | None]:
        """Whether every file of the version is yanked, and the first reason given."""
        entries = [self._pending[p] for p in self._positions.get(version, ())]
        reason = next((e.yanked_reason for e in entries if e.yanked_reason), None)
        return bool(entries) and all(e.yanked for e in entries), reason

    def _file(self, position: int) -> IndexFile:
        # Called with the lock held.
        made = self._made[position]
        if made is None:
            made = self._made[position] = self._make(self._pending[position].raw)
        return made

    def _all(self) -> tuple[IndexFile, ...]:
        # Made once: indexing and iterating the files would otherwise copy the list each time.
        whole = self._whole
        if whole is None:
            with self._lock:
                whole = self._whole = tuple(self._file(p) for p in range(len(self._made)))
        return whole

    def __len__(self) -> int:
        return len(self._pending)

    def __bool__(self) -> bool:
        return bool(self._pending)

    @overload
    def __getitem__(self, index: int) -> IndexFile: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[IndexFile, ...]: ...

    def __getitem__(self, index: int | slice) -> IndexFile | tuple[IndexFile, ...]:
        return self._all()[index]

    def __iter__(self) -> Iterator[IndexFile]:
        return iter(self._all())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, PageFiles):
            return self._all() == other._all()
        if isinstance(other, tuple):
            return self._all() == other
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._all())

    def __repr__(self) -> str:
        return f"PageFiles({len(self._pending)} files)"


def _same(file: IndexFile) -> IndexFile:
    return file


class ProjectPage(Record):
    """One project's page on one index, parsed."""

    name: NormalizedName
    #: Distributions only (wheels and sdists), in page order.
    files: PageFiles
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
