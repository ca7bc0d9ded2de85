"""Check a wheel completely before a byte of it is written into an environment.

pip and packaging reject variant filenames and installer swallows the label into the platform
tag, so the filename, tags, metadata names, RECORD and the variant label are all checked here.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import operator
import posixpath
import re
from collections.abc import Iterable, Sequence, Set
from itertools import repeat
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, Protocol

from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version

from wheelnext_jupyter.install.target import TargetEnvironment
from wheelnext_jupyter.record import Record
from wheelnext_jupyter.resolve.metadata_fields import read_fields
from wheelnext_jupyter.variants.filename import (
    InvalidWheelFilename,
    WheelFilename,
    parse_wheel_filename,
)
from wheelnext_jupyter.variants.metadata import (
    VariantMetadata,
    VariantMetadataError,
    read_variant_metadata,
)

if TYPE_CHECKING:
    from wheelnext_jupyter.install.archive import WheelArchive

#: `.data/<key>/` directories the wheel spec defines.
DATA_SCHEME_KEYS = frozenset({"purelib", "platlib", "scripts", "data", "headers"})
#: Hashes weaker than these are refused in RECORD (the wheel spec forbids md5 and sha1).
_ACCEPTED_HASHES = frozenset({"sha256", "sha384", "sha512", "sha3_256", "sha3_384", "sha3_512"})
_SIGNATURE_FILES = ("RECORD.jws", "RECORD.p7s")
_DRIVE_RE = re.compile(r"^[A-Za-z]:")
#: In archive names, each wrapped in newlines: what any name `check_member_path` refuses
#: contains (an absolute path, a drive, a `..` part), besides the `.data` directory rule.
_SUSPECT_MARKS = ("\n/", "\\", ":", "..")


class WheelError(Exception):
    """A wheel that must not be installed; names the file and the problem."""

    def __init__(self, wheel: str, problem: str) -> None:
        super().__init__(f"{wheel}: {problem}")
        self.wheel = wheel
        self.problem = problem


class InvalidWheel(WheelError):
    """Malformed filename, archive, metadata or WHEEL file."""


class IncompatibleWheel(WheelError):
    """None of the wheel's tags is supported by the target interpreter."""


class RecordMismatch(WheelError):
    """RECORD is missing an entry, or a file's hash or size differs from RECORD."""


class PathEscape(WheelError):
    """An archive member would land outside the install scheme (absolute path, `..`)."""


class VariantMismatch(WheelError):
    """A variant wheel whose `variant.json` is missing, unreadable or does not name its label."""


class ArchiveReader(Protocol):
    """What the checks read of a wheel: a `WheelArchive`, or a cache entry standing in for
    one (`unpacked_cache.CachedArchive`)."""

    def file_names(self) -> Sequence[str]:
        """The names of the members but directories, in the archive's order."""
        ...

    def read(self, name: str) -> bytes: ...


class RecordEntry(NamedTuple):
    """One RECORD row of a wheel member (a named tuple, not a dataclass: a wheel has thousands,
    and a frozen dataclass takes twice as long to make)."""

    path: str
    hash_algorithm: str
    #: urlsafe base64 without padding, as RECORD writes it.
    digest: str
    size: int


class VerifiedWheel(Record):
    """A wheel that passed every check, with what the writer needs to install it."""

    #: The wheel file; only its name (a relative path that is not there) for a wheel checked
    #: in memory or from its unpacked-cache entry: read it through `sha256` only for a file.
    path: Path
    filename: WheelFilename
    name: NormalizedName
    #: The `Name:` of METADATA as written (display name).
    display_name: str
    version: Version
    #: `{name}-{version}.dist-info` as found in the archive.
    dist_info: str
    #: `{name}-{version}.data` (may be absent from the archive).
    data_dir: str
    root_is_purelib: bool
    #: Archive members with their RECORD entries (RECORD itself and signatures excluded).
    entries: tuple[RecordEntry, ...]
    label: str | None
    variant_metadata: VariantMetadata | None
    #: False when the members' hashes and sizes are still to be checked (by the stager, which
    #: checks each member while unpacking it, so a wheel is decompressed only once).
    contents_checked: bool = True
    #: The text of `.dist-info/entry_points.txt` (read with the other metadata), or None.
    entry_points: str | None = None
    #: The bytes of `.dist-info/variant.json` of a variant wheel (for lock files), or None.
    variant_json: bytes | None = None

    @property
    def sha256(self) -> str:
        """Hex sha256 of the wheel file (for `direct_url.json` of a local file)."""
        digest = hashlib.sha256()
        with self.path.open("rb") as stream:
            for block in iter(lambda: stream.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest()


def record_digest(algorithm: str, data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.new(algorithm, data).digest()).rstrip(b"=").decode()


def check_member_path(wheel: str, member: str, data_dir: str) -> None:
    """Refuse names that could escape the scheme directories (absolute, drive, `..`, bad `.data`)."""
    if member.startswith(("/", "\\")) or _DRIVE_RE.match(member):
        raise PathEscape(wheel, f"archive member {member!r} is an absolute path")
    parts = member.replace("\\", "/").split("/")
    if ".." in parts:
        raise PathEscape(wheel, f"archive member {member!r} climbs out with '..'")
    if parts[0] == data_dir and (len(parts) < 3 or parts[1] not in DATA_SCHEME_KEYS):
        raise PathEscape(
            wheel,
            f"archive member {member!r} is not inside one of "
            f"{data_dir}/{{{','.join(sorted(DATA_SCHEME_KEYS))}}}/",
        )


def all_normalised(paths: Iterable[str]) -> bool:
    """Whether every path is relative and unchanged by `posixpath.normpath`. Thousands of
    paths are joined and searched a few times; a newline inside a name may answer False."""
    # Joined and wrapped in newlines, then newlines made slashes: any path that is absolute or
    # that `normpath` would change (empty, a doubled or trailing slash, a `.` or `..` part)
    # shows a doubled slash or a dot part between slashes.
    text = ("\n" + "\n".join(paths) + "\n").replace("\n", "/")
    return "//" not in text and "/./" not in text and "/../" not in text


def _marked(names: Iterable[str], marks: tuple[str, ...]) -> bool:
    text = "\n" + "\n".join(names) + "\n"
    return any(mark in text for mark in marks)


def open_archive(path: Path) -> WheelArchive:
    """The wheel's zip archive, or `InvalidWheel` saying why it cannot be read."""
    # Imported here: the archive module raises this module's errors.
    from wheelnext_jupyter.install.archive import WheelArchive

    try:
        return WheelArchive(path)
    except OSError as exc:
        raise InvalidWheel(path.name, f"not a readable zip archive ({exc})") from None


def verify_wheel(
    path: str | Path,
    target: TargetEnvironment | None = None,
    *,
    check_contents: bool = True,
    archive: ArchiveReader | None = None,
) -> VerifiedWheel:
    """Check a wheel file; raise a `WheelError` subclass naming the first problem found.

    With `target`, the wheel's tags must be among the target's supported tags. Without
    `check_contents` every check is made except decompressing and hashing the members: the
    result then says `contents_checked=False`, and whoever unpacks it must compare each member
    with its RECORD entry (`check_member`), as `install.staging` does. `archive` is the wheel
    already opened (with `open_archive`) by a caller that goes on reading it; it stays open.
    """
    path = Path(path)
    wheel = path.name
    try:
        filename = parse_wheel_filename(wheel)
    except InvalidWheelFilename as exc:
        raise InvalidWheel(wheel, str(exc)) from None
    if target is not None and not (filename.tags & target.supported_tags()):
        raise IncompatibleWheel(
            wheel,
            f"tags {filename.python_tag}-{filename.abi_tag}-{filename.platform_tag} are not "
            f"supported by {target.python} ({target.implementation} "
            f"{'.'.join(map(str, target.version))}, {target.platform}); "
            "pick a wheel built for this interpreter",
        )
    if archive is not None:
        return _verify_archive(path, filename, archive, check_contents)
    with open_archive(path) as opened:
        return _verify_archive(path, filename, opened, check_contents)


def content_mismatch(
    wheel: str, entry: RecordEntry, digest: str, size: int, *, checked_before: bool
) -> RecordMismatch | None:
    """The error for a member whose content differs from its RECORD entry, or None if it matches."""
    if checked_before and (digest != entry.digest or size != entry.size):
        return RecordMismatch(wheel, f"{entry.path} changed since it was verified")
    if digest != entry.digest:
        return RecordMismatch(
            wheel,
            f"{entry.path} has {entry.hash_algorithm}={digest}, RECORD says {entry.digest}; "
            "the wheel is corrupt or was modified — download it again",
        )
    if size != entry.size:
        return RecordMismatch(wheel, f"{entry.path} is {size} bytes, RECORD says {entry.size}")
    return None


def _verify_archive(
    path: Path, filename: WheelFilename, archive: ArchiveReader, check_contents: bool
) -> VerifiedWheel:
    wheel = path.name
    names = set(archive.file_names())
    tops = {name.partition("/")[0] for name in names if "/" in name}
    dist_infos = {top for top in tops if top.endswith(".dist-info")}
    if len(dist_infos) != 1:
        found = ", ".join(sorted(dist_infos)) or "none"
        raise InvalidWheel(
            wheel, f"expected exactly one top-level .dist-info directory, found {found}"
        )
    dist_info = dist_infos.pop()
    stem = dist_info[: -len(".dist-info")]
    dist_name, _, dist_version = stem.rpartition("-")
    try:
        parsed_version = Version(dist_version)
    except InvalidVersion:
        raise InvalidWheel(wheel, f"{dist_info} does not end in a valid version") from None
    if canonicalize_name(dist_name) != filename.name or parsed_version != filename.version:
        raise InvalidWheel(
            wheel,
            f"{dist_info} does not match the filename's {filename.name} {filename.version}",
        )
    data_dir = f"{stem}.data"

    metadata = _read(archive, wheel, f"{dist_info}/METADATA")
    headers = read_fields(metadata.decode("utf-8", errors="surrogateescape"))
    meta_name, meta_version = headers.get("Name"), headers.get("Version")
    if not meta_name or not meta_version:
        raise InvalidWheel(wheel, f"{dist_info}/METADATA lacks Name or Version")
    try:
        version = Version(meta_version)
    except InvalidVersion:
        raise InvalidWheel(wheel, f"METADATA Version {meta_version!r} is invalid") from None
    if canonicalize_name(meta_name) != filename.name or version != filename.version:
        raise InvalidWheel(
            wheel,
            f"METADATA says {meta_name} {meta_version}, the filename says "
            f"{filename.name} {filename.version}",
        )

    wheel_text = _read(archive, wheel, f"{dist_info}/WHEEL").decode(
        "utf-8", errors="surrogateescape"
    )
    wheel_headers = read_fields(wheel_text)
    wheel_version = (wheel_headers.get("Wheel-Version") or "").strip()
    if not re.match(r"^1(\.\d+)?$", wheel_version):
        raise InvalidWheel(
            wheel,
            f"Wheel-Version {wheel_version or '(missing)'!r} is not supported; only 1.x is",
        )
    purelib_text = (wheel_headers.get("Root-Is-Purelib") or "").strip().lower()
    if purelib_text not in ("true", "false"):
        raise InvalidWheel(wheel, "WHEEL must say Root-Is-Purelib: true or false")

    entries = _verify_record(archive, wheel, dist_info, data_dir, names)
    if check_contents:
        # Imported here: the archive module raises this module's errors.
        from wheelnext_jupyter.install.archive import WheelArchive

        if not isinstance(archive, WheelArchive):
            raise TypeError("only a wheel's own archive has contents to check")
        _check_contents(archive, wheel, entries)
    label = filename.label
    variant_metadata = variant_json = None
    if label is not None:
        member = f"{dist_info}/variant.json"
        if member not in names:
            raise VariantMismatch(
                wheel, f"the filename carries variant label {label!r} but {member} is missing"
            )
        variant_json = _read(archive, wheel, member)
        variant_metadata = _verify_variant(variant_json, wheel, member, label)
    return VerifiedWheel(
        path=path,
        filename=filename,
        name=filename.name,
        display_name=meta_name,
        version=version,
        dist_info=dist_info,
        data_dir=data_dir,
        root_is_purelib=purelib_text == "true",
        entries=entries,
        label=label,
        variant_metadata=variant_metadata,
        contents_checked=check_contents,
        entry_points=_entry_points(archive, wheel, dist_info, names),
        variant_json=variant_json,
    )


def _entry_points(
    archive: ArchiveReader, wheel: str, dist_info: str, names: set[str]
) -> str | None:
    member = f"{dist_info}/entry_points.txt"
    if member not in names:
        return None
    try:
        return _read(archive, wheel, member).decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidWheel(wheel, f"{member} is not UTF-8 text") from None


def _read(archive: ArchiveReader, wheel: str, member: str) -> bytes:
    try:
        return archive.read(member)
    except KeyError:
        raise InvalidWheel(wheel, f"{member} is missing") from None


def _verify_record(
    archive: ArchiveReader, wheel: str, dist_info: str, data_dir: str, names: set[str]
) -> tuple[RecordEntry, ...]:
    record_name = f"{dist_info}/RECORD"
    text = _read(archive, wheel, record_name).decode("utf-8", errors="replace")
    unrecorded = {record_name} | {f"{dist_info}/{s}" for s in _SIGNATURE_FILES}
    plain = _plain_record(text, names, unrecorded)
    recorded: dict[str, RecordEntry] = plain if plain is not None else {}
    for row in csv.reader(io.StringIO(text)) if plain is None else ():
        if not row:
            continue
        if len(row) != 3:
            raise RecordMismatch(wheel, f"RECORD row {row!r} does not have 3 fields")
        member, hash_text, size_text = row
        if member not in names:  # names in the archive are all checked below
            check_member_path(wheel, member, data_dir)
        if member in unrecorded:
            continue
        algorithm, _, digest = hash_text.partition("=")
        if not digest:
            raise RecordMismatch(wheel, f"RECORD has no hash for {member}")
        if algorithm not in _ACCEPTED_HASHES:
            raise RecordMismatch(wheel, f"RECORD uses {algorithm!r} for {member}; use sha256")
        try:
            size = int(size_text)
        except ValueError:
            raise RecordMismatch(
                wheel, f"RECORD size {size_text!r} of {member} is not a number"
            ) from None
        recorded[member] = RecordEntry(member, algorithm, digest, size)
    # Keyed by normalised path; almost every RECORD writes its paths normalised already.
    listed: Set[str] = recorded.keys()
    if not all_normalised(recorded):
        listed = set(recorded)
        recorded = {posixpath.normpath(path): entry for path, entry in recorded.items()}

    # Names under the `.data` directory are checked in full; the others only if one of
    # them could fail the check (thousands of names, searched at once).
    check_all = _marked(names, _SUSPECT_MARKS)
    for name in sorted(names if check_all else [n for n in names if n.startswith(data_dir)]):
        check_member_path(wheel, name, data_dir)
    # Set differences, as there are thousands of names; RECORD nearly always writes each name
    # exactly as the archive does, and is searched for its normalised form only if not.
    for name in sorted(names - recorded.keys() - unrecorded):
        if posixpath.normpath(name) not in recorded:
            raise RecordMismatch(wheel, f"{name} is in the archive but not in RECORD")
    absent = listed - names
    if absent:
        first = next(entry.path for entry in recorded.values() if entry.path in absent)
        raise RecordMismatch(wheel, f"RECORD lists {first}, which is not in the archive")
    return tuple(recorded.values())


def _plain_record(
    text: str, names: set[str], unrecorded: set[str]
) -> dict[str, RecordEntry] | None:
    """RECORD's entries by path, made at once where every row is plainly well formed (the
    usual case: thousands of rows); None where any row needs the row-by-row checks, which find
    its problem. Every path must be an archive member (one that is not is checked first).

    Without quotes or NULs, with lines that all end in CRLF or all in LF, and with no line
    over the `csv` field limit, `csv` reads a RECORD exactly as splitting its lines at commas
    does; with two commas on each line, the lines joined by commas split into the rows' fields
    in turn.
    """
    if '"' in text or "\0" in text:
        return None
    # Lines end in CRLF or in LF throughout, as a rule: any other line end stays in a line.
    lines = text.split("\r\n" if "\r" in text else "\n")
    if lines[-1] == "":
        lines.pop()
    if "" in lines:  # `csv` yields no row for an empty line
        lines = [line for line in lines if line]
    if not lines or max(map(len, lines)) > csv.field_size_limit():
        return None
    if set(map(str.count, lines, repeat(","))) != {2}:
        return None
    joined = ",".join(lines)
    if "\r" in joined or "\n" in joined:
        return None
    fields = joined.split(",")
    paths, hashes, sizes = fields[0::3], fields[1::3], fields[2::3]
    if not names.issuperset(paths):
        return None
    # The rows of RECORD itself and its signatures, found by place (once each, as a rule).
    for path in unrecorded.intersection(paths):
        index = paths.index(path)
        del paths[index], hashes[index], sizes[index]
    if not paths or not unrecorded.isdisjoint(paths):
        return None
    # Every hash is `<algorithm>=<digest>`, nearly always with one algorithm.
    algorithm = hashes[0].partition("=")[0]
    prefix = algorithm + "="
    if algorithm not in _ACCEPTED_HASHES or not all(map(str.startswith, hashes, repeat(prefix))):
        return None
    digests = list(map(operator.itemgetter(slice(len(prefix), None)), hashes))
    if "" in digests:
        return None
    try:
        numbers = list(map(int, sizes))
    except ValueError:
        return None
    # Made as plain tuples of the named tuple's type: its own constructor is a Python call.
    entries = map(
        tuple.__new__, repeat(RecordEntry), zip(paths, repeat(algorithm), digests, numbers)
    )
    return dict(zip(paths, entries, strict=True))


def _check_contents(archive: WheelArchive, wheel: str, entries: tuple[RecordEntry, ...]) -> None:
    for entry in entries:
        hasher = hashlib.new(entry.hash_algorithm)
        size = 0
        for block in archive.blocks(archive.getinfo(entry.path), 1 << 20):
            hasher.update(block)
            size += len(block)
        actual = base64.urlsafe_b64encode(hasher.digest()).rstrip(b"=").decode()
        mismatch = content_mismatch(wheel, entry, actual, size, checked_before=False)
        if mismatch is not None:
            raise mismatch


def _verify_variant(document: bytes, wheel: str, member: str, label: str) -> VariantMetadata:
    try:
        metadata = read_variant_metadata(document, source=f"{wheel}:{member}")
    except VariantMetadataError as exc:
        raise VariantMismatch(wheel, f"{member} is unreadable: {exc}") from None
    known = set(metadata.labels()) | set(metadata.label_aliases)
    if label not in known:
        named = ", ".join(sorted(known)) or "none"
        raise VariantMismatch(
            wheel, f"{member} names variant(s) {named}, not the filename's label {label!r}"
        )
    return metadata
