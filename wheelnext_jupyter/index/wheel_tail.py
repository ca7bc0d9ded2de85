"""Read one member of a remote wheel from its end, with range requests, without the rest.

A zip archive ends with its central directory (the list of members, with where each one
starts) and an end record that says where the directory is. A wheel's `*.dist-info` files are
written last, just before the directory. So two requests for the last bytes of the file
usually give a member such as `METADATA`: the end (which holds the directory of a small wheel),
then, for a large one, the directory and what comes right before it; a member elsewhere costs
one more request.

What is read this way is not checked against the wheel's published hash (only the whole file
can be): callers use it to guess, never to decide. Pure parsing here; the requests are the
caller's (`read_range`).
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable, Iterable

from wheelnext_jupyter.record import Record

#: The first request: the file's last bytes (the end record, and often the whole directory).
TAIL = 64 * 1024
#: What is asked for before the directory, where a wheel's `*.dist-info` files usually are.
BEFORE_DIRECTORY = 64 * 1024

_END = b"PK\x05\x06"
_END_SIZE = 22
_ENTRY = b"PK\x01\x02"
_LOCAL = b"PK\x03\x04"
_MAX32 = 0xFFFFFFFF


class Chunk(Record):
    """Bytes `start` to `start + len(data)` of a file of `total` bytes."""

    start: int
    total: int
    data: bytes


#: Asks for the bytes `first` to `last` (inclusive) of the file, or its last `-first` bytes when
#: `last` is None and `first` is negative; None where the server does not answer with that part.
RangeReader = Callable[[int, "int | None"], "Chunk | None"]


class _Member(Record):
    name: str
    method: int
    crc: int
    compressed: int
    size: int
    offset: int


class _Window:
    """The parts of the file read so far."""

    def __init__(self, first: Chunk) -> None:
        self.total = first.total
        self.parts = [first]

    def get(self, start: int, length: int) -> bytes | None:
        for part in self.parts:
            if part.start <= start and start + length <= part.start + len(part.data):
                return part.data[start - part.start : start - part.start + length]
        return None


def read_member(
    read_range: RangeReader, pick: Callable[[Iterable[str]], str | None]
) -> bytes | None:
    """The member that `pick` chooses among the names in the archive's directory, checked
    against its CRC-32; None when the server does not answer range requests, the archive cannot
    be read this way (a zip64 archive or member, of 4 GiB or more), or `pick` chooses none."""
    first = read_range(-TAIL, None)
    if first is None or first.start + len(first.data) != first.total:
        return None
    window = _Window(first)
    located = _directory_location(window)
    if located is None:
        return None
    offset, size = located
    directory = window.get(offset, size)
    if directory is None:
        start = max(0, offset - BEFORE_DIRECTORY)
        more = read_range(start, offset + size - 1)
        if more is None or more.start != start:
            return None
        window.parts.append(more)
        directory = window.get(offset, size)
        if directory is None:
            return None
    members = {member.name: member for member in _entries(directory)}
    chosen = pick(members)
    if chosen is None:
        return None
    return _content(read_range, window, members[chosen])


def _directory_location(window: _Window) -> tuple[int, int] | None:
    tail = window.parts[0]
    at = tail.data.rfind(_END)
    if at < 0 or at + _END_SIZE > len(tail.data):
        return None
    size, offset = struct.unpack_from("<II", tail.data, at + 12)
    if _MAX32 in (size, offset):
        return None  # zip64 (an archive of 4 GiB or more): read whole, not from here
    return offset, size


def _entries(directory: bytes) -> Iterable[_Member]:
    at = 0
    while at + 46 <= len(directory) and directory[at : at + 4] == _ENTRY:
        (method, _, _, crc, compressed, size, name_length, extra_length, comment_length) = (
            struct.unpack_from("<HHHIIIHHH", directory, at + 10)
        )
        (offset,) = struct.unpack_from("<I", directory, at + 42)
        name_end = at + 46 + name_length
        name = directory[at + 46 : name_end].decode("utf-8", errors="replace")
        if _MAX32 not in (compressed, size, offset):  # zip64 members are not read from here
            yield _Member(name, method, crc, compressed, size, offset)
        at = name_end + extra_length + comment_length


def _content(read_range: RangeReader, window: _Window, member: _Member) -> bytes | None:
    header = window.get(member.offset, 30)
    if header is None:
        # Elsewhere in the file: its header and data at once (a local header's extra field is
        # short; a longer one costs another request).
        want = 30 + len(member.name.encode()) + 256 + member.compressed
        more = read_range(member.offset, min(window.total, member.offset + want) - 1)
        if more is None or more.start != member.offset:
            return None
        window.parts.append(more)
        header = window.get(member.offset, 30)
    if header is None or not header.startswith(_LOCAL):
        return None
    name_length, extra_length = struct.unpack_from("<HH", header, 26)
    start = member.offset + 30 + name_length + extra_length
    data = window.get(start, member.compressed)
    if data is None:
        more = read_range(start, start + member.compressed - 1)
        if more is None or more.start != start:
            return None
        window.parts.append(more)
        data = window.get(start, member.compressed)
        if data is None:
            return None
    if member.method == 0:
        content = data
    elif member.method == 8:
        try:
            inflater = zlib.decompressobj(-zlib.MAX_WBITS)
            content = inflater.decompress(data, member.size + 1)
        except zlib.error:
            return None
    else:
        return None
    if len(content) != member.size or zlib.crc32(content) != member.crc:
        return None
    return content


__all__ = ["BEFORE_DIRECTORY", "TAIL", "Chunk", "RangeReader", "read_member"]
