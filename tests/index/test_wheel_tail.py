"""A wheel's METADATA is read from the end of the file with range requests, without the rest."""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Iterable

from wheelnext_jupyter.index.wheel_tail import BEFORE_DIRECTORY, TAIL, Chunk, read_member

METADATA = b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\nRequires-Dist: dep\n"
NAME = "demo-1.0.dist-info/METADATA"


def _wheel(members: Iterable[tuple[str, bytes]]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return out.getvalue()


class _Server:
    """Answers range requests on `data` and counts them."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.asked: list[tuple[int, int | None]] = []

    def __call__(self, first: int, last: int | None) -> Chunk | None:
        self.asked.append((first, last))
        size = len(self.data)
        start = max(0, size + first) if first < 0 else first
        stop = size if last is None else min(size, last + 1)
        return Chunk(start, size, self.data[start:stop])


def _metadata(names: Iterable[str]) -> str | None:
    return NAME if NAME in names else None


def test_the_metadata_of_a_small_wheel_takes_one_request() -> None:
    server = _Server(_wheel([("demo/__init__.py", b"x = 1\n"), (NAME, METADATA)]))
    assert read_member(server, _metadata) == METADATA
    assert server.asked == [(-TAIL, None)]


def test_a_directory_beyond_the_first_request_is_asked_for_with_what_precedes_it() -> None:
    # Thousands of members: the directory alone is larger than the first request.
    members = [(f"demo/module_{i:05}_with_a_long_name.py", b"") for i in range(3000)]
    data = _wheel([*members, (NAME, METADATA)])
    server = _Server(data)
    assert read_member(server, _metadata) == METADATA
    assert len(server.asked) == 2
    # The directory and what precedes it, not the whole file.
    _, last = server.asked[1]
    assert last is not None and last < len(data) - 1


def test_a_member_far_from_the_directory_costs_one_more_request() -> None:
    noise = os.urandom(3 * (TAIL + BEFORE_DIRECTORY))
    server = _Server(_wheel([(NAME, METADATA), ("demo/blob.bin", noise)]))
    assert read_member(server, _metadata) == METADATA
    assert len(server.asked) == 2


def test_a_server_that_answers_no_range_gives_nothing() -> None:
    assert read_member(lambda first, last: None, _metadata) is None


def test_a_member_that_does_not_match_its_checksum_gives_nothing() -> None:
    # A stored member shows its bytes as written: one of them is flipped.
    stored = io.BytesIO()
    with zipfile.ZipFile(stored, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr(NAME, METADATA)
    data = bytearray(stored.getvalue())
    at = bytes(data).index(b"Requires-Dist")
    data[at] ^= 0xFF
    assert read_member(_Server(bytes(data)), _metadata) is None


def test_a_member_not_chosen_gives_nothing() -> None:
    server = _Server(_wheel([("demo/__init__.py", b"")]))
    assert read_member(server, _metadata) is None


def test_a_file_that_is_not_a_zip_archive_gives_nothing() -> None:
    assert read_member(_Server(b"not a wheel at all" * 100), _metadata) is None
