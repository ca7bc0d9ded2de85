"""A wheel's zip archive, mapped into memory and read with as few calls as possible.

`zipfile` builds a `ZipInfo` per member in Python (about 4 µs each, thousands per wheel) and
reads a member through a locked, seeking file object in small pieces. Here the central
directory is read by the native unpacker (`_unpack.directory`) when it is built, by `zipfile`
otherwise; a member's compressed bytes are one slice of the mapping, inflated in one call. A
large member is inflated without the GIL, so two threads really unpack two wheels at once; a
small one (the dist-info files read to check a wheel) by the native unpacker with the GIL held,
because a thread that lets the GIL go waits up to the switch interval (5 ms) to have it back
while other threads run Python, and inflating a few kilobytes takes microseconds. Members in
other compression methods, or encrypted, are left to `zipfile`.
"""

from __future__ import annotations

import io
import mmap
import struct
import zlib
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from types import ModuleType
from typing import IO, TYPE_CHECKING, TypeAlias

from wheelnext_jupyter.install.wheelfile import InvalidWheel

if TYPE_CHECKING:
    import zipfile

    from wheelnext_jupyter.install._unpack import Member as NativeMember

# `zipfile` (other compression methods, no native unpacker) and ISA-L (members too large for the
# native unpacker to read with the GIL held) are imported where first needed: with the native
# unpacker, an install needs neither, and importing them took a few milliseconds of the
# interpreter while the resolver was busy with it.
_inflater_module: ModuleType | None = None


def _inflater() -> ModuleType:
    global _inflater_module
    if _inflater_module is None:
        try:
            # ISA-L inflates about twice as fast as zlib; it is installed where it has wheels.
            from isal import isal_zlib

            _inflater_module = isal_zlib
        except ImportError:  # pragma: no cover - platforms without isal wheels
            _inflater_module = zlib
    return _inflater_module


def _zipfile_module() -> ModuleType:
    import zipfile

    return zipfile


_native: ModuleType | None
try:
    # Compiled where the build had a C compiler (see hatch_build.py); pure Python otherwise.
    from wheelnext_jupyter.install import _unpack as _native
except ImportError:  # pragma: no cover - builds without the extension
    _native = None

#: A zip local file header: signature … file name length, extra field length.
_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")
_LOCAL_MAGIC = b"PK\x03\x04"
ENCRYPTED = 0x1
#: The compression methods read here (and by the native unpacker); others go to `zipfile`.
_STORED, _DEFLATED = 0, 8  # zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED
MAPPED_METHODS = (_STORED, _DEFLATED)


#: An entry of the central directory: the native reader's or `zipfile`'s (same attributes).
Member: TypeAlias = "NativeMember | zipfile.ZipInfo"


class WheelArchive:
    """An open wheel: its members (`infolist`, `getinfo`), read whole (`read`, `content`) or in
    blocks (`blocks`); `buffer` is the mapped file for the native unpacker. An unreadable
    archive raises `InvalidWheel`.

    With `content`, the wheel is that memory (a download kept in memory) and `path` only names
    it; the memory stays its owner's and is not closed here.
    """

    def __init__(self, path: Path, content: mmap.mmap | None = None) -> None:
        self.path = path
        self._name = path.name
        self._zip: zipfile.ZipFile | None = None
        self._owned = content is None
        if content is not None:
            self._map: mmap.mmap | None = content
        else:
            with path.open("rb") as file:
                try:
                    self._map = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
                except ValueError:  # an empty file cannot be mapped; zipfile says why
                    self._map = None
        members: Sequence[Member]
        try:
            if _native is not None and self._map is not None:
                members = _native.directory(self._map)
            else:
                members = self._zipfile().infolist()
        # (The exception classes are looked up only when there is an exception to match.)
        except (OSError, ValueError, _zipfile_module().BadZipFile) as exc:
            self.close()
            raise InvalidWheel(self._name, f"not a readable zip archive ({exc})") from None
        self._members = members
        # As zipfile: of two entries with one name, the later one counts.
        self._by_name = {member.filename: member for member in members}
        self._file_names: list[str] | None = None

    def __enter__(self) -> WheelArchive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()
            self._zip = None
        if self._map is not None and self._owned:
            self._map.close()
        self._map = None

    @property
    def buffer(self) -> mmap.mmap | None:
        """The whole file, or None if it is empty."""
        return self._map

    def infolist(self) -> Sequence[Member]:
        return self._members

    def file_names(self) -> list[str]:
        """The names of the members but directories, in the archive's order (listed once:
        the checks and the unpacked cache read them both)."""
        if self._file_names is None:
            self._file_names = [m.filename for m in self._members if not m.filename.endswith("/")]
        return self._file_names

    def getinfo(self, name: str) -> Member:
        """The member named `name`; KeyError if there is none."""
        return self._by_name[name]

    def getinfos(self, names: Iterable[str]) -> list[Member]:
        """The members named `names`, in order (one call for thousands); KeyError if one is
        missing."""
        return list(map(self._by_name.__getitem__, names))

    def read(self, name: str) -> bytes:
        """A whole member, checked against its CRC-32 (as zipfile reads it); KeyError if absent."""
        member = self._by_name[name]
        data = self.content(member)
        if data is None:
            return self._zipfile().read(name)
        if _native is not None and len(data) <= _native.SMALL_LIMIT:
            crc = _native.crc32_small(data)
        else:
            crc = zlib.crc32(data)
        if crc != member.CRC:
            raise self.corrupt(name, "its CRC-32 does not match")
        return data

    def open(self, member: Member) -> IO[bytes]:
        """A stream of the member through `zipfile` (other compression methods)."""
        return self._zipfile().open(member.filename)

    def content(self, member: Member) -> bytes | None:
        """The whole member, inflated in one call; None where `zipfile` must read it. The CRC
        is not computed: callers check members against the stronger RECORD hash."""
        span = self._span(member)
        if span is None or self._map is None:
            return None
        raw = self._map[span[0] : span[1]]
        if member.compress_type == _STORED:
            return raw
        if _native is not None and max(len(raw), member.file_size) <= _native.SMALL_LIMIT:
            try:
                small: bytes = _native.inflate_small(raw, member.file_size)
            except ValueError as exc:
                raise self.corrupt(member.filename, str(exc)) from None
            return small
        inflater = _inflater()
        try:
            inflated: bytes = inflater.decompress(raw, -zlib.MAX_WBITS, max(member.file_size, 1))
        except inflater.error as exc:
            raise self.corrupt(member.filename, str(exc)) from None
        return inflated

    def blocks(self, member: Member, size: int) -> Iterator[bytes]:
        """The member in blocks of at most `size` bytes (for large members)."""
        span = self._span(member)
        if span is None or self._map is None:
            return self._zip_blocks(member, size)
        mapped, (start, end) = self._map, span
        if member.compress_type == _STORED:
            return (mapped[i : min(i + size, end)] for i in range(start, end, size))
        return self._inflate_blocks(start, end, member.filename, size)

    def corrupt(self, member: str, problem: str) -> InvalidWheel:
        return InvalidWheel(
            self._name, f"{member} cannot be unpacked ({problem}); download the wheel again"
        )

    def _span(self, member: Member) -> tuple[int, int] | None:
        """Where the member's stored bytes are, or None where `zipfile` must read it (encrypted,
        other compression methods)."""
        mapped = self._map
        if mapped is None or member.flag_bits & ENCRYPTED:
            return None
        if member.compress_type not in MAPPED_METHODS:
            return None
        start = member.header_offset
        header = mapped[start : start + _LOCAL_HEADER.size]
        if len(header) < _LOCAL_HEADER.size or header[:4] != _LOCAL_MAGIC:
            raise self.corrupt(member.filename, "its local header is missing")
        name_length, extra_length = _LOCAL_HEADER.unpack(header)[-2:]
        start += _LOCAL_HEADER.size + name_length + extra_length
        if start + member.compress_size > len(mapped):
            raise self.corrupt(member.filename, "it is truncated")
        return start, start + member.compress_size

    def _inflate_blocks(self, start: int, end: int, name: str, size: int) -> Iterator[bytes]:
        # Compressed input goes in 1 MiB at a time and output is capped, so a member that
        # inflates enormously never needs more than a block of memory.
        assert self._map is not None
        module = _inflater()
        inflater = module.decompressobj(-zlib.MAX_WBITS)
        try:
            for i in range(start, end, 1 << 20):
                pending = self._map[i : min(i + (1 << 20), end)]
                while pending:
                    block: bytes = inflater.decompress(pending, size)
                    if block:
                        yield block
                    pending = inflater.unconsumed_tail
            tail: bytes = inflater.flush()
            if tail:
                yield tail
        except module.error as exc:
            raise self.corrupt(name, str(exc)) from None

    def _zip_blocks(self, member: Member, size: int) -> Iterator[bytes]:
        with self.open(member) as stream:
            yield from iter(lambda: stream.read(size), b"")

    def _zipfile(self) -> zipfile.ZipFile:
        if self._zip is None:
            module = _zipfile_module()
            if self._owned:
                self._zip = module.ZipFile(self.path)
            else:
                assert self._map is not None
                self._zip = module.ZipFile(io.BytesIO(self._map))
        return self._zip


__all__ = ["ENCRYPTED", "MAPPED_METHODS", "Member", "WheelArchive"]
