"""Unpack wheels into a private directory on the target's file system, checking as they unpack.

Each wheel is read once: every member is decompressed, hashed against its RECORD entry and
written to `<purelib>/.wheelnext-jupyter/staging/<id>/<n>/<key>/…` in one pass, launchers and
`INSTALLER`/`REQUESTED`/`direct_url.json`/`RECORD` are generated next to it, and bytecode (when
asked for) is compiled there. Nothing in the environment changes while wheels stage, so staging
runs before the install lock is taken, in as many threads as there are wheels arriving. The
transaction then only moves the staged trees into place (`placement`, `place`), which on one
file system is a rename per new top-level directory or file.

A staging directory belongs to the process holding the lock file `staging/<id>.owner`. A process
that dies leaves its directory unlocked, and the next `StagingArea` or `recover` removes it.
"""

# Tens of thousands of files pass through here per install: plain strings and `os` calls, not
# pathlib objects, on the per-file path.
# ruff: noqa: PTH101, PTH103, PTH104, PTH112, PTH118, PTH120, PTH123

from __future__ import annotations

import contextlib
import csv
import errno
import hashlib
import io
import itertools
import json
import mmap
import os
import re
import shutil
import stat
import sys
import threading
import uuid
from base64 import urlsafe_b64encode
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from wheelnext_jupyter.file_lock import FileLock, LockTimeout
from wheelnext_jupyter.install.archive import ENCRYPTED, MAPPED_METHODS, WheelArchive
from wheelnext_jupyter.install.cores import available_cores
from wheelnext_jupyter.install.target import TargetEnvironment
from wheelnext_jupyter.install.unpacked_cache import (
    CachedMember,
    CachedWheel,
    EntryDraft,
    StaleEntry,
    UnpackedCache,
)
from wheelnext_jupyter.install.wheelfile import (
    RecordEntry,
    VerifiedWheel,
    content_mismatch,
    open_archive,
    verify_wheel,
)
from wheelnext_jupyter.install.writer import (
    INSTALLER_NAME,
    ROOT_KEY,
    InstalledDistribution,
    WriteOptions,
    compile_bytecode,
    launcher,
    layout_of,
    record_name,
    shebang,
)
from wheelnext_jupyter.record import Record, replace
from wheelnext_jupyter.workers import WorkerPool

if TYPE_CHECKING:
    from wheelnext_jupyter.install.download import FetchedFile

_native: ModuleType | None
try:
    # Compiled where the build had a C compiler (see hatch_build.py); pure Python otherwise.
    from wheelnext_jupyter.install import _unpack as _native
except ImportError:  # pragma: no cover - builds without the extension
    _native = None

STAGING_DIR_NAME = "staging"
_OWNER_SUFFIX = ".owner"
#: Members up to this size are read whole; larger ones are streamed in blocks of this size.
_BLOCK = 8 << 20
#: (local header offset, compressed size, method, size, path, executable, cache number)
_native_job = tuple[int, int, int, int, bytes, bool, int]
#: Deflated members up to this size are inflated whole by the native unpacker, larger ones in
#: blocks (see `_unpack.c`).
_native_whole_limit = 64 << 20


class StagedWheel(Record):
    """A wheel unpacked and checked in a staging directory, ready to be moved into place."""

    wheel: VerifiedWheel
    options: WriteOptions
    #: (staged directory, destination directory) pairs; their files are exactly `files`.
    trees: tuple[tuple[Path, Path], ...]
    #: Every destination path, in writing order (RECORD last).
    files: tuple[str, ...]
    dist_info: Path
    #: Whether the unpacked cache now holds the wheel's members (an entry linked or made).
    unpacked_entry: bool = False

    def installed(self) -> InstalledDistribution:
        return InstalledDistribution(
            name=self.wheel.name,
            version=self.wheel.version,
            label=self.wheel.label,
            dist_info=self.dist_info,
            files=self.files,
        )


def staging_root(target: TargetEnvironment) -> Path:
    # Imported here: the transaction module imports this one.
    from wheelnext_jupyter.install.transaction import state_dir

    return state_dir(target) / STAGING_DIR_NAME


class StagingArea:
    """One process's staging directory in a target environment; removed by `close()`."""

    def __init__(self, target: TargetEnvironment, unpacked: UnpackedCache | None = None) -> None:
        self.target = target
        self.root = staging_root(target)
        sweep_staging(target)
        name = uuid.uuid4().hex
        self._owner_path = self.root / (name + _OWNER_SUFFIX)
        # The owner lock exists before the directory, so a directory without a held lock is dead.
        for _ in range(3):
            self.root.mkdir(parents=True, exist_ok=True)
            self._owner = FileLock(str(self._owner_path), timeout=0)
            try:
                self._owner.acquire()
                break
            except FileNotFoundError:
                # Another process removed the empty staging root in between; make it again.
                continue
        self.directory = self.root / name
        self.directory.mkdir()
        self._counter = itertools.count(1)
        self._closed = False
        self._unpacked = (
            unpacked if unpacked is not None and unpacked.usable_for(self.root) else None
        )

    def __enter__(self) -> StagingArea:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def stage(
        self,
        wheel: Path | VerifiedWheel,
        options: WriteOptions | None = None,
        *,
        sha256: str | None = None,
    ) -> StagedWheel:
        """Check and unpack one wheel (a path, or an already verified wheel); thread-safe.

        A path is checked by `verify_wheel` except for the members' hashes and sizes, which are
        compared while each member is unpacked; any difference raises `RecordMismatch`. With the
        wheel file's `sha256` (hex) and an unpacked cache, members are hard links to the cache's
        copy when it has one, and the cache gets one otherwise.
        """
        if isinstance(wheel, Path):
            # One reading of the zip directory serves the checks and the unpacking.
            with open_archive(wheel) as archive:
                verified = verify_wheel(wheel, self.target, check_contents=False, archive=archive)
                return self._stage(verified, options, sha256, archive)
        return self._stage(wheel, options, sha256, None)

    @property
    def unpacked(self) -> UnpackedCache | None:
        """The unpacked cache this area links from and adds to (None where it cannot)."""
        return self._unpacked

    def stage_fetched(
        self, fetched: FetchedFile, options: WriteOptions | None = None, *, cache: bool = True
    ) -> StagedWheel:
        """Check and unpack a fetched wheel: from its file, from memory, or as links to its
        unpacked cache entry (`cache` False: not linked from, nor added to, the cache). An entry
        that turns out to be changed raises `StaleEntry` (and is removed): fetch the wheel
        again without entries."""
        sha256 = fetched.sha256 if cache else None
        if fetched.entry is not None:
            return self._stage_entry(fetched.filename, fetched.entry, options)
        if fetched.content is not None:
            with WheelArchive(Path(fetched.filename), fetched.content) as archive:
                verified = verify_wheel(
                    archive.path, self.target, check_contents=False, archive=archive
                )
                return self._stage(verified, options, sha256, archive)
        assert fetched.path is not None
        return self.stage(fetched.path, options, sha256=sha256)

    def _stage_entry(
        self, filename: str, entry: CachedWheel, options: WriteOptions | None
    ) -> StagedWheel:
        verified = verify_wheel(
            Path(filename), self.target, check_contents=False, archive=entry.archive()
        )
        directory = self.directory / str(next(self._counter))
        try:
            staged = _unpack(
                verified, self.target, options or WriteOptions(), directory, None, cached=entry
            )
        except (StaleEntry, OSError) as exc:
            # Links refused (too many, another owner's files) count as a changed entry: the
            # wheel itself is needed, and only a download has it.
            shutil.rmtree(directory, ignore_errors=True)
            raise StaleEntry(f"cached files of {filename} cannot be linked ({exc})") from None
        return replace(staged, unpacked_entry=True)

    def _stage(
        self,
        wheel: VerifiedWheel,
        options: WriteOptions | None,
        sha256: str | None,
        archive: WheelArchive | None,
    ) -> StagedWheel:
        options = options or WriteOptions()
        directory = self.directory / str(next(self._counter))
        cache = self._unpacked if sha256 is not None else None
        if cache is not None and sha256 is not None:
            cached = cache.lookup(sha256)
            if cached is not None:
                try:
                    staged = _unpack(wheel, self.target, options, directory, None, cached=cached)
                    return replace(staged, unpacked_entry=True)
                except (StaleEntry, OSError):
                    # A changed entry, or links refused (too many, another owner's files):
                    # unpack from the archive; a real problem with the target shows there.
                    shutil.rmtree(directory, ignore_errors=True)
            draft = cache.draft(sha256)
            try:
                staged = _unpack(wheel, self.target, options, directory, archive, draft=draft)
            except BaseException:
                if draft is not None:
                    draft.discard()
                raise
            if draft is not None and draft.publish():
                return replace(staged, unpacked_entry=True)
            return staged
        return _unpack(wheel, self.target, options, directory, archive)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        shutil.rmtree(self.directory, ignore_errors=True)
        if _native is not None:
            # The inflating buffers kept from wheel to wheel: a kernel lives on after its install.
            _native.release_buffers()
        self._owner.release()
        with contextlib.suppress(OSError):
            self._owner_path.unlink()
        # Empty directories are removed so a failed first install leaves no trace; a lock being
        # taken meanwhile makes its own parents again.
        for directory in (self.root, self.root.parent):
            with contextlib.suppress(OSError):
                directory.rmdir()


def sweep_staging(target: TargetEnvironment) -> int:
    """Remove staging directories whose process has died; returns how many."""
    root = staging_root(target)
    try:
        entries = list(root.iterdir())
    except FileNotFoundError:
        return 0
    removed = 0
    for entry in entries:
        if entry.name.endswith(_OWNER_SUFFIX):
            name = entry.name[: -len(_OWNER_SUFFIX)]
        elif entry.is_dir():
            name = entry.name
        else:
            continue
        owner_path = root / (name + _OWNER_SUFFIX)
        directory = root / name
        owner = FileLock(str(owner_path), timeout=0)
        try:
            owner.acquire()
        except LockTimeout:
            continue  # alive
        except FileNotFoundError:
            continue  # the root itself went away
        try:
            if directory.exists():
                shutil.rmtree(directory, ignore_errors=True)
                removed += 1
            with contextlib.suppress(OSError):
                owner_path.unlink()
        finally:
            owner.release()
    for directory in (root, root.parent):
        with contextlib.suppress(OSError):
            directory.rmdir()
    return removed


class Placement(Record):
    """Where a staged wheel's files go, found under the install lock before anything moves.

    A destination that does not exist yet receives its staged file or directory whole (one
    rename, however many files it holds); into directories that exist, files move one by one.
    """

    #: (staged path, destination that does not exist): renamed whole.
    roots: tuple[tuple[str, str], ...]
    #: Directories to make first: missing parents of the roots, outermost first.
    parents: tuple[str, ...]
    #: (staged file, destination in an existing directory): renamed one by one.
    files: tuple[tuple[str, str], ...]
    #: Destinations of `files` that exist: moved aside before the files arrive.
    in_the_way: tuple[str, ...]
    #: (destination, what it is) where a file and a directory collide.
    conflicts: tuple[tuple[str, str], ...]


def placement(staged: StagedWheel) -> Placement:
    roots: list[tuple[str, str]] = []
    files: list[tuple[str, str]] = []
    in_the_way: list[str] = []
    conflicts: list[tuple[str, str]] = []

    def walk(source: str, destination: str) -> None:
        with os.scandir(source) as entries:
            for entry in entries:
                target = os.path.join(destination, entry.name)
                try:
                    mode = os.lstat(target).st_mode
                except FileNotFoundError:
                    roots.append((entry.path, target))
                    continue
                if entry.is_dir(follow_symlinks=False):
                    # A link to a directory is merged into, as any directory.
                    if os.path.isdir(target):
                        walk(entry.path, target)
                    else:
                        conflicts.append((target, "a file where the wheel has a directory"))
                elif stat.S_ISDIR(mode):
                    conflicts.append((target, "a directory where the wheel has a file"))
                else:
                    files.append((entry.path, target))
                    in_the_way.append(target)

    parents: dict[str, None] = {}
    for source, destination in staged.trees:
        if os.path.isdir(destination):
            walk(str(source), str(destination))
            continue
        if os.path.lexists(destination):
            conflicts.append((str(destination), "a file where the wheel has a directory"))
            continue
        roots.append((str(source), str(destination)))
        missing: list[str] = []
        parent = os.path.dirname(destination)
        while not os.path.lexists(parent) and parent not in parents:
            missing.append(parent)
            parent = os.path.dirname(parent)
        parents.update(dict.fromkeys(reversed(missing)))
    return Placement(
        tuple(roots), tuple(parents), tuple(files), tuple(in_the_way), tuple(conflicts)
    )


def place(placed: Placement) -> None:
    """Move the staged files to their destinations (after `in_the_way` was moved aside)."""
    for directory in placed.parents:
        os.makedirs(directory, exist_ok=True)
    for source, destination in (*placed.roots, *placed.files):
        _rename(source, destination)


def _rename(source: str, destination: str) -> None:
    try:
        os.rename(source, destination)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        # A scheme directory on another file system (a separate scripts or data mount).
        shutil.move(source, destination)


def _b64(digest: bytes) -> str:
    return urlsafe_b64encode(digest).rstrip(b"=").decode()


def _unpack(
    wheel: VerifiedWheel,
    target: TargetEnvironment,
    options: WriteOptions,
    directory: Path,
    opened: WheelArchive | None,
    *,
    cached: CachedWheel | None = None,
    draft: EntryDraft | None = None,
) -> StagedWheel:
    """Stage one wheel: members from its archive (`opened` if the caller has it open), or hard
    links to `cached` (the same wheel's members, checked when they were cached). Members
    unpacked from the archive go into `draft` too when it is given."""
    layout = layout_of(wheel, target, options)
    name = wheel.path.name
    root = layout.root
    record_path = str(layout.dist_info / "RECORD")
    base_dir = str(directory)
    made: set[str] = set()
    written: list[str] = []
    rows: list[tuple[str, str, str]] = []
    staged_sources: dict[str, str] = {}
    wanted_pyc = {source for source, _ in layout.pyc}

    def staged_path(key: str, relative: str) -> str:
        path = os.path.join(base_dir, key, relative)
        parent = os.path.dirname(path)
        if parent not in made:
            os.makedirs(parent, exist_ok=True)
            made.add(parent)
        return path

    def add(key: str, relative: str, dest: Path, data: bytes, executable: bool = False) -> None:
        path = staged_path(key, relative)
        _write(path, data, executable)
        written.append(str(dest))
        rows.append(
            (
                record_name(dest, root),
                f"sha256={_b64(hashlib.sha256(data).digest())}",
                str(len(data)),
            )
        )

    def staged_member(
        member: str, key: str, dest: str, path: str, record_hash: str, size: int
    ) -> None:
        written.append(dest)
        # A member of the root scheme is recorded under its archive name; others relative to it.
        shown = member if key == ROOT_KEY else record_name(dest, root)
        rows.append((shown, f"sha256={record_hash}", str(size)))
        if dest in wanted_pyc:
            staged_sources[dest] = path

    by_path = {entry.path: entry for entry in wheel.entries}
    script_prefix = f"{wheel.data_dir}/scripts/"
    members = [(m, d, k) for m, d, k in layout.members if d != record_path]
    with contextlib.ExitStack() as stack:
        native: dict[str, tuple[str, str, int, bool]] = {}
        from_cache: dict[str, tuple[str, str, int]] = {}
        if cached is None:
            archive = (
                opened if opened is not None else stack.enter_context(WheelArchive(wheel.path))
            )
            if draft is not None:
                _describe(draft, archive, wheel)
            native = _unpack_natively(archive, members, by_path, base_dir, script_prefix, draft)
        elif {m for m, _, _ in members if m in by_path} - cached.members.keys():
            raise StaleEntry("the cached entry lacks members")
        else:
            from_cache = _link_natively(cached, members, base_dir, script_prefix)
        for number, (member, dest, key) in enumerate(members):
            if member in from_cache:
                path, digest, size = from_cache[member]
                staged_member(member, key, dest, path, digest, size)
                continue
            entry = by_path[member]
            if member in native:
                path, digest, size, executable = native[member]
                mismatch = content_mismatch(
                    name, entry, digest, size, checked_before=wheel.contents_checked
                )
                if mismatch is not None:
                    raise mismatch
                staged_member(member, key, dest, path, digest, size)
                if draft is not None:
                    draft.record(member, number, digest, size, executable)
                continue
            relative = member if key == ROOT_KEY else member.split("/", 2)[2]
            path = staged_path(key, relative)
            is_script = member.startswith(script_prefix)
            data: bytes | None = None
            sha256: bytes | None = None
            if cached is not None:
                executable = is_script or cached.members[member].executable
                if not is_script:
                    linked = cached.link(member, path)
                    staged_member(member, key, dest, path, linked.sha256, linked.size)
                    continue
                data = cached.read(member)
            else:
                info = archive.getinfo(member)
                executable = is_script or bool((info.external_attr >> 16) & 0o111)
                if info.file_size <= _BLOCK or is_script:
                    data = archive.content(info)
                    if data is None:
                        with archive.open(info) as stream:
                            data = stream.read()
            if data is not None:
                original = data
                digest = _b64(hashlib.new(entry.hash_algorithm, data).digest())
                size = len(data)
                if is_script and data.startswith(b"#!python"):
                    data = shebang(target.python).encode() + data[len(b"#!python") :]
                    sha256 = hashlib.sha256(data).digest()
                _write(path, data, executable)
                if sha256 is None and entry.hash_algorithm != "sha256":
                    sha256 = hashlib.sha256(data).digest()
                out_size = len(data)
            else:
                blocks = archive.blocks(info, _BLOCK)
                digest, sha256, size = _stream_member(blocks, entry.hash_algorithm, path)
                if executable:
                    os.chmod(path, 0o755)
                out_size = size
            mismatch = content_mismatch(
                name, entry, digest, size, checked_before=wheel.contents_checked
            )
            if mismatch is not None:
                raise mismatch
            record_hash = _b64(sha256) if sha256 is not None else digest
            staged_member(member, key, dest, path, record_hash, out_size)
            if draft is not None:
                if data is not None and data is not original:
                    # A script whose first line was rewritten: the cache keeps the original.
                    original_hash = _b64(hashlib.sha256(original).digest())
                    draft.write(member, number, original, original_hash, executable)
                else:
                    draft.link(member, number, path, record_hash, out_size, executable)
    for script, script_dest in layout.scripts:
        add("scripts", script.name, script_dest, launcher(script, target.python).encode(), True)
    dist_info_rel = wheel.dist_info
    add(
        ROOT_KEY,
        f"{dist_info_rel}/INSTALLER",
        layout.dist_info / "INSTALLER",
        f"{INSTALLER_NAME}\n".encode(),
    )
    if options.requested:
        add(ROOT_KEY, f"{dist_info_rel}/REQUESTED", layout.dist_info / "REQUESTED", b"")
    if options.direct_url is not None:
        document = json.dumps(dict(options.direct_url), sort_keys=True).encode()
        add(
            ROOT_KEY,
            f"{dist_info_rel}/direct_url.json",
            layout.dist_info / "direct_url.json",
            document,
        )
    _compile_staged(layout.pyc, staged_sources, target, root, written, rows)

    rows.append((record_name(record_path, root), "", ""))
    _write(
        staged_path(ROOT_KEY, f"{dist_info_rel}/RECORD"), _record_text(rows).encode("utf-8"), False
    )
    written.append(record_path)
    trees = tuple(
        (directory / key, base) for key, base in layout.bases.items() if (directory / key).is_dir()
    )
    return StagedWheel(
        wheel=wheel,
        options=options,
        trees=trees,
        files=tuple(written),
        dist_info=layout.dist_info,
    )


#: A character that makes the `csv` module quote a RECORD field.
_CSV_SPECIAL_RE = re.compile(r'[,"\r\n]')


def _record_text(rows: list[tuple[str, str, str]]) -> str:
    """RECORD's text, as `csv.writer` writes it. Only paths can need quoting (hashes and sizes
    never do), and almost none do: the rows are then joined directly, about ten times faster."""
    if _CSV_SPECIAL_RE.search("".join(path for path, _, _ in rows)):
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows(rows)
        return buffer.getvalue()
    return "".join(f"{path},{digest},{size}\n" for path, digest, size in rows)


#: A wheel unpacks in several threads when it inflates to more than this (a large wheel
#: otherwise keeps one core busy alone at the end of an install).
_PART_SIZE = 16 << 20
_helpers: WorkerPool | None = None
_helpers_lock = threading.Lock()


def _parts(jobs: list[_native_job]) -> list[list[int]]:
    """Job indices split into size-balanced parts, one per core at most."""
    total = sum(job[3] for job in jobs)
    count = min(available_cores(), total // _PART_SIZE, len(jobs))
    if count < 2:
        return [list(range(len(jobs)))]
    parts: list[list[int]] = [[] for _ in range(count)]
    loads = [0] * count
    for index in sorted(range(len(jobs)), key=lambda i: -jobs[i][3]):
        lightest = loads.index(min(loads))
        parts[lightest].append(index)
        loads[lightest] += jobs[index][3]
    return [sorted(part) for part in parts]


def _unpack_in_parts(
    buffer: mmap.mmap, jobs: list[_native_job], parts: list[list[int]], link_dir: bytes | None
) -> tuple[list[tuple[str, int]], bool]:
    """The native unpacker on each part at once (it runs without the GIL), this thread
    taking the first; results in job order. The first failure by job order is raised."""
    global _helpers
    assert _native is not None
    with _helpers_lock:
        if _helpers is None:
            _helpers = WorkerPool(available_cores(), thread_name_prefix="wheelnext-part")
        helpers = _helpers

    def run(part: list[int]) -> tuple[list[tuple[str, int]], bool]:
        assert _native is not None
        try:
            done: tuple[list[tuple[str, int]], bool] = _native.unpack(
                buffer, [jobs[i] for i in part], link_dir, _native_whole_limit
            )
        except _native.UnpackError as exc:
            # Name the job by its place in the whole list, not in the part.
            raise _native.UnpackError(part[exc.args[0]], exc.args[1]) from None
        return done

    futures = [helpers.submit(run, part) for part in parts[1:]]
    outcomes: list[tuple[list[tuple[str, int]], bool] | BaseException] = []
    try:
        outcomes.append(run(parts[0]))
    except Exception as exc:
        outcomes.append(exc)
    for future in futures:
        try:
            outcomes.append(future.result())
        except Exception as exc:
            outcomes.append(exc)
    failures = [
        (o.args[0] if isinstance(o, _native.UnpackError) else part[0], o)
        for part, o in zip(parts, outcomes, strict=True)
        if isinstance(o, BaseException)
    ]
    if failures:
        raise min(failures, key=lambda f: f[0])[1]
    results: list[tuple[str, int]] = [("", 0)] * len(jobs)
    linked = True
    for part, outcome in zip(parts, outcomes, strict=True):
        assert not isinstance(outcome, BaseException)
        for index, result in zip(part, outcome[0], strict=True):
            results[index] = result
        linked = linked and outcome[1]
    return results, linked


#: How `os.fsencode` encodes a name (called directly: thousands of names per wheel).
_FS_CODEC = (sys.getfilesystemencoding(), sys.getfilesystemencodeerrors())


def _native_path(base_dir: str, key: str, member: str) -> str:
    """Where the native unpacker stages `member` of scheme `key` (joined as strings: it is built
    for POSIX systems only)."""
    relative = member if key == ROOT_KEY else member.split("/", 2)[2]
    return f"{base_dir}/{key}/{relative}"


def _unpack_natively(
    archive: WheelArchive,
    members: list[tuple[str, str, str]],
    by_path: dict[str, RecordEntry],
    base_dir: str,
    script_prefix: str,
    draft: EntryDraft | None,
) -> dict[str, tuple[str, str, int, bool]]:
    """Unpack every member the native unpacker can take (stored or deflated, hashed with
    sha256 in RECORD, not a script) in one call without the GIL, linking each into `draft`;
    returns member → (staged path, digest, size, executable). The rest is left to the caller."""
    if _native is None or archive.buffer is None:
        return {}
    jobs: list[_native_job] = []
    chosen: list[tuple[str, str, bool]] = []
    for number, (member, _, key) in enumerate(members):
        info = archive.getinfo(member)
        if (
            info.compress_type not in MAPPED_METHODS
            or info.flag_bits & ENCRYPTED
            or by_path[member].hash_algorithm != "sha256"
            or member.startswith(script_prefix)
        ):
            continue
        path = _native_path(base_dir, key, member)
        executable = bool((info.external_attr >> 16) & 0o111)
        jobs.append(
            (
                info.header_offset,
                info.compress_size,
                info.compress_type,
                info.file_size,
                path.encode(*_FS_CODEC),
                executable,
                number,
            )
        )
        chosen.append((member, path, executable))
    if not jobs:
        return {}
    link_dir = os.fsencode(draft.directory) if draft is not None else None
    parts = _parts(jobs)
    try:
        if len(parts) == 1:
            results, linked = _native.unpack(archive.buffer, jobs, link_dir, _native_whole_limit)
        else:
            results, linked = _unpack_in_parts(archive.buffer, jobs, parts, link_dir)
    except _native.UnpackError as exc:
        index, problem = exc.args
        raise archive.corrupt(chosen[index][0], problem) from None
    if draft is not None and not linked:
        draft.spoil()
    return {
        member: (path, digest, size, executable)
        for (member, path, executable), (digest, size) in zip(chosen, results, strict=True)
    }


def _describe(draft: EntryDraft, archive: WheelArchive, wheel: VerifiedWheel) -> None:
    """Give the cache entry what the wheel's checks read besides its members."""
    names = [m.filename for m in archive.infolist() if not m.filename.endswith("/")]
    record = f"{wheel.dist_info}/RECORD"
    size = len(archive.buffer) if archive.buffer is not None else 0
    draft.describe(size, names, record, archive.read(record))


def _link_natively(
    cached: CachedWheel, members: list[tuple[str, str, str]], base_dir: str, script_prefix: str
) -> dict[str, tuple[str, str, int]]:
    """Hard-link every member but the scripts (their first line is rewritten) from the cache in
    one native call without the GIL; returns member → (staged path, sha256, size). Raises
    `StaleEntry` (the entry removed) for a cached file that was changed."""
    if _native is None:
        return {}
    jobs: list[tuple[int, int, bytes]] = []
    chosen: list[tuple[str, str, CachedMember]] = []
    for member, _, key in members:
        if member.startswith(script_prefix):
            continue
        cached_member = cached.members[member]
        path = _native_path(base_dir, key, member)
        jobs.append((cached_member.number, cached_member.size, path.encode(*_FS_CODEC)))
        chosen.append((member, path, cached_member))
    try:
        _native.link(os.fsencode(cached.directory), jobs, cached.created_ns)
    except _native.UnpackError:
        raise cached.stale() from None
    return {member: (path, entry.sha256, entry.size) for member, path, entry in chosen}


def _stream_member(
    blocks: Iterator[bytes], algorithm: str, path: str
) -> tuple[str, bytes | None, int]:
    """Unpack a large member block by block: (RECORD-algorithm digest, sha256 if the RECORD
    algorithm is another, size)."""
    hasher = hashlib.new(algorithm)
    sha256_hasher = None if algorithm == "sha256" else hashlib.sha256()
    size = 0
    with open(path, "xb") as out:
        for block in blocks:
            hasher.update(block)
            if sha256_hasher is not None:
                sha256_hasher.update(block)
            out.write(block)
            size += len(block)
    sha256 = sha256_hasher.digest() if sha256_hasher is not None else None
    return _b64(hasher.digest()), sha256, size


def _write(path: str, data: bytes, executable: bool) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        if executable:
            os.fchmod(fd, 0o755)
    finally:
        os.close(fd)


def _compile_staged(
    pyc: tuple[tuple[str, Path], ...],
    staged_sources: dict[str, str],
    target: TargetEnvironment,
    root: Path,
    written: list[str],
    rows: list[tuple[str, str, str]],
) -> None:
    """Compile the staged sources; the bytecode names the installed paths, not the staged ones."""
    chosen = [(source, cached) for source, cached in pyc if source in staged_sources]
    if not chosen:
        return
    pairs = []
    for source, cached in chosen:
        staged = Path(staged_sources[source])
        pairs.append((staged, staged.parent / "__pycache__" / cached.name))
    by_staged = {
        staged_cached: cached for (_, staged_cached), (_, cached) in zip(pairs, chosen, strict=True)
    }
    shown_as = tuple(Path(source) for source, _ in chosen)
    done = compile_bytecode(tuple(pairs), target, shown_as=shown_as)
    for _, staged_cached in done:
        data = staged_cached.read_bytes()
        cached = by_staged[staged_cached]
        written.append(str(cached))
        rows.append(
            (
                record_name(cached, root),
                f"sha256={_b64(hashlib.sha256(data).digest())}",
                str(len(data)),
            )
        )
