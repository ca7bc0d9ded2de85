"""Members are unpacked byte for byte whatever their size and compression, and corruption is caught."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest

from tests.install.tampering import break_local_header
from tests.support.venvs import Venv
from tests.support.wheels import build_wheel
from wheelnext_jupyter.install.staging import StagingArea
from wheelnext_jupyter.install.target import probe_target
from wheelnext_jupyter.install.transaction import PlannedWheel, install_wheels
from wheelnext_jupyter.install.wheelfile import InvalidWheel, WheelError

pytestmark = pytest.mark.usefixtures("unpacker")

#: Incompressible, compressible and empty members.
FILES = {
    "blob/noise.bin": os.urandom(200_000),
    "blob/zeros.bin": bytes(3_000_000),
    "blob/empty.txt": b"",
    "blob/__init__.py": b"",
}


def _recompressed(source: Path, destination: Path, method: int) -> Path:
    """The same wheel, every member stored with `method` (RECORD still matches)."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(destination, "w") as new:
        for info in old.infolist():
            new.writestr(info.filename, old.read(info), compress_type=method)
    return destination


def _install(venv: Venv, wheel: Path) -> None:
    target = probe_target(venv.python)
    with StagingArea(target) as area:
        staged = area.stage(wheel)
        install_wheels([PlannedWheel(staged.wheel, staged=staged)], target)


def _blob(tmp_path: Path) -> Path:
    return build_wheel(tmp_path / "w", "blob", "1.0", files=FILES).path


@pytest.mark.parametrize(
    "method",
    [zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA],
    ids=["deflated", "stored", "bzip2", "lzma"],
)
def test_members_are_installed_byte_for_byte_whatever_the_compression(
    venv: Venv, tmp_path: Path, method: int
) -> None:
    wheel = _recompressed(_blob(tmp_path), tmp_path / str(method) / _blob(tmp_path).name, method)
    _install(venv, wheel)
    for member, data in FILES.items():
        assert (venv.site_packages / member).read_bytes() == data


@pytest.mark.usefixtures("small_blocks")
@pytest.mark.parametrize(
    "method", [zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED], ids=["deflated", "stored"]
)
def test_members_larger_than_a_block_are_streamed_byte_for_byte(
    venv: Venv, tmp_path: Path, method: int
) -> None:
    wheel = _recompressed(_blob(tmp_path), tmp_path / "re" / _blob(tmp_path).name, method)
    _install(venv, wheel)
    for member, data in FILES.items():
        assert (venv.site_packages / member).read_bytes() == data


def _corrupt_member_data(wheel: Path, member: str) -> None:
    """Overwrite the middle of a member's compressed bytes in place (RECORD untouched)."""
    with zipfile.ZipFile(wheel) as archive:
        info = archive.getinfo(member)
    with wheel.open("r+b") as file:
        file.seek(info.header_offset + 26)
        name_length = int.from_bytes(file.read(2), "little")
        extra_length = int.from_bytes(file.read(2), "little")
        start = info.header_offset + 30 + name_length + extra_length
        file.seek(start + info.compress_size // 2)
        file.write(b"\xff" * 64)


@pytest.mark.parametrize("blocks", [False, True], ids=["whole", "in-blocks"])
def test_a_corrupt_compressed_member_is_refused_naming_it_with_nothing_installed(
    venv: Venv, tmp_path: Path, request: pytest.FixtureRequest, blocks: bool
) -> None:
    if blocks:
        request.getfixturevalue("small_blocks")
    wheel = _blob(tmp_path)
    _corrupt_member_data(wheel, "blob/zeros.bin")
    before = venv.listing()
    # Broken deflate data fails to inflate, or inflates to bytes the RECORD hash refuses.
    with pytest.raises(WheelError, match=r"blob/zeros\.bin .*download"):
        _install(venv, wheel)
    assert venv.listing() == before


def test_a_member_whose_local_header_is_missing_is_refused(venv: Venv, tmp_path: Path) -> None:
    wheel = _blob(tmp_path)
    break_local_header(wheel, "blob/zeros.bin")
    before = venv.listing()
    with pytest.raises(InvalidWheel, match=r"blob/zeros\.bin cannot be unpacked"):
        _install(venv, wheel)
    assert venv.listing() == before
