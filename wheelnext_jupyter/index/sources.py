"""Where distributions come from: a simple-API index, a find-links directory, a flat page of links,
the wheels a lock file names by URL.

Every source answers the same questions: the project page of a name (None = "not here"), the
candidates on it, a file's core metadata (PEP 658 file when published, else read from the wheel),
and the variant metadata of one version.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Protocol
from urllib.parse import unquote, urlsplit

from packaging.utils import canonicalize_name

from wheelnext_jupyter.index.errors import (
    HashMismatch,
    IndexClientError,
    IndexResponseError,
    MetadataUnavailable,
)
from wheelnext_jupyter.index.models import (
    SUPPORTED_API_VERSION,
    CoreMetadata,
    FileKind,
    IndexFile,
    PageFiles,
    ProjectPage,
    ProjectStatus,
    normalize_project_name,
    project_page_url,
)
from wheelnext_jupyter.index.redact import redact_url
from wheelnext_jupyter.index.simple_api import ACCEPT, parse_html_page, parse_project_page
from wheelnext_jupyter.record import Record
from wheelnext_jupyter.variants.filename import (
    InvalidWheelFilename,
    parse_variants_json_filename,
    parse_wheel_filename,
    variants_json_filename,
)
from wheelnext_jupyter.variants.metadata import (
    VariantMetadata,
    VariantMetadataError,
    merge_variant_metadata,
    read_variant_metadata,
)

if TYPE_CHECKING:
    from collections.abc import Collection, Iterable, Mapping
    from zipfile import ZipFile

    from packaging.version import Version

    from wheelnext_jupyter.index.http import HttpClient

logger = logging.getLogger(__name__)


class SourceRef(Record):
    """How a source is named in candidates, reports and messages (URL always redacted)."""

    name: str
    url: str
    kind: str  # "index" | "find-links" | "flat-page" | "lock"

    def __str__(self) -> str:
        return self.name if self.name == self.url else f"{self.name} ({self.url})"


class Candidate(Record):
    """One distribution file offered by one source."""

    file: IndexFile
    source: SourceRef
    #: Set when the file can never be chosen whatever the target (e.g. no variants file).
    unusable: str | None = None

    @property
    def name(self) -> str:
        return self.file.name

    @property
    def version(self) -> Version:
        return self.file.version


class Source(Protocol):
    ref: SourceRef
    #: Explicit sources are consulted only for names pinned to them.
    explicit: bool

    def project(self, name: str, *, refresh: bool = False) -> ProjectPage | None: ...

    def ask_ahead(self, name: str) -> None:
        """Request what `project(name)` will read, so that it is in the HTTP client's memory
        (or under way there) by then; errors are left for `project` to meet and report."""
        ...

    def offer(self, page: ProjectPage) -> Offer: ...

    def core_metadata(self, file: IndexFile) -> bytes: ...

    def metadata_from_ranges(self, file: IndexFile) -> bytes | None: ...

    def variant_metadata(self, page: ProjectPage, version: Version) -> VariantMetadata | None: ...

    def fetch_file(self, file: IndexFile) -> bytes: ...


# --- shared functions---------------------------------------------------------------------------


def verify_hashes(data: bytes, hashes: Mapping[str, str], *, url: str) -> None:
    """Check `data` against every published digest hashlib knows; unknown algorithms are skipped."""
    for algorithm, expected in hashes.items():
        if algorithm not in hashlib.algorithms_available:
            continue
        got = hashlib.new(algorithm, data).hexdigest()
        if got != expected.lower():
            raise HashMismatch(
                f"{redact_url(url)}: {algorithm} is {got}, but the index published {expected}; "
                "the file changed after publication or was tampered with in transit — "
                "do not use it; report it to the index operator",
                url=redact_url(url),
                algorithm=algorithm,
                expected=expected,
                got=got,
            )


def read_wheel_metadata(wheel: bytes | Path, *, filename: str) -> bytes:
    """`*.dist-info/METADATA` from a wheel (bytes or a local path) without extracting it."""
    import zipfile  # off the command line's start-up path: most indexes publish metadata files

    source: io.BytesIO | Path = io.BytesIO(wheel) if isinstance(wheel, bytes) else wheel
    try:
        with zipfile.ZipFile(source) as archive:
            member = _dist_info_member(archive, filename, "METADATA")
            return archive.read(member)
    except (zipfile.BadZipFile, KeyError, OSError) as exc:
        raise MetadataUnavailable(f"cannot read METADATA from {filename}: {exc}") from None


def read_wheel_variant_json(wheel: Path, *, filename: str) -> bytes | None:
    import zipfile

    try:
        with zipfile.ZipFile(wheel) as archive:
            return archive.read(_dist_info_member(archive, filename, "variant.json"))
    except (zipfile.BadZipFile, KeyError, OSError):
        return None


def _dist_info_member(archive: ZipFile, filename: str, leaf: str) -> str:
    return dist_info_member(archive.namelist(), filename, leaf)


def dist_info_member(names: Iterable[str], filename: str, leaf: str) -> str:
    """The member `leaf` (e.g. `METADATA`) of the `.dist-info` directory of the wheel
    `filename`, among its member `names`; KeyError when there is none."""
    wheel = parse_wheel_filename(filename)
    candidates = [n for n in names if n.count("/") == 1 and n.endswith(f".dist-info/{leaf}")]
    for name in candidates:
        dist = name.split("/", 1)[0][: -len(".dist-info")].rpartition("-")[0]
        if canonicalize_name(dist) == wheel.name:
            return name
    raise KeyError(f"no {leaf} in a .dist-info directory of {wheel.name}")


def _missing_variants_warning(filename: str, name: str, version: Version) -> str:
    expected = variants_json_filename(name, version)
    return (
        f"{filename} ignored: variant wheels need the version's variant metadata file "
        f"{expected}, which the source does not list"
    )


class Offer:
    """One source's page as candidates, made a version at a time as its files are (see
    `PageFiles`). A variant wheel whose version has no variant metadata on the source (`known`
    lacks the version) is a candidate marked unusable, and a warning at once."""

    __slots__ = ("_by_version", "_known", "page", "ref", "warnings")

    def __init__(self, ref: SourceRef, page: ProjectPage, known: Collection[Version]) -> None:
        self.ref = ref
        self.page = page
        self._known = known
        self._by_version: dict[Version, tuple[Candidate, ...]] = {}
        self.warnings = tuple(
            _missing_variants_warning(entry.filename, page.name, entry.version)
            for entry in page.files.pending()
            if entry.is_variant_wheel and entry.version not in known
        )
        for text in self.warnings:
            logger.warning("%s: %s", ref, text)

    def versions(self) -> Iterable[Version]:
        """The versions with files, in page order (see `PageFiles.versions`)."""
        return self.page.files.versions()

    def of_version(self, version: Version) -> tuple[Candidate, ...]:
        """The candidates of one version, in page order; the same objects every time."""
        found = self._by_version.get(version)
        if found is None:
            made = tuple(self._candidate(file) for file in self.page.files.of_version(version))
            found = self._by_version.setdefault(version, made)
        return found

    def all(self) -> tuple[Candidate, ...]:
        """Every candidate, in page order."""
        groups = {version: iter(self.of_version(version)) for version in self.versions()}
        return tuple(next(groups[file.version]) for file in self.page.files)

    def _candidate(self, file: IndexFile) -> Candidate:
        unusable = None
        if file.is_variant_wheel and file.version not in self._known:
            unusable = _missing_variants_warning(file.filename, file.name, file.version)
        return Candidate(file, self.ref, unusable)


# --- HTTP-backed sources -----------------------------------------------------------------------


class _HttpSource:
    ref: SourceRef
    explicit: bool

    def __init__(self, client: HttpClient) -> None:
        self.client = client

    def offer(self, page: ProjectPage) -> Offer:
        return Offer(self.ref, page, page.variants_files.keys())

    def core_metadata(self, file: IndexFile) -> bytes:
        """The file's METADATA: the PEP 658 file (hash-checked) when published, else the wheel's."""
        if file.core_metadata.available:
            response = self.client.get(
                file.metadata_url, immutable=bool(file.core_metadata.hashes), source=self.ref.name
            )
            if response.ok:
                try:
                    verify_hashes(response.body, file.core_metadata.hashes, url=file.metadata_url)
                except HashMismatch:
                    self.client.forget(file.metadata_url)
                    raise
                return response.body
            logger.info("%s: announced metadata file missing, reading the wheel", file.filename)
        if file.kind is not FileKind.WHEEL:
            raise MetadataUnavailable(
                f"{file.filename} from {self.ref} has no metadata file and is not a wheel; "
                "building source distributions is not supported — ask for a wheel"
            )
        return read_wheel_metadata(self.fetch_file(file), filename=file.filename)

    def metadata_from_ranges(self, file: IndexFile) -> bytes | None:
        """A wheel's METADATA read from the end of the file with range requests (see
        `wheel_tail`), or None where the server answers none. Not checked against the wheel's
        hash, which only the whole file can be: for guesses, never for decisions."""
        if file.kind is not FileKind.WHEEL:
            return None
        from wheelnext_jupyter.index.wheel_tail import read_member

        def metadata(names: Iterable[str]) -> str | None:
            try:
                return dist_info_member(names, file.filename, "METADATA")
            except KeyError:
                return None

        return read_member(
            lambda first, last: self.client.get_range(file.url, first, last), metadata
        )

    def fetch_file(self, file: IndexFile) -> bytes:
        """The whole file, hash-checked (files addressed by hash are cached as immutable)."""
        response = self.client.get(file.url, immutable=bool(file.hashes), source=self.ref.name)
        if not response.ok:
            raise MetadataUnavailable(
                f"{redact_url(file.url)} listed by {self.ref} answered HTTP {response.status}"
            )
        try:
            verify_hashes(response.body, file.hashes, url=file.url)
        except HashMismatch:
            self.client.forget(file.url)
            raise
        return response.body

    def variant_metadata(self, page: ProjectPage, version: Version) -> VariantMetadata | None:
        """The version's `*-variants.json`, revalidated like a page (PEP 825: not immutable)."""
        file = page.variants_file(version)
        if file is None:
            return None
        response = self.client.get(file.url, source=self.ref.name)
        if not response.ok:
            logger.warning("%s: %s answered HTTP %s", self.ref, file.filename, response.status)
            return None
        try:
            verify_hashes(response.body, file.hashes, url=file.url)
        except HashMismatch:
            self.client.forget(file.url)
            raise
        return read_variant_metadata(response.body, source=redact_url(file.url))

    def _parse(self, url: str, name: str, refresh: bool) -> ProjectPage | None:
        response = self.client.get(url, accept=ACCEPT, refresh=refresh, source=self.ref.name)
        if response.status == 404:
            return None
        try:
            return parse_project_page(
                response.body, content_type=response.content_type, url=response.url, name=name
            )
        except IndexResponseError as exc:
            # A broken page must not stay in the cache and poison the next run.
            self.client.forget(url, ACCEPT)
            raise IndexResponseError(f"index {self.ref.name!r}: {exc}") from None


class IndexSource(_HttpSource):
    """A simple-API index (`<base>/<name>/` pages)."""

    def __init__(
        self, url: str, client: HttpClient, *, name: str | None = None, explicit: bool = False
    ) -> None:
        super().__init__(client)
        self.url = url if url.endswith("/") else url + "/"
        shown = redact_url(self.url)
        self.ref = SourceRef(name=name or shown, url=shown, kind="index")
        self.explicit = explicit

    def __repr__(self) -> str:
        return f"IndexSource({self.ref.url!r}, name={self.ref.name!r}, explicit={self.explicit})"

    def project(self, name: str, *, refresh: bool = False) -> ProjectPage | None:
        return self._parse(project_page_url(self.url, name), name, refresh)

    def ask_ahead(self, name: str) -> None:
        with contextlib.suppress(IndexClientError):
            self.client.get(project_page_url(self.url, name), accept=ACCEPT, source=self.ref.name)


class FlatPageSource(_HttpSource):
    """One HTML page linking files of many projects (pip's `--find-links <URL>`)."""

    def __init__(self, url: str, client: HttpClient, *, name: str | None = None) -> None:
        super().__init__(client)
        self.url = url
        shown = redact_url(url)
        self.ref = SourceRef(name=name or shown, url=shown, kind="flat-page")
        self.explicit = False

    def __repr__(self) -> str:
        return f"FlatPageSource({self.ref.url!r})"

    def ask_ahead(self, name: str) -> None:
        with contextlib.suppress(IndexClientError):
            self.client.get(self.url, accept="text/html")

    def project(self, name: str, *, refresh: bool = False) -> ProjectPage | None:
        response = self.client.get(self.url, accept="text/html", refresh=refresh)
        if response.status == 404:
            return None
        try:
            page = parse_html_page(response.body, url=response.url, name=name)
        except IndexResponseError as exc:
            self.client.forget(self.url, "text/html")
            raise IndexResponseError(f"find-links page {self.ref.name!r}: {exc}") from None
        # The name "exists" on a flat page only if a file of it is listed.
        return page if page.files or page.variants_files else None


# --- wheels a lock file names --------------------------------------------------------------------


#: How a lock file is named as the source of its files ("lock file pylock.toml").
LOCK_NAMING = "lock file "


class LockedFile(Record):
    """A wheel a PEP 751 lock names by its URL (`packages.wheels.url`), with the lock's hashes."""

    project: str
    filename: str
    url: str
    hashes: Mapping[str, str]
    size: int | None = None
    upload_time: str | None = None


class LockedWheels(Record):
    """What a lock file says about files: where its wheels are, and the variant metadata it
    inlines (PEP 825) for a project's version."""

    lock: str
    files: tuple[LockedFile, ...] = ()
    variants: Mapping[tuple[str, str], Mapping[str, object]] = MappingProxyType({})


class LockSource(_HttpSource):
    """The wheels a lock file names by URL, for the projects it lists so: looked up before any
    index (the lock says where its files are), each download checked against the lock's hash."""

    def __init__(self, locked: LockedWheels, client: HttpClient) -> None:
        super().__init__(client)
        named = LOCK_NAMING + locked.lock
        self.ref = SourceRef(name=named, url=named, kind="lock")
        self.explicit = False
        self._locked = locked
        self._files: dict[str, list[LockedFile]] = {}
        for file in locked.files:
            self._files.setdefault(normalize_project_name(file.project), []).append(file)

    def __repr__(self) -> str:
        return f"LockSource({self.ref.name!r})"

    def ask_ahead(self, name: str) -> None:
        """Nothing to ask: the lock lists the files."""

    def project(self, name: str, *, refresh: bool = False) -> ProjectPage | None:
        project = normalize_project_name(name)
        files = self._files.get(project)
        if not files:
            return None
        made = []
        for file in files:
            wheel = parse_wheel_filename(file.filename)
            made.append(
                IndexFile(
                    filename=file.filename,
                    url=file.url,
                    hashes=MappingProxyType(dict(file.hashes)),
                    kind=FileKind.WHEEL,
                    name=project,
                    version=wheel.version,
                    wheel=wheel,
                    size=file.size,
                    upload_time=file.upload_time,
                )
            )
        return _listed_page(project, made, {}, self.ref.url)

    def offer(self, page: ProjectPage) -> Offer:
        known = {
            version
            for version in page.files.versions()
            if (page.name, str(version)) in self._locked.variants
        }
        return Offer(self.ref, page, known)

    def variant_metadata(self, page: ProjectPage, version: Version) -> VariantMetadata | None:
        """The variant metadata the lock inlines for the version (narrowed to its wheel's
        variant when the lock was written here)."""
        document = self._locked.variants.get((page.name, str(version)))
        if document is None:
            return None
        return read_variant_metadata(document, source=self.ref.name)


# --- local directories -------------------------------------------------------------------------


class FindLinksDirectory:
    """A local directory of wheels (and sdists), searched recursively — offline datasets nest.

    A version with variant wheels but no `*-variants.json` in the directory gets one merged from
    the wheels' own `*.dist-info/variant.json` files.
    """

    explicit = False

    def __init__(self, path: Path | str, *, name: str | None = None) -> None:
        self.path = Path(path)
        self.ref = SourceRef(name=name or str(self.path), url=self.path.as_uri(), kind="find-links")
        self._listing: dict[str, list[Path]] | None = None
        self._merged: dict[tuple[str, Version], VariantMetadata | None] = {}

    def __repr__(self) -> str:
        return f"FindLinksDirectory({str(self.path)!r})"

    def _files(self) -> dict[str, list[Path]]:
        if self._listing is None:
            listing: dict[str, list[Path]] = {}
            seen: set[str] = set()
            for file in sorted(self.path.rglob("*")):
                if not file.is_file() or file.name in seen or file.name.endswith(".metadata"):
                    continue
                project = _project_of(file.name)
                if project is not None:
                    seen.add(file.name)
                    listing.setdefault(project, []).append(file)
            self._listing = listing
        return self._listing

    def ask_ahead(self, name: str) -> None:
        """Nothing to ask: the directory is listed when a project is first looked up."""

    def project(self, name: str, *, refresh: bool = False) -> ProjectPage | None:
        if refresh:
            self._listing = None
        project = normalize_project_name(name)
        files = self._files().get(project)
        if not files:
            return None
        dists: list[IndexFile] = []
        variants: dict[Version, IndexFile] = {}
        for path in files:
            made = _local_file(project, path)
            if made is None:
                continue
            if made.kind is FileKind.VARIANTS_JSON:
                variants[made.version] = made
            else:
                dists.append(made)
        return _listed_page(project, dists, variants, self.ref.url)

    def offer(self, page: ProjectPage) -> Offer:
        # Variant wheels here carry their own variant.json, so any version can be merged.
        pending = page.files.pending()
        versions = set(page.variants_files) | {e.version for e in pending if e.is_variant_wheel}
        return Offer(self.ref, page, versions)

    def core_metadata(self, file: IndexFile) -> bytes:
        path = _local_path(file.url)
        sidecar = path.with_name(path.name + ".metadata")
        if sidecar.is_file():
            return sidecar.read_bytes()
        if file.kind is not FileKind.WHEEL:
            raise MetadataUnavailable(
                f"{file.filename} in {self.path} is not a wheel; building source distributions "
                "is not supported — put a wheel in the directory"
            )
        return read_wheel_metadata(path, filename=file.filename)

    def metadata_from_ranges(self, file: IndexFile) -> bytes | None:
        return None  # a local wheel is read whole at no cost (`core_metadata`)

    def fetch_file(self, file: IndexFile) -> bytes:
        data = _local_path(file.url).read_bytes()
        verify_hashes(data, file.hashes, url=file.url)
        return data

    def variant_metadata(self, page: ProjectPage, version: Version) -> VariantMetadata | None:
        listed = page.variants_file(version)
        if listed is not None:
            path = _local_path(listed.url)
            return read_variant_metadata(path.read_bytes(), source=str(path))
        key = (page.name, version)
        if key not in self._merged:
            self._merged[key] = self._merge_from_wheels(page, version)
        return self._merged[key]

    def _merge_from_wheels(self, page: ProjectPage, version: Version) -> VariantMetadata | None:
        documents = []
        for file in page.files:
            if file.version != version or not file.is_variant_wheel:
                continue
            path = _local_path(file.url)
            raw = read_wheel_variant_json(path, filename=file.filename)
            if raw is None:
                logger.warning("%s has no .dist-info/variant.json; it is ignored", path)
                continue
            try:
                documents.append(read_variant_metadata(raw, source=str(path)))
            except VariantMetadataError as exc:
                logger.warning("%s: %s", path, exc)
        if not documents:
            return None
        try:
            return merge_variant_metadata(documents)
        except VariantMetadataError as exc:
            logger.warning(
                "%s %s in %s: variant metadata of the wheels disagree (%s); its variant wheels "
                "are ignored",
                page.name,
                version,
                self.path,
                exc,
            )
            return None


def _listed_page(
    project: str, files: list[IndexFile], variants: dict[Version, IndexFile], source_url: str
) -> ProjectPage:
    """The page of files known without asking an index (a directory's, a lock's)."""
    return ProjectPage(
        name=canonicalize_name(project),
        files=PageFiles.made(files),
        variants_files=MappingProxyType(variants),
        versions=(),
        api_version=SUPPORTED_API_VERSION,
        status=ProjectStatus.ACTIVE,
        status_reason=None,
        source_url=source_url,
    )


def _project_of(filename: str) -> str | None:
    parsed = _name_version(filename)
    return None if parsed is None else parsed[0]


def _name_version(filename: str) -> tuple[str, Version] | None:
    from packaging.utils import InvalidSdistFilename, parse_sdist_filename

    if filename.endswith("-variants.json"):
        return parse_variants_json_filename(filename)
    if filename.endswith(".whl"):
        try:
            wheel = parse_wheel_filename(filename)
        except InvalidWheelFilename:
            return None
        return wheel.name, wheel.version
    if filename.endswith((".tar.gz", ".zip")):
        try:
            return parse_sdist_filename(filename)
        except InvalidSdistFilename:
            return None
    return None


def _local_file(project: str, path: Path) -> IndexFile | None:
    parsed = _name_version(path.name)
    if parsed is None or parsed[0] != project:
        return None
    name, version = parsed
    if path.name.endswith("-variants.json"):
        kind, wheel = FileKind.VARIANTS_JSON, None
    elif path.name.endswith(".whl"):
        kind, wheel = FileKind.WHEEL, parse_wheel_filename(path.name)
    else:
        kind, wheel = FileKind.SDIST, None
    sidecar = path.with_name(path.name + ".metadata")
    return IndexFile(
        filename=path.name,
        url=path.resolve().as_uri(),
        # Local files are trusted as they are (as pip does); hashing large wheels costs seconds.
        hashes=MappingProxyType({}),
        kind=kind,
        name=canonicalize_name(name),
        version=version,
        wheel=wheel,
        core_metadata=CoreMetadata(available=sidecar.is_file()),
        size=path.stat().st_size,
    )


def _local_path(url: str) -> Path:
    return Path(unquote(urlsplit(url).path))


__all__ = [
    "LOCK_NAMING",
    "Candidate",
    "FindLinksDirectory",
    "FlatPageSource",
    "IndexSource",
    "LockSource",
    "LockedFile",
    "LockedWheels",
    "Offer",
    "Source",
    "SourceRef",
    "dist_info_member",
    "read_wheel_metadata",
    "verify_hashes",
]
