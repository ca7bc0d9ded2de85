"""Unpacked wheels kept in the cache, so installing a wheel a second time is hard links only.

An entry is the members of one wheel file (keyed by the wheel's sha256) as plain files, named by
number (256 to a subdirectory), with a manifest of each member's number, sha256, size and executable
bit, and of what else the wheel's checks read: the names of all its members and its RECORD
(and the file's size). An entry therefore stands in for the wheel file (`CachedArchive`): a
wheel that was downloaded into memory and unpacked needs no copy of its own in the wheel cache.
Entries are made from a staging directory after a wheel has been unpacked and checked there (a
hard link per file, no copying) and used only when the cache and the target environment are on
one file system.

The installed files and the cache share inodes. A file changed in place in an environment would
change the cache too, so every file is checked against the manifest (size, and a modification
time not after the entry was made) before it is linked; an entry that fails is removed and the
wheel is unpacked from its archive again.

The manifest is written with `marshal` (its version pinned): the manifests of a notebook stack's
29 wheels (7,905 members) encode in 1.9 ms against 9.8 ms as JSON, and read back in 3.3 ms
against 5.9, on the path of every install. Like the files themselves, it is only ever read from
this user's own cache.
"""

# Thousands of files per install pass through here: plain strings and `os` calls on that path.
# ruff: noqa: PTH103, PTH104, PTH116, PTH118, PTH120, PTH123

from __future__ import annotations

import contextlib
import marshal
import os
import time
from collections.abc import Iterable
from itertools import repeat
from pathlib import Path
from typing import NamedTuple

from wheelnext_jupyter.record import Record

MANIFEST = "manifest.marshal"
_FORMAT = 4
#: The `marshal` format the manifest is written in; every later interpreter reads it.
_MARSHAL_VERSION = 4
#: What entries in older formats named their manifest.
_OLDER_MANIFESTS = ("manifest.json",)
#: Members per subdirectory of an entry: creating a file in a directory of thousands costs about
#: twice as much as in a small one (the native unpacker uses the same layout).
_PER_DIRECTORY = 256


def member_path(directory: str, number: int) -> str:
    """Where member `number` of an entry in `directory` is kept."""
    return os.path.join(directory, str(number // _PER_DIRECTORY), str(number))


def _remove_tree(directory: Path) -> None:
    """Remove `directory` and what it holds, as far as possible."""
    # shutil (with bz2 and lzma) is imported only when an entry is removed: the engine makes
    # this cache before its resolver starts, and the command line imports it on every run.
    import shutil

    shutil.rmtree(directory, ignore_errors=True)


class StaleEntry(Exception):
    """A cached file differs from its manifest: the entry was removed, unpack the wheel."""


class CachedMember(NamedTuple):
    """A cached member (a named tuple: an entry has thousands, made at once)."""

    number: int
    #: urlsafe base64 sha256 without padding, as RECORD writes it.
    sha256: str
    size: int
    executable: bool


class CachedWheel(Record):
    """One usable entry: the members of a wheel, ready to be linked."""

    directory: Path
    created_ns: int
    members: dict[str, CachedMember]
    #: The size of the wheel file.
    size: int
    #: Every file name in the wheel's archive, RECORD included (directories excluded).
    names: tuple[str, ...]
    #: The wheel's own RECORD (it is not kept as a member: the installed one is written anew).
    record_name: str
    record: bytes

    def link(self, member: str, destination: str) -> CachedMember:
        """Hard-link one member to `destination`; raises `StaleEntry` if it was changed."""
        entry = self.members[member]
        source = member_path(str(self.directory), entry.number)
        try:
            facts = os.stat(source)
        except FileNotFoundError:
            raise self.stale() from None
        if facts.st_size != entry.size or facts.st_mtime_ns > self.created_ns:
            raise self.stale()
        os.link(source, destination)
        return entry

    def read(self, member: str) -> bytes:
        entry = self.members[member]
        with open(member_path(str(self.directory), entry.number), "rb") as file:
            data = file.read()
        if len(data) != entry.size:
            raise self.stale()
        return data

    def archive(self) -> CachedArchive:
        """The entry read as the wheel's archive, for the wheel's checks."""
        return CachedArchive(self)

    def stale(self) -> StaleEntry:
        """The error for a changed entry, which is removed (the wheel is unpacked again)."""
        _remove_tree(self.directory)
        return StaleEntry(f"cached files of {self.directory.name} were changed")


class CachedName(NamedTuple):
    """A member of a `CachedArchive` (as much of a zip entry as the wheel's checks read)."""

    filename: str


class CachedArchive:
    """A cache entry read as the archive it was unpacked from: the member names, and any
    member's content (RECORD from the manifest). A member changed in the cache raises
    `StaleEntry`, as linking it would."""

    def __init__(self, entry: CachedWheel) -> None:
        self._entry = entry
        self._members: list[CachedName] | None = None

    def infolist(self) -> list[CachedName]:
        if self._members is None:
            # Made as plain tuples of the named tuple's type: its constructor is a Python call.
            self._members = list(map(tuple.__new__, repeat(CachedName), zip(self._entry.names)))
        return self._members

    def file_names(self) -> tuple[str, ...]:
        """The names of the wheel's members (directories were never listed)."""
        return self._entry.names

    def read(self, name: str) -> bytes:
        """A member's content; KeyError if the wheel has no such member."""
        if name == self._entry.record_name:
            return self._entry.record
        if name not in self._entry.members:
            if name in self._entry.names:
                raise self._entry.stale()
            raise KeyError(name)
        try:
            return self._entry.read(name)
        except OSError:
            raise self._entry.stale() from None


class EntryDraft:
    """An entry being made in a `.part` directory beside its final place, from the files of a
    wheel that is being staged; `publish()` renames it into place, `discard()` removes it.

    Members are files named by number: hard links to staged files, written data, or files a
    caller placed there itself (the native unpacker links as it writes) and only `record`s.
    Any refused link spoils the draft (it is only a cache): it is discarded at `publish()`.
    """

    def __init__(self, final: Path, part: Path) -> None:
        self._final = final
        self._part = part
        self.directory = str(part)
        self._listed: dict[str, list[object]] = {}
        self._made: set[str] = set()
        self._usable = True
        self._archive: dict[str, object] | None = None

    def describe(self, size: int, names: list[str], record_name: str, record: bytes) -> None:
        """What the wheel's checks read besides the members (its names and its RECORD) and
        the wheel file's size. A draft without them is not published."""
        try:
            text = record.decode("utf-8")
        except UnicodeDecodeError:
            self._usable = False
            return
        self._archive = {"size": size, "names": names, "record_name": record_name, "record": text}

    def record(self, member: str, number: int, sha256: str, size: int, executable: bool) -> None:
        """List a member whose file `number` is already in the draft."""
        self._listed[member] = [number, sha256, size, executable]

    def record_all(
        self,
        members: Iterable[str],
        numbers: Iterable[int],
        sha256s: Iterable[str],
        sizes: Iterable[int],
        executables: Iterable[bool],
    ) -> None:
        """`record` for many members at once (one call for thousands)."""
        listed = map(list, zip(numbers, sha256s, sizes, executables, strict=True))
        self._listed.update(zip(members, listed, strict=True))

    def order(self, members: Iterable[str]) -> None:
        """List the members recorded so far in this order (the wheel's)."""
        listed = self._listed
        self._listed = {member: listed[member] for member in members if member in listed}

    def link(
        self, member: str, number: int, path: str, sha256: str, size: int, executable: bool
    ) -> None:
        if not self._usable:
            return
        try:
            os.link(path, self._place(number))
        except OSError:
            self._usable = False
            return
        self.record(member, number, sha256, size, executable)

    def write(self, member: str, number: int, data: bytes, sha256: str, executable: bool) -> None:
        if not self._usable:
            return
        try:
            with open(self._place(number), "xb") as file:
                file.write(data)
        except OSError:
            self._usable = False
            return
        self.record(member, number, sha256, len(data), executable)

    def _place(self, number: int) -> str:
        path = member_path(self.directory, number)
        parent = os.path.dirname(path)
        if parent not in self._made:
            os.makedirs(parent, exist_ok=True)
            self._made.add(parent)
        return path

    def spoil(self) -> None:
        self._usable = False

    def publish(self) -> bool:
        """Put the entry in place; any failure leaves no entry. Whether it was put there."""
        published = False
        try:
            if self._usable and self._archive is not None and not self._final.exists():
                # Taken after every file exists: a file modified later has a newer time.
                document = {
                    "format": _FORMAT,
                    "created_ns": time.time_ns(),
                    "members": self._listed,
                    **self._archive,
                }
                data = marshal.dumps(document, _MARSHAL_VERSION)
                with open(self._part / MANIFEST, "xb") as file:
                    file.write(data)
                os.rename(self._part, self._final)
                published = True
        except OSError:
            pass
        finally:
            self.discard()
        return published

    def discard(self) -> None:
        with contextlib.suppress(OSError):
            if self._part.exists():
                _remove_tree(self._part)


class UnpackedCache:
    """The unpacked-wheel cache in `root`, used for targets on the same file system."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._devices: dict[str, bool] = {}

    def usable_for(self, directory: Path) -> bool:
        """Whether files under `directory` can be hard links to this cache's files."""
        key = str(directory)
        if key not in self._devices:
            try:
                self.root.mkdir(parents=True, exist_ok=True)
                self._devices[key] = os.stat(self.root).st_dev == os.stat(directory).st_dev
            except OSError:
                self._devices[key] = False
        return self._devices[key]

    def lookup(self, wheel_sha256: str) -> CachedWheel | None:
        """The entry of the wheel whose file has this sha256 (hex), or None. An entry in an
        older format is removed, so that a new one can take its place."""
        directory = self.root / wheel_sha256.lower()
        try:
            with open(directory / MANIFEST, "rb") as file:
                data = file.read()
        except FileNotFoundError:
            if any((directory / name).exists() for name in _OLDER_MANIFESTS):
                _remove_tree(directory)
            return None
        except OSError:
            return None
        try:
            document = marshal.loads(data)
            if document.get("format") == _FORMAT:
                listed = document["members"]
                listings = listed.values()
                members: dict[str, CachedMember] = {}
                if listings:
                    # Column by column (thousands of members), each field converted to its
                    # type; made as plain tuples of the named tuple's type (its own constructor
                    # is a Python call).
                    numbers, digests, sizes, executables = zip(*listings, strict=True)
                    fields = zip(
                        map(int, numbers),
                        map(str, digests),
                        map(int, sizes),
                        map(bool, executables),
                        strict=True,
                    )
                    made = map(tuple.__new__, repeat(CachedMember), fields)
                    members = dict(zip(listed, made, strict=True))
                return CachedWheel(
                    directory,
                    int(document["created_ns"]),
                    members,
                    int(document["size"]),
                    tuple(map(str, document["names"])),
                    str(document["record_name"]),
                    str(document["record"]).encode("utf-8"),
                )
        except (AttributeError, ValueError, KeyError, TypeError, EOFError):
            pass
        _remove_tree(directory)
        return None

    def draft(self, wheel_sha256: str) -> EntryDraft | None:
        """A new entry to fill while the wheel is staged; None if there is one already or
        none can be made."""
        final = self.root / wheel_sha256
        if final.exists():
            return None
        part = self.root / f"{wheel_sha256}.{os.urandom(16).hex()}.part"
        try:
            part.mkdir(parents=True)
        except OSError:
            return None
        return EntryDraft(final, part)


__all__ = [
    "CachedArchive",
    "CachedMember",
    "CachedName",
    "CachedWheel",
    "EntryDraft",
    "StaleEntry",
    "UnpackedCache",
]
