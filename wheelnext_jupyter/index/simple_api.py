"""Parse PEP 691 JSON and PEP 503 HTML project pages into one `ProjectPage` model.

Both forms feed the same entry builder, so a rule (metadata key fallbacks, variants files,
yanking, status) is written once and applies to both.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any
from urllib.parse import unquote, urldefrag, urljoin, urlsplit

from packaging.utils import (
    InvalidSdistFilename,
    NormalizedName,
    parse_sdist_filename,
)
from packaging.version import Version

from wheelnext_jupyter.index.errors import IndexResponseError, UnsupportedAPIVersion
from wheelnext_jupyter.index.models import (
    SUPPORTED_API_VERSION,
    CoreMetadata,
    FileKind,
    IndexFile,
    PageFiles,
    PendingFile,
    ProjectPage,
    ProjectStatus,
    normalize_project_name,
)
from wheelnext_jupyter.index.redact import redact_url
from wheelnext_jupyter.record import MutableRecord
from wheelnext_jupyter.variants.filename import (
    InvalidWheelFilename,
    WheelFilename,
    WheelFilenameFields,
    parse_variants_json_filename,
    wheel_filename_fields,
)

logger = logging.getLogger(__name__)

JSON_CONTENT_TYPE = "application/vnd.pypi.simple.v1+json"
HTML_CONTENT_TYPE = "application/vnd.pypi.simple.v1+html"
#: Prefer JSON, accept the HTML forms; static servers ignore this and answer text/html.
ACCEPT = f"{JSON_CONTENT_TYPE}, {HTML_CONTENT_TYPE};q=0.1, text/html;q=0.01"

_JSON_TYPES = {JSON_CONTENT_TYPE, "application/vnd.pypi.simple.latest+json"}
_HTML_TYPES = {HTML_CONTENT_TYPE, "application/vnd.pypi.simple.latest+html", "text/html"}


class _RawEntry(MutableRecord):
    """A file entry before interpretation; fields hold what the page said, not yet checked."""

    filename: str
    url: str
    hashes: dict[str, str]
    requires_python: str | None = None
    yanked: bool | str | None = None
    core_metadata: bool | str | Mapping[str, str] | None = None
    size: int | None = None
    upload_time: str | None = None


#: An entry as a page lists it: filename, yanked (as `_RawEntry` holds it), and what `read`
#: makes a `_RawEntry` of.
_Entry = tuple[str, bool | str | None, Any]


def _same_entry(entry: _RawEntry) -> _RawEntry:
    return entry


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def parse_project_page(
    body: bytes, *, content_type: str | None, url: str, name: str
) -> ProjectPage:
    """Dispatch on the response Content-Type (not on what was asked for)."""
    kind = media_type(content_type)
    if kind in _JSON_TYPES:
        return parse_json_page(body, url=url, name=name)
    if kind in _HTML_TYPES or kind == "":
        return parse_html_page(body, url=url, name=name)
    raise IndexResponseError(
        f"{redact_url(url)} answered with Content-Type {content_type!r}, which is not a "
        "simple-API page; check that the index URL points at the simple API root"
    )


# --- API version -------------------------------------------------------------------------------


def _api_version(text: str | None, url: str, warnings: list[str]) -> tuple[int, int]:
    if text is None:
        return (1, 0)
    try:
        major_s, _, minor_s = str(text).strip().partition(".")
        major, minor = int(major_s), int(minor_s or 0)
    except ValueError:
        raise IndexResponseError(
            f"{redact_url(url)} declares api-version {text!r}, which is not 'Major.Minor'"
        ) from None
    if major != SUPPORTED_API_VERSION[0]:
        raise UnsupportedAPIVersion(
            f"{redact_url(url)} uses simple-API version {major}.{minor}; this client understands "
            f"major version {SUPPORTED_API_VERSION[0]} only — upgrade wheelnext-jupyter"
        )
    if minor > SUPPORTED_API_VERSION[1]:
        warnings.append(
            f"{redact_url(url)} uses simple-API version {major}.{minor}, newer than the "
            f"{SUPPORTED_API_VERSION[0]}.{SUPPORTED_API_VERSION[1]} this client knows; "
            "unknown fields are ignored"
        )
    return (major, minor)


def _status(status: str | None, reason: str | None, url: str, warnings: list[str]) -> ProjectStatus:
    if status is None:
        return ProjectStatus.ACTIVE
    try:
        value = ProjectStatus(status.strip().lower())
    except ValueError:
        # PEP 792: unknown statuses are treated as active.
        warnings.append(f"{redact_url(url)}: unknown project status {status!r}, treated as active")
        return ProjectStatus.ACTIVE
    why = f" ({reason})" if reason else ""
    if value is ProjectStatus.ARCHIVED:
        warnings.append(f"project at {redact_url(url)} is archived: no further updates{why}")
    elif value is ProjectStatus.DEPRECATED:
        warnings.append(f"project at {redact_url(url)} is deprecated{why}")
    elif value is ProjectStatus.QUARANTINED:
        warnings.append(
            f"project at {redact_url(url)} is quarantined by the index; no files are offered{why}"
        )
    return value


# --- entries -> model --------------------------------------------------------------------------


#: Shared by the thousands of entries of a page that announce no hashes (records are immutable).
_NO_METADATA_FILE = CoreMetadata()
_METADATA_FILE = CoreMetadata(available=True)


def _core_metadata(raw: bool | str | Mapping[str, str] | None) -> CoreMetadata:
    if raw is None or raw is False:
        return _NO_METADATA_FILE
    if raw is True:
        return _METADATA_FILE
    if isinstance(raw, Mapping):
        hashes = {str(k).lower(): str(v).lower() for k, v in raw.items()}
        return CoreMetadata(available=True, hashes=MappingProxyType(hashes))
    text = str(raw).strip()
    if text.lower() == "true":
        return _METADATA_FILE
    algorithm, sep, digest = text.partition("=")
    if sep and algorithm and digest:
        return CoreMetadata(available=True, hashes=MappingProxyType({algorithm.lower(): digest}))
    return _NO_METADATA_FILE


def _build_page(
    *,
    name: str,
    url: str,
    entries: list[_Entry],
    read: Callable[[Any], _RawEntry],
    versions: tuple[str, ...],
    api_version: tuple[int, int],
    status: ProjectStatus,
    status_reason: str | None,
    warnings: list[str],
) -> ProjectPage:
    """The page of `entries`: each is checked now, and its `IndexFile` made (from the entry as
    `read` reads it) when its version is first asked for."""
    project = normalize_project_name(name)
    pending: list[PendingFile] = []
    variants_files: dict[Version, IndexFile] = {}
    if status is not ProjectStatus.QUARANTINED:
        for filename, yanked, item in entries:
            checked = _check_file(project, filename, warnings)
            if checked is None:
                continue
            kind, version, wheel = checked
            if kind is FileKind.VARIANTS_JSON:
                variants_files[version] = _make_file(project, read(item), checked, url)
                continue
            pending.append(
                PendingFile(
                    version,
                    filename,
                    wheel is not None and wheel[6] is not None,  # a label: a variant wheel
                    yanked is not None and yanked is not False,
                    yanked if isinstance(yanked, str) and yanked else None,
                    (item, checked),
                )
            )
    for text in warnings:
        logger.warning("%s", text)

    def make(raw: tuple[Any, _Checked]) -> IndexFile:
        return _make_file(project, read(raw[0]), raw[1], url)

    return ProjectPage(
        name=project,
        files=PageFiles(pending, make),
        variants_files=MappingProxyType(variants_files),
        versions=versions,
        api_version=api_version,
        status=status,
        status_reason=status_reason,
        source_url=redact_url(url),
        warnings=tuple(warnings),
    )


#: A file's kind and version, and for a wheel its checked filename fields.
_Checked = tuple[FileKind, Version, WheelFilenameFields | None]


def _check_file(project: NormalizedName, filename: str, warnings: list[str]) -> _Checked | None:
    """Whether an entry is a file of `project` the page keeps: its filename checked (a
    malformed one noted in `warnings`)."""
    wheel = None
    kind: FileKind
    if filename.endswith("-variants.json"):
        parsed_vj = parse_variants_json_filename(filename)
        if parsed_vj is None:
            warnings.append(f"ignored {filename!r}: not a valid variants file name")
            return None
        dist_name, version = parsed_vj
        kind = FileKind.VARIANTS_JSON
    elif filename.endswith(".whl"):
        try:
            wheel = wheel_filename_fields(filename)
        except InvalidWheelFilename as exc:
            warnings.append(f"ignored {filename!r}: {exc}")
            return None
        dist_name, version, kind = wheel[0], wheel[1], FileKind.WHEEL
    elif filename.endswith((".tar.gz", ".zip")):
        try:
            dist_name, version = parse_sdist_filename(filename)
        except InvalidSdistFilename:
            # Not an error: old pages list eggs, installers and odd archives.
            return None
        kind = FileKind.SDIST
    else:
        return None
    if dist_name != project:
        # Flat pages list every project; on a project page it is a stray file.
        return None
    return kind, version, wheel


def _make_file(
    project: NormalizedName, entry: _RawEntry, checked: _Checked, page_url: str
) -> IndexFile:
    kind, version, wheel = checked
    yanked = entry.yanked is not None and entry.yanked is not False
    reason = entry.yanked if isinstance(entry.yanked, str) and entry.yanked else None
    is_variants = kind is FileKind.VARIANTS_JSON
    return IndexFile(
        filename=entry.filename,
        url=_file_url(page_url, entry.url),
        hashes=MappingProxyType(entry.hashes),
        kind=kind,
        name=project,
        version=version,
        wheel=None if wheel is None else WheelFilename(*wheel),
        # These fields mean nothing on a variants file (standards §11), so they are dropped.
        requires_python=None if is_variants else entry.requires_python,
        yanked=False if is_variants else yanked,
        yanked_reason=None if is_variants else reason,
        core_metadata=(_NO_METADATA_FILE if is_variants else _core_metadata(entry.core_metadata)),
        size=entry.size,
        upload_time=entry.upload_time,
    )


def _file_url(page_url: str, url: str) -> str:
    """A file's absolute URL without its fragment. Pages of large indexes give absolute URLs
    (thousands per page), which are taken as written: resolving each against the page took a
    third of parsing such a page."""
    if url.startswith(("https://", "http://")) and "#" not in url:
        return url
    return urldefrag(urljoin(page_url, url))[0]


# --- JSON --------------------------------------------------------------------------------------


def parse_json_page(body: bytes, *, url: str, name: str) -> ProjectPage:
    """A PEP 691 project page."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise IndexResponseError(
            f"{redact_url(url)} returned malformed JSON ({exc}); the index may be broken, "
            "try again later or use its HTML form"
        ) from None
    if not isinstance(data, dict):
        raise IndexResponseError(f"{redact_url(url)} returned JSON that is not an object")
    warnings: list[str] = []
    meta = data.get("meta") if isinstance(data.get("meta"), dict) else {}
    assert isinstance(meta, dict)
    api_version = _api_version(meta.get("api-version"), url, warnings)
    status_obj = data.get("project-status")
    status_text = reason = None
    if isinstance(status_obj, dict):
        status_text = _opt_str(status_obj.get("status"))
        reason = _opt_str(status_obj.get("reason"))
    status = _status(status_text, reason, url, warnings)
    raw_files = data.get("files", [])
    if not isinstance(raw_files, list):
        raise IndexResponseError(f"{redact_url(url)}: 'files' is not a list")
    # Only what can drop an entry is read now (see `_build_page`); the rest with its file.
    entries: list[_Entry] = []
    for item in raw_files:
        if (
            not isinstance(item, dict)
            or not isinstance(item.get("filename"), str)
            or not isinstance(item.get("url"), str)
        ):
            warnings.append(f"ignored a malformed file entry on {redact_url(url)}")
            continue
        yanked = item.get("yanked")
        entries.append(
            (item["filename"], yanked if isinstance(yanked, (bool, str)) else None, item)
        )
    raw_versions = data.get("versions", [])
    versions = tuple(str(v) for v in raw_versions) if isinstance(raw_versions, list) else ()
    page_name = data.get("name") if isinstance(data.get("name"), str) else name
    assert isinstance(page_name, str)
    return _build_page(
        name=page_name,
        url=url,
        entries=entries,
        read=_read_json_entry,
        versions=versions,
        api_version=api_version,
        status=status,
        status_reason=reason,
        warnings=warnings,
    )


def _opt_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _read_json_entry(item: Any) -> _RawEntry:
    entry = _json_entry(item)
    assert entry is not None  # checked when the page was read
    return entry


def _json_entry(item: Any) -> _RawEntry | None:
    if not isinstance(item, dict):
        return None
    filename, file_url = item.get("filename"), item.get("url")
    if not isinstance(filename, str) or not isinstance(file_url, str):
        return None
    hashes_raw = item.get("hashes", {})
    hashes = (
        {str(k).lower(): str(v).lower() for k, v in hashes_raw.items()}
        if isinstance(hashes_raw, dict)
        else {}
    )
    core: Any = None
    # PEP 714: the key was renamed twice; read the newest one present.
    for key in ("core-metadata", "dist-info-metadata", "data-dist-info-metadata"):
        if key in item:
            core = item[key]
            break
    if not isinstance(core, (bool, dict)):
        core = None
    yanked = item.get("yanked")
    size = item.get("size")
    return _RawEntry(
        filename=filename,
        url=file_url,
        hashes=hashes,
        requires_python=_opt_str(item.get("requires-python")),
        yanked=yanked if isinstance(yanked, (bool, str)) else None,
        core_metadata=core,
        size=size if isinstance(size, int) and not isinstance(size, bool) else None,
        upload_time=_opt_str(item.get("upload-time")),
    )


# --- HTML --------------------------------------------------------------------------------------


def parse_html_page(body: bytes, *, url: str, name: str) -> ProjectPage:
    """A PEP 503 project page (or a flat page of links, filtered to `name`)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise IndexResponseError(
            f"{redact_url(url)} returned an HTML page that is not UTF-8"
        ) from None
    # Imported at the first HTML page: most indexes answer in JSON.
    from wheelnext_jupyter.index.html_links import LinkParser

    parser = LinkParser()
    try:
        parser.feed(text)
        parser.close()
    except Exception as exc:  # html.parser is lenient; this guards against the odd assertion
        raise IndexResponseError(f"{redact_url(url)} returned malformed HTML ({exc})") from None
    if "<a" not in text.lower() and "<html" not in text.lower() and "<meta" not in text.lower():
        raise IndexResponseError(
            f"{redact_url(url)} did not return an HTML page of links; check the index URL"
        )
    warnings: list[str] = []
    api_version = _api_version(parser.meta.get("pypi:repository-version"), url, warnings)
    reason = parser.meta.get("pypi:project-status-reason")
    status = _status(parser.meta.get("pypi:project-status"), reason, url, warnings)
    base = urljoin(url, parser.base) if parser.base else url
    entries: list[_Entry] = []
    for attrs, anchor_text in parser.anchors:
        href = attrs.get("href")
        if not href:
            continue
        absolute = urljoin(base, href)
        file_url, fragment = urldefrag(absolute)
        # The URL's last path segment names the file (as pip reads it); the anchor text is
        # only a fallback, since flat pages sometimes write descriptive text there.
        filename = unquote(urlsplit(file_url).path.rsplit("/", 1)[-1]) or anchor_text
        hashes: dict[str, str] = {}
        algorithm, sep, digest = fragment.partition("=")
        if sep and algorithm and digest:
            hashes[algorithm.lower()] = digest.lower()
        core: str | None = None
        for key in ("data-core-metadata", "data-dist-info-metadata"):
            if key in attrs:
                core = attrs[key] or "true"
                break
        yanked: str | bool | None = None
        if "data-yanked" in attrs:
            yanked = attrs["data-yanked"] or True
        entry = _RawEntry(
            filename=filename,
            url=file_url,
            hashes=hashes,
            requires_python=attrs.get("data-requires-python") or None,
            yanked=yanked,
            core_metadata=core,
        )
        entries.append((filename, yanked, entry))
    return _build_page(
        name=name,
        url=url,
        entries=entries,
        read=_same_entry,
        versions=(),
        api_version=api_version,
        status=status,
        status_reason=reason,
        warnings=warnings,
    )
