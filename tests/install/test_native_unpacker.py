"""The native unpacker: what it writes, what it refuses, what it reports, and large wheels
unpacked in parts.

Most tests hand it jobs the way `staging` does, with offsets and sizes from the zip's central
directory; installs through it are covered by the unpacking and cache tests too, which run with
both unpackers.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import mmap
import os
import resource
import signal
import stat
import time
import zipfile
import zlib
from base64 import urlsafe_b64encode
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.install.tampering import break_local_header
from tests.support.venvs import Venv
from tests.support.wheels import build_wheel
from wheelnext_jupyter.install import staging
from wheelnext_jupyter.install.staging import StagingArea
from wheelnext_jupyter.install.target import probe_target
from wheelnext_jupyter.install.transaction import PlannedWheel, install_wheels
from wheelnext_jupyter.install.unpacked_cache import member_path
from wheelnext_jupyter.install.wheelfile import InvalidWheel

native = staging._native
pytestmark = pytest.mark.skipif(native is None, reason="the native unpacker is not built")

MEMBERS = {
    "pkg/__init__.py": b"VALUE = 1\n",
    "pkg/deep/er/data.bin": os.urandom(70_000) + bytes(500_000),
    "pkg/empty": b"",
}
#: Inflated whole (libdeflate where built with it) and streamed through zlib in blocks.
LIMITS = pytest.mark.parametrize("limit", [64 << 20, 0], ids=["whole", "streamed"])
#: Jobs with whole paths, or with paths relative to a base directory given with them.
BASES = pytest.mark.parametrize("relative", [False, True], ids=["whole-paths", "under-a-base"])


def _b64_sha256(data: bytes) -> str:
    return urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    path = tmp_path / "pkg.zip"
    with zipfile.ZipFile(path, "w") as zipped:
        for name, data in MEMBERS.items():
            info = zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (0o755 if name.endswith(".bin") else 0o644) << 16
            zipped.writestr(info, data)
        zipped.writestr("pkg/stored.txt", b"stored as is\n" * 100, zipfile.ZIP_STORED)
    return path


@pytest.fixture
def mapped(archive: Path) -> Iterator[mmap.mmap]:
    with archive.open("rb") as file, mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as m:
        yield m


def _jobs(
    archive: Path, out: Path, **sizes: int
) -> list[tuple[int, int, int, int, bytes, bool, int]]:
    """One job per member; `sizes` overrides a member's recorded size (by its base name)."""
    with zipfile.ZipFile(archive) as zipped:
        infos = zipped.infolist()
    return [
        (
            info.header_offset,
            info.compress_size,
            info.compress_type,
            sizes.get(Path(info.filename).stem, info.file_size),
            os.fsencode(out / info.filename),
            bool((info.external_attr >> 16) & 0o111),
            number,
        )
        for number, info in enumerate(infos)
    ]


@LIMITS
def test_every_member_is_written_with_its_sha256_and_size(
    archive: Path, mapped: mmap.mmap, tmp_path: Path, limit: int
) -> None:
    assert native is not None
    out = tmp_path / "out"
    results, linked = native.unpack(mapped, _jobs(archive, out), None, limit)
    with zipfile.ZipFile(archive) as zipped:
        expected = [(name, zipped.read(name)) for name in zipped.namelist()]
    assert results == [(_b64_sha256(data), len(data)) for _, data in expected]
    for name, data in expected:
        assert (out / name).read_bytes() == data
    assert linked is False  # no link directory was given


def test_missing_directories_are_made_and_executable_members_get_their_bit(
    archive: Path, mapped: mmap.mmap, tmp_path: Path
) -> None:
    assert native is not None
    out = tmp_path / "out"
    native.unpack(mapped, _jobs(archive, out), None)
    assert (out / "pkg" / "deep" / "er").is_dir()
    assert stat.S_IMODE((out / "pkg/deep/er/data.bin").stat().st_mode) == 0o755
    assert not (out / "pkg/__init__.py").stat().st_mode & 0o111


@LIMITS
def test_a_member_that_inflates_past_its_recorded_size_is_refused(
    archive: Path, mapped: mmap.mmap, tmp_path: Path, limit: int
) -> None:
    assert native is not None
    jobs = _jobs(archive, tmp_path / "out", data=1000)
    with pytest.raises(native.UnpackError) as caught:
        native.unpack(mapped, jobs, None, limit)
    assert caught.value.args == (1, "it inflates beyond its recorded size")


@LIMITS
def test_a_member_that_inflates_short_of_its_recorded_size_is_refused(
    archive: Path, mapped: mmap.mmap, tmp_path: Path, limit: int
) -> None:
    assert native is not None
    jobs = _jobs(archive, tmp_path / "out", data=len(MEMBERS["pkg/deep/er/data.bin"]) + 1)
    with pytest.raises(native.UnpackError) as caught:
        native.unpack(mapped, jobs, None, limit)
    assert caught.value.args == (1, "it inflates to less than its recorded size")


def test_a_stored_member_whose_sizes_disagree_is_refused(
    archive: Path, mapped: mmap.mmap, tmp_path: Path
) -> None:
    assert native is not None
    jobs = _jobs(archive, tmp_path / "out", stored=5)
    with pytest.raises(native.UnpackError, match="stored size differs"):
        native.unpack(mapped, jobs, None)


def test_compressed_data_cut_short_is_refused_as_truncated(archive: Path, tmp_path: Path) -> None:
    assert native is not None
    jobs = _jobs(archive, tmp_path / "out")
    offset, compressed = jobs[1][0], jobs[1][1]
    # The archive ends in the middle of the second member's data.
    cut = archive.read_bytes()[: offset + 30 + len("pkg/deep/er/data.bin") + compressed // 2]
    with pytest.raises(native.UnpackError) as caught:
        native.unpack(cut, jobs[1:2], None)
    assert caught.value.args == (0, "it is truncated")


@BASES
def test_an_existing_file_is_never_overwritten_and_is_named_whole_in_the_error(
    archive: Path, mapped: mmap.mmap, tmp_path: Path, relative: bool
) -> None:
    assert native is not None
    out = tmp_path / "out"
    (out / "pkg").mkdir(parents=True)
    (out / "pkg" / "__init__.py").write_bytes(b"mine")
    # Paths relative to a base directory are named whole, as whole paths are.
    jobs = _jobs(archive, Path() if relative else out)
    base = os.fsencode(out) if relative else None
    with pytest.raises(FileExistsError) as caught:
        native.unpack(mapped, jobs, None, native.WHOLE_LIMIT, base)
    assert caught.value.filename == str(out / "pkg" / "__init__.py")
    assert (out / "pkg" / "__init__.py").read_bytes() == b"mine"


def test_each_member_is_hard_linked_into_the_link_directory_by_number(
    archive: Path, mapped: mmap.mmap, tmp_path: Path
) -> None:
    assert native is not None
    out, links = tmp_path / "out", tmp_path / "links"
    links.mkdir()
    jobs = _jobs(archive, out)
    _, linked = native.unpack(mapped, jobs, os.fsencode(links))
    assert linked is True
    for job in jobs:
        kept = member_path(str(links), job[6])
        assert Path(kept).samefile(os.fsdecode(job[4]))


def test_a_refused_link_stops_linking_but_not_unpacking(
    archive: Path, mapped: mmap.mmap, tmp_path: Path
) -> None:
    assert native is not None
    out, links = tmp_path / "out", tmp_path / "links"
    links.mkdir()
    # A file where the first subdirectory of links goes.
    (links / "0").write_text("in the way")
    results, linked = native.unpack(mapped, _jobs(archive, out), os.fsencode(links))
    assert linked is False
    assert len(results) == len(MEMBERS) + 1
    assert (out / "pkg/__init__.py").read_bytes() == MEMBERS["pkg/__init__.py"]


def test_a_malformed_job_is_a_type_error_before_anything_is_written(
    archive: Path, mapped: mmap.mmap, tmp_path: Path
) -> None:
    assert native is not None
    jobs: list[object] = list(_jobs(archive, tmp_path / "out"))
    jobs.append(("not", "a", "job"))
    with pytest.raises(TypeError, match="a job is"):
        native.unpack(mapped, jobs, None)  # type: ignore[arg-type]
    assert not (tmp_path / "out").exists()


def test_paths_relative_to_a_base_directory_are_made_under_it_and_linked_into_a_new_directory(
    archive: Path, mapped: mmap.mmap, tmp_path: Path
) -> None:
    assert native is not None
    base, links = tmp_path / "stage" / "7", tmp_path / "entry.part"
    jobs = _jobs(archive, Path())  # relative paths: `pkg/__init__.py`, ...
    results, linked = native.unpack(
        mapped, jobs, os.fsencode(links), native.WHOLE_LIMIT, os.fsencode(base)
    )
    assert linked is True
    with zipfile.ZipFile(archive) as zipped:
        for name in zipped.namelist():
            assert (base / name).read_bytes() == zipped.read(name)
            assert not Path(name).exists()  # not under the working directory
    for job in jobs:
        assert Path(member_path(str(links), job[6])).samefile(base / os.fsdecode(job[4]))
    assert len(results) == len(jobs)


# -- linking from the unpacked-wheel cache ----------------------------------------------------


@pytest.fixture
def cached_entry(tmp_path: Path) -> Path:
    """Files 0, 1 and 300 of a cache entry (300 lives in the entry's second subdirectory)."""
    entry = tmp_path / "entry"
    for number, data in ((0, b"zero"), (1, b"one!"), (300, b"three hundred")):
        path = Path(member_path(str(entry), number))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return entry


def _link_jobs(out: Path) -> list[tuple[int, int, bytes]]:
    return [
        (0, 4, os.fsencode(out / "pkg" / "a.py")),
        (1, 4, os.fsencode(out / "pkg" / "deep" / "b.py")),
        (300, 13, os.fsencode(out / "c.txt")),
    ]


@BASES
def test_cached_members_are_hard_linked_to_their_paths_whose_directories_are_made(
    cached_entry: Path, tmp_path: Path, relative: bool
) -> None:
    assert native is not None
    out = tmp_path / "out"
    jobs = _link_jobs(Path() if relative else out)
    base = os.fsencode(out) if relative else None
    native.link(os.fsencode(cached_entry), jobs, time.time_ns(), base)
    assert (out / "pkg" / "deep" / "b.py").read_bytes() == b"one!"
    assert (out / "c.txt").samefile(member_path(str(cached_entry), 300))


def _grow_member_1(entry: Path) -> None:
    Path(member_path(str(entry), 1)).write_bytes(b"longer now")


def _touch_member_300_later(entry: Path) -> None:
    later = time.time_ns() + 5_000_000_000
    os.utime(member_path(str(entry), 300), ns=(later, later))


def _remove_member_0(entry: Path) -> None:
    Path(member_path(str(entry), 0)).unlink()


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (_grow_member_1, (1, "its cached file was changed")),
        (_touch_member_300_later, (2, "its cached file was changed")),
        (_remove_member_0, (0, "its cached file is missing")),
    ],
    ids=["another size", "modified after the entry was made", "missing"],
)
def test_a_cached_file_that_changed_is_refused_and_named_by_its_job(
    cached_entry: Path,
    tmp_path: Path,
    damage: Callable[[Path], None],
    expected: tuple[int, str],
) -> None:
    assert native is not None
    made = time.time_ns()
    damage(cached_entry)
    with pytest.raises(native.UnpackError) as caught:
        native.link(os.fsencode(cached_entry), _link_jobs(tmp_path / "out"), made)
    assert caught.value.args == expected


@BASES
def test_a_link_over_an_existing_file_fails_naming_it_whole_and_leaves_it(
    cached_entry: Path, tmp_path: Path, relative: bool
) -> None:
    assert native is not None
    out = tmp_path / "out"
    out.mkdir()
    (out / "c.txt").write_text("mine")
    jobs = _link_jobs(Path() if relative else out)
    base = os.fsencode(out) if relative else None
    with pytest.raises(FileExistsError) as caught:
        native.link(os.fsencode(cached_entry), jobs, time.time_ns(), base)
    assert caught.value.filename == str(out / "c.txt")
    assert (out / "c.txt").read_text() == "mine"


def test_a_malformed_link_job_is_a_type_error_before_anything_is_linked(
    cached_entry: Path, tmp_path: Path
) -> None:
    assert native is not None
    jobs: list[object] = [*_link_jobs(tmp_path / "out"), (0, 4, "a str path")]
    with pytest.raises(TypeError, match="a link job is"):
        native.link(os.fsencode(cached_entry), jobs, time.time_ns())  # type: ignore[arg-type]
    assert not (tmp_path / "out").exists()


@pytest.fixture
def in_parts(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Every wheel unpacks in three parts at once; returns how many parts each call used."""
    monkeypatch.setattr(staging, "_PART_SIZE", 1)
    monkeypatch.setattr(staging, "available_cores", lambda: 3)
    calls: list[int] = []
    split = staging._parts

    def counted(jobs: list[staging._native_job]) -> list[list[int]]:
        parts = split(jobs)
        calls.append(len(parts))
        return parts

    monkeypatch.setattr(staging, "_parts", counted)
    return calls


def _wheel_with(tmp_path: Path, files: dict[str, bytes]) -> Path:
    return build_wheel(tmp_path / "w", "parted", "1.0", files=files).path


PARTED = {f"parted/data{i}.bin": os.urandom(1000) * (i + 1) for i in range(6)}


def test_a_large_wheel_unpacks_in_parts_on_several_threads_byte_for_byte(
    venv: Venv, tmp_path: Path, in_parts: list[int]
) -> None:
    target = probe_target(venv.python)
    with StagingArea(target) as area:
        staged = area.stage(_wheel_with(tmp_path, PARTED))
        install_wheels([PlannedWheel(staged.wheel, staged=staged)], target)
    assert in_parts == [3]
    for name, data in PARTED.items():
        assert (venv.site_packages / name).read_bytes() == data
    assert venv.pip("check").returncode == 0


def test_a_corrupt_member_in_a_later_part_is_named(
    venv: Venv, tmp_path: Path, in_parts: list[int]
) -> None:
    wheel = _wheel_with(tmp_path, PARTED)
    break_local_header(wheel, "parted/data5.bin")
    before = venv.listing()
    target = probe_target(venv.python)
    problem = r"parted/data5\.bin cannot be unpacked"
    with pytest.raises(InvalidWheel, match=problem), StagingArea(target) as area:
        area.stage(wheel)
    assert in_parts == [3]
    assert venv.listing() == before


# -- members hashed two at a time ---------------------------------------------------------------

#: Members of every length around the block boundaries (SHA-256 pads into one block or two),
#: stored and deflated, after a large member that the other lane hashes meanwhile.
LANE_MEMBERS = {
    "big.bin": os.urandom(300_000) + bytes(900_000),
    **{f"small/{length}.bin": os.urandom(length) for length in range(0, 200)},
    "tail.bin": os.urandom(5_000),
}


@pytest.fixture(params=["extensions", "openssl"])
def hashing(request: pytest.FixtureRequest) -> Iterator[str]:
    """Members hashed with the processor's SHA extensions (where it has them) and through
    OpenSSL, the path of every other machine."""
    assert native is not None
    if request.param == "extensions" and not native.use_sha_extensions(True):
        pytest.skip("this processor has no SHA extensions")
    native.use_sha_extensions(request.param == "extensions")
    yield request.param
    native.use_sha_extensions(True)


def _lane_archive(tmp_path: Path) -> Path:
    path = tmp_path / "lanes.zip"
    with zipfile.ZipFile(path, "w") as zipped:
        for number, (name, data) in enumerate(LANE_MEMBERS.items()):
            method = zipfile.ZIP_STORED if number % 3 == 0 else zipfile.ZIP_DEFLATED
            zipped.writestr(name, data, method)
    return path


@LIMITS
def test_members_of_every_length_get_the_sha256_hashlib_computes(
    tmp_path: Path, hashing: str, limit: int
) -> None:
    assert native is not None
    archive = _lane_archive(tmp_path)
    out = tmp_path / "out"
    results, _ = native.unpack(archive.read_bytes(), _jobs(archive, out), None, limit)
    assert results == [(_b64_sha256(data), len(data)) for data in LANE_MEMBERS.values()]
    for name, data in LANE_MEMBERS.items():
        assert (out / name).read_bytes() == data


def test_a_member_that_fails_while_another_is_hashed_is_named_and_closes_every_file(
    tmp_path: Path, hashing: str
) -> None:
    assert native is not None
    archive = _lane_archive(tmp_path)
    # The large member is still being hashed when the fifth one turns out to be missing.
    data = archive.read_bytes()
    jobs = _jobs(archive, tmp_path / "out")
    jobs[4] = (len(data) + 100, *jobs[4][1:])
    open_files = Path("/proc/self/fd")
    descriptors = len(list(open_files.iterdir()))
    with pytest.raises(native.UnpackError) as caught:
        native.unpack(data, jobs, None)
    assert caught.value.args == (4, "its local header is missing")
    assert len(list(open_files.iterdir())) == descriptors


@contextlib.contextmanager
def _limited_file_size(limit: int = 1 << 20) -> Iterator[None]:
    """Files this process writes stop growing at `limit` bytes: `write` fails with EFBIG."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)


def test_a_member_that_cannot_be_written_whole_is_named_and_closes_every_file(
    tmp_path: Path, hashing: str
) -> None:
    assert native is not None
    # Written in pieces while it is hashed next to the other one: the fifth piece fails.
    members = {"big/data.bin": os.urandom(3 << 20), "other/data.bin": os.urandom(700_000)}
    archive = tmp_path / "big.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        for name, data in members.items():
            zipped.writestr(name, data)
    data = archive.read_bytes()
    jobs = _jobs(archive, tmp_path / "out")
    descriptors = len(list(Path("/proc/self/fd").iterdir()))
    with _limited_file_size(), pytest.raises(OSError) as caught:
        native.unpack(data, jobs, None)
    assert caught.value.errno == errno.EFBIG
    assert caught.value.filename == str(tmp_path / "out" / "big" / "data.bin")
    assert len(list(Path("/proc/self/fd").iterdir())) == descriptors


#: Sizes around the 2 MiB from which a lane's buffer is mapped in huge pages, so buffers grow
#: from the heap into mappings and are freed as both.
AROUND_HUGE_PAGES = {
    f"large/{size}.bin": os.urandom(size // 4) + bytes(size - size // 4)
    for size in ((2 << 20) - 1, 2 << 20, (2 << 20) + 1, 5 << 20, 1000)
}


def test_members_around_two_mebibytes_are_inflated_whole_byte_for_byte(tmp_path: Path) -> None:
    assert native is not None
    archive = tmp_path / "large.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        for name, data in AROUND_HUGE_PAGES.items():
            zipped.writestr(name, data)
    out = tmp_path / "out"
    results, _ = native.unpack(archive.read_bytes(), _jobs(archive, out), None)
    assert results == [(_b64_sha256(data), len(data)) for data in AROUND_HUGE_PAGES.values()]
    for name, data in AROUND_HUGE_PAGES.items():
        assert (out / name).read_bytes() == data


# --- inflating buffers kept between calls ------------------------------------------------------


@pytest.fixture
def no_kept_buffers() -> Iterator[None]:
    assert native is not None
    if not native.INFLATES_WHOLE:
        pytest.skip("built without libdeflate: members stream through zlib, no buffer is kept")
    native.release_buffers()
    yield
    native.release_buffers()


def _one_member_archive(tmp_path: Path, data: bytes) -> Path:
    archive = tmp_path / "one.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        zipped.writestr("pkg/data.bin", data)
    return archive


@pytest.mark.usefixtures("no_kept_buffers")
def test_the_buffer_a_member_was_inflated_in_serves_the_next_call(tmp_path: Path) -> None:
    assert native is not None
    data = os.urandom(1 << 20) + bytes(2 << 20)
    archive = _one_member_archive(tmp_path, data)
    native.unpack(archive.read_bytes(), _jobs(archive, tmp_path / "first"), None)
    kept = native.kept_buffers()
    assert len(kept) == 1 and kept[0] >= len(data)
    # Taken again (not a second buffer made beside it), and it still inflates byte for byte.
    results, _ = native.unpack(archive.read_bytes(), _jobs(archive, tmp_path / "second"), None)
    assert native.kept_buffers() == kept
    assert results == [(_b64_sha256(data), len(data))]
    assert (tmp_path / "second" / "pkg" / "data.bin").read_bytes() == data


@pytest.mark.usefixtures("no_kept_buffers")
def test_kept_buffers_are_few_and_bounded_in_size(tmp_path: Path) -> None:
    assert native is not None
    # Members that double in size: the lane taking the smallest first outgrows its buffer at
    # almost every member, and each outgrown buffer is offered to the pool.
    archive = tmp_path / "growing.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        for power in range(12):
            zipped.writestr(f"pkg/{power}.bin", os.urandom(1000) + bytes((300 << 10) << power // 2))
    native.unpack(archive.read_bytes(), _jobs(archive, tmp_path / "out"), None)
    kept = native.kept_buffers()
    assert 0 < len(kept) <= 4
    assert sum(kept) <= native.POOL_BYTES


@pytest.mark.usefixtures("no_kept_buffers")
def test_release_buffers_frees_every_kept_buffer(tmp_path: Path) -> None:
    assert native is not None
    archive = _one_member_archive(tmp_path, bytes(3 << 20))
    native.unpack(archive.read_bytes(), _jobs(archive, tmp_path / "out"), None)
    kept = sum(native.kept_buffers())
    assert kept > 0
    assert native.release_buffers() == kept
    assert native.kept_buffers() == []


def _raw_deflate(data: bytes) -> bytes:
    """`data` as a zip member stores it deflated: a raw stream, without zlib's header."""
    compressor = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


@pytest.mark.parametrize("size", [0, 1, 200_000, 1 << 20], ids=["empty", "one", "200k", "limit"])
def test_small_members_inflate_whole_to_the_bytes_zlib_gives(size: int) -> None:
    assert native is not None
    assert native.SMALL_LIMIT == 1 << 20
    data = (os.urandom(1000) * (size // 1000 + 1))[:size]
    assert native.inflate_small(_raw_deflate(data), size) == data


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda raw, size: (raw, size + 1), "it inflates to less than its recorded size"),
        (lambda raw, size: (raw, size - 1), "it inflates beyond its recorded size"),
        (lambda raw, size: (b"\xff" * 40, size), "invalid deflate data"),
    ],
    ids=["short", "long", "garbage"],
)
def test_a_small_member_that_does_not_inflate_to_its_size_names_the_problem(
    change: Callable[[bytes, int], tuple[bytes, int]], problem: str
) -> None:
    assert native is not None
    data = b"Name: alpha\nVersion: 1.0\n" * 40
    with pytest.raises(ValueError, match=f"^{problem}$"):
        native.inflate_small(*change(_raw_deflate(data), len(data)))


def test_inflate_small_refuses_a_member_above_its_limit() -> None:
    assert native is not None
    with pytest.raises(ValueError, match="up to 1048576 bytes"):
        native.inflate_small(_raw_deflate(b""), native.SMALL_LIMIT + 1)


@pytest.mark.parametrize("size", [0, 5, 70_000, 1 << 20])
def test_crc32_small_is_the_crc_zlib_computes(size: int) -> None:
    assert native is not None
    data = os.urandom(size)
    assert native.crc32_small(data) == zlib.crc32(data)


def test_crc32_small_refuses_data_above_its_limit() -> None:
    assert native is not None
    with pytest.raises(ValueError, match="up to 1048576 bytes"):
        native.crc32_small(bytes(native.SMALL_LIMIT + 1))
