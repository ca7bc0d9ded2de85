"""A wheel's archive is read as `zipfile` reads it, and an unreadable one is refused by name.

Each test runs with the native directory reader and with `zipfile` (the `unpacker` fixture).
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from pathlib import Path

import pytest

from tests.support.wheels import build_wheel
from wheelnext_jupyter.install.archive import WheelArchive
from wheelnext_jupyter.install.wheelfile import InvalidWheel

pytestmark = pytest.mark.usefixtures("unpacker")

FIELDS = (
    "filename",
    "header_offset",
    "compress_size",
    "file_size",
    "compress_type",
    "flag_bits",
    "external_attr",
    "CRC",
)


def _entries(members: object) -> list[tuple[object, ...]]:
    assert isinstance(members, (list, tuple))
    return [tuple(getattr(member, field) for field in FIELDS) for member in members]


def _as_zipfile_reads_it(path: Path) -> None:
    with zipfile.ZipFile(path) as expected, WheelArchive(path) as archive:
        assert _entries(archive.infolist()) == _entries(expected.infolist())
        for info in expected.infolist():
            if not info.is_dir():
                assert archive.read(info.filename) == expected.read(info)


def _zip(path: Path, members: dict[str, bytes], **options: object) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
        if "comment" in options:
            archive.comment = options["comment"]  # type: ignore[assignment]
    return path


def test_a_wheel_reads_as_zipfile_reads_it(tmp_path: Path) -> None:
    built = build_wheel(tmp_path, "alpha", "1.0", files={"alpha/data/blob.bin": bytes(70_000)})
    _as_zipfile_reads_it(built.path)


def test_directories_names_in_utf8_and_a_comment_read_as_zipfile_reads_them(
    tmp_path: Path,
) -> None:
    members = {"pkg/": b"", "pkg/café.py": b"x = 1\n", "pkg/日本.txt": "語".encode()}
    _as_zipfile_reads_it(_zip(tmp_path / "a.zip", members, comment=b"made for a test"))


def test_a_name_without_the_utf8_flag_is_read_as_cp437_like_zipfile(tmp_path: Path) -> None:
    path = _zip(tmp_path / "a.zip", {"pkg/caf_.py": b"x = 1\n"})
    # The same length in both headers: 0x82 is "é" in code page 437.
    path.write_bytes(path.read_bytes().replace(b"caf_", b"caf\x82"))
    _as_zipfile_reads_it(path)
    with WheelArchive(path) as archive:
        assert [m.filename for m in archive.infolist()] == ["pkg/café.py"]


def test_a_name_ends_at_its_first_nul_like_zipfile(tmp_path: Path) -> None:
    path = _zip(tmp_path / "a.zip", {"pkg/ok.py_evil": b"x = 1\n"})
    path.write_bytes(path.read_bytes().replace(b"ok.py_evil", b"ok.py\x00evil"))
    _as_zipfile_reads_it(path)


def test_data_before_the_archive_shifts_every_offset_like_zipfile(tmp_path: Path) -> None:
    path = _zip(tmp_path / "a.zip", {"a.txt": b"a" * 1000, "b.txt": b"b" * 10})
    path.write_bytes(b"#!/bin/sh\nexit 0\n" + path.read_bytes())
    _as_zipfile_reads_it(path)


@pytest.fixture(scope="module")
def many_entries(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # zipfile writes the zip64 end records from 65,535 entries on.
    path = tmp_path_factory.mktemp("many") / "many.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for number in range(65_536):
            archive.writestr(f"m/{number}", b"")
    return path


def test_more_entries_than_the_classic_directory_counts_take_zip64_records(
    many_entries: Path,
) -> None:
    assert b"PK\x06\x06" in many_entries.read_bytes()[-200:]
    _as_zipfile_reads_it(many_entries)


def _zip64_sized(data: bytes) -> bytes:
    """One stored member whose sizes and offset are in its zip64 extra field, as writers put
    them for members of 4 GiB and more."""
    name, crc = b"big.bin", zlib.crc32(data)
    extra = struct.pack("<HHQQQ", 1, 24, len(data), len(data), 0)
    local = struct.pack(
        "<4s5H3L2H", b"PK\x03\x04", 45, 0, 0, 0, 0, crc, 0xFFFFFFFF, 0xFFFFFFFF, len(name), 20
    )
    local += name + struct.pack("<HHQQ", 1, 16, len(data), len(data)) + data
    central = struct.pack(
        "<4s6H3L5H2L",
        b"PK\x01\x02",
        45,
        45,
        0,
        0,
        0,
        0,
        crc,
        0xFFFFFFFF,
        0xFFFFFFFF,
        len(name),
        len(extra),
        0,
        0,
        0,
        0o644 << 16,
        0xFFFFFFFF,
    )
    central += name + extra
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 1, 1, len(central), len(local), 0)
    return local + central + end


def test_sizes_and_offsets_in_a_zip64_extra_field_are_read_like_zipfile(tmp_path: Path) -> None:
    path = tmp_path / "zip64.zip"
    path.write_bytes(_zip64_sized(b"0123456789" * 100))
    with zipfile.ZipFile(path) as check:
        assert check.getinfo("big.bin").file_size == 1000
    _as_zipfile_reads_it(path)


def test_of_two_entries_with_one_name_the_later_counts_like_zipfile(tmp_path: Path) -> None:
    path = tmp_path / "twice.zip"
    with (
        pytest.warns(UserWarning, match="Duplicate name"),
        zipfile.ZipFile(path, "w") as archive,
    ):
        archive.writestr("a.txt", b"first")
        archive.writestr("a.txt", b"second")
    with WheelArchive(path) as archive:
        assert archive.read("a.txt") == b"second"


@pytest.mark.parametrize(
    "content",
    [b"", b"not a zip at all, just some text" * 10, b"PK\x05\x06" + bytes(10)],
    ids=["empty", "text", "cut-end-record"],
)
def test_a_file_that_is_no_zip_archive_is_refused_naming_it(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "broken-1.0-py3-none-any.whl"
    path.write_bytes(content)
    with pytest.raises(InvalidWheel, match=r"broken-1\.0-py3-none-any\.whl: not a readable zip"):
        WheelArchive(path)


def test_a_central_directory_cut_short_is_refused(tmp_path: Path) -> None:
    data = _zip(tmp_path / "a.zip", {"a.txt": b"a" * 100, "b.txt": b"b"}).read_bytes()
    end = data.rindex(b"PK\x05\x06")
    cut = data[: end - 10] + data[end:]  # the last entry loses its last bytes
    path = tmp_path / "cut.whl"
    path.write_bytes(cut)
    with pytest.raises(InvalidWheel, match="not a readable zip archive"):
        WheelArchive(path)


def test_a_member_whose_bytes_changed_fails_its_crc_when_read_whole(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr("meta/METADATA", b"Name: alpha\nVersion: 1.0\n")
    path = tmp_path / "alpha-1.0-py3-none-any.whl"
    path.write_bytes(buffer.getvalue().replace(b"Name: alpha", b"Name: omega"))
    with (
        WheelArchive(path) as archive,
        pytest.raises(InvalidWheel, match=r"meta/METADATA cannot be unpacked .*CRC-32"),
    ):
        archive.read("meta/METADATA")


def test_a_small_deflated_member_whose_data_is_broken_is_refused_naming_it(
    tmp_path: Path,
) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("meta/METADATA", b"Name: alpha\nVersion: 1.0\n" * 50)
    data = bytearray(buffer.getvalue())
    member = zipfile.ZipFile(buffer).getinfo("meta/METADATA")
    start = member.header_offset + 30 + len("meta/METADATA")
    data[start : start + 8] = b"\xff" * 8  # an invalid block type at the start of the stream
    path = tmp_path / "alpha-1.0-py3-none-any.whl"
    path.write_bytes(bytes(data))
    with (
        WheelArchive(path) as archive,
        pytest.raises(InvalidWheel, match=r"meta/METADATA cannot be unpacked"),
    ):
        archive.read("meta/METADATA")
