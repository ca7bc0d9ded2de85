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
import functools
import hashlib
import heapq
import io
import itertools
import json
import mmap
import operator
import os
import shutil
import stat
import sys
import threading
from base64 import urlsafe_b64encode
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, NamedTuple

from wheelnext_jupyter.file_lock import FileLock, LockTimeout
from wheelnext_jupyter.install.archive import ENCRYPTED, MAPPED_METHODS, WheelArchive
from wheelnext_jupyter.install.cores import available_cores
from wheelnext_jupyter.install.target import TargetEnvironment
from wheelnext_jupyter.install.unpacked_cache import (
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
        # Directories made for the root that were not there (a user site before its first
        # install): removed with it when empty, so an install that fails leaves none behind.
        self._made: list[Path] = []
        missing = self.root
        while not missing.exists() and missing.parent != missing:
            self._made.append(missing)
            missing = missing.parent
        sweep_staging(target)
        name = os.urandom(16).hex()  # as unique as a uuid4, without importing uuid
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
        for directory in dict.fromkeys((self.root, self.root.parent, *self._made)):
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

    by_path = {entry.path: entry for entry in wheel.entries}
    script_prefix = f"{wheel.data_dir}/scripts/"
    members = [member for member in layout.members if member[1] != record_path]
    names = [member for member, _, _ in members]
    count = len(members)
    with contextlib.ExitStack() as stack:
        # Most members are staged at once by native code (`batch`); the rest one by one below.
        # `mismatch`: where in the batch the first member is whose content differs from RECORD.
        mismatch: int | None = None
        if cached is None:
            archive = (
                opened if opened is not None else stack.enter_context(WheelArchive(wheel.path))
            )
            if draft is not None:
                _describe(draft, archive, wheel)
            entries = list(map(by_path.__getitem__, names))
            batch = _unpack_natively(
                archive, members, names, entries, base_dir, script_prefix, draft
            )
            mismatch = _first_mismatch(batch, entries)
            if draft is not None:
                draft.record_all(
                    names if len(batch.numbers) == count else [names[i] for i in batch.numbers],
                    batch.numbers,
                    batch.digests,
                    batch.sizes,
                    batch.executables,
                )
        elif set(names).difference(cached.members):
            raise StaleEntry("the cached entry lacks members")
        else:
            batch = _link_natively(cached, members, names, base_dir, script_prefix)
        # Per member: where it was staged, and the sha256 and size RECORD lists for it.
        rest: list[int] = []
        if len(batch.numbers) == count:
            paths, hashes, sizes = list(batch.paths), list(batch.digests), list(batch.sizes)
        else:
            paths, hashes, sizes = [""] * count, [""] * count, [0] * count
            for index, number in enumerate(batch.numbers):
                paths[number] = batch.paths[index]
                hashes[number] = batch.digests[index]
                sizes[number] = batch.sizes[index]
            rest = sorted(set(range(count)).difference(batch.numbers))
        # As when each is checked as it is unpacked: members after one that differs are left.
        last = count if mismatch is None else batch.numbers[mismatch]
        for number in rest:
            if number > last:
                break
            member, dest, key = members[number]
            entry = by_path[member]
            relative = member if key == ROOT_KEY else member.split("/", 2)[2]
            path = staged_path(key, relative)
            is_script = member.startswith(script_prefix)
            data: bytes | None = None
            sha256: bytes | None = None
            if cached is not None:
                executable = is_script or cached.members[member].executable
                if not is_script:
                    linked = cached.link(member, path)
                    paths[number], hashes[number], sizes[number] = path, linked.sha256, linked.size
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
            problem = content_mismatch(
                name, entry, digest, size, checked_before=wheel.contents_checked
            )
            if problem is not None:
                raise problem
            record_hash = _b64(sha256) if sha256 is not None else digest
            paths[number], hashes[number], sizes[number] = path, record_hash, out_size
            if draft is not None:
                if data is not None and data is not original:
                    # A script whose first line was rewritten: the cache keeps the original.
                    original_hash = _b64(hashlib.sha256(original).digest())
                    draft.write(member, number, original, original_hash, executable)
                else:
                    draft.link(member, number, path, record_hash, out_size, executable)
        if draft is not None and rest:
            draft.order(names)  # those recorded at once came first
        if mismatch is not None:
            number = batch.numbers[mismatch]
            problem = content_mismatch(
                name,
                by_path[members[number][0]],
                batch.digests[mismatch],
                batch.sizes[mismatch],
                checked_before=wheel.contents_checked,
            )
            assert problem is not None
            raise problem
    written.extend([dest for _, dest, _ in members])
    # A member of the root scheme is recorded under its archive name; others relative to it.
    shown = [
        member if key == ROOT_KEY else record_name(dest, root) for member, dest, key in members
    ]
    rows.extend(zip(shown, map("sha256=".__add__, hashes), map(str, sizes), strict=True))
    if wanted_pyc:
        for (_, dest, _), path in zip(members, paths, strict=True):
            if dest in wanted_pyc:
                # Natively staged members are relative to the wheel's staging directory, the
                # others whole paths (which `join` leaves as they are).
                staged_sources[dest] = os.path.join(base_dir, path)
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


#: The characters that make the `csv` module quote a RECORD field (each searched for alone:
#: a search for one character is much faster than a pattern's).
_CSV_SPECIAL = (",", '"', "\r", "\n")


def _record_text(rows: list[tuple[str, str, str]]) -> str:
    """RECORD's text, as `csv.writer` writes it. Only paths can need quoting (hashes and sizes
    never do), and almost none do: the rows are then joined directly, about ten times faster."""
    paths = "".join(map(operator.itemgetter(0), rows))
    if any(char in paths for char in _CSV_SPECIAL):
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows(rows)
        return buffer.getvalue()
    return "".join([f"{path},{digest},{size}\n" for path, digest, size in rows])


#: A wheel unpacks in several threads when it inflates to more than this (a large wheel
#: otherwise keeps one core busy alone at the end of an install).
_PART_SIZE = 16 << 20
_helpers: WorkerPool | None = None
_helpers_lock = threading.Lock()


def _parts(jobs: list[_native_job]) -> list[list[int]]:
    """Job indices split into size-balanced parts, one per core at most."""
    sizes = [job[3] for job in jobs]
    count = min(available_cores(), sum(sizes) // _PART_SIZE, len(jobs))
    if count < 2:
        return [list(range(len(jobs)))]
    parts: list[list[int]] = [[] for _ in range(count)]
    # Largest first (a stable sort: equal sizes keep their order), each to the lightest part,
    # the first of equally light ones: the heap orders parts by (load, place).
    lightest = [(0, place) for place in range(count)]
    for index in sorted(range(len(jobs)), key=sizes.__getitem__, reverse=True):
        load, place = lightest[0]
        parts[place].append(index)
        heapq.heapreplace(lightest, (load + sizes[index], place))
    return [sorted(part) for part in parts]


def _unpack_in_parts(
    buffer: mmap.mmap,
    jobs: list[_native_job],
    parts: list[list[int]],
    link_dir: bytes | None,
    base: bytes,
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
                buffer, [jobs[i] for i in part], link_dir, _native_whole_limit, base
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


class _Batch(NamedTuple):
    """Members staged at once by native code: their numbers in the wheel's member list, where
    each was staged (relative to the wheel's staging directory), and the sha256 (RECORD's form)
    and size of each staged file."""

    numbers: Sequence[int]
    paths: Sequence[str]
    digests: Sequence[str]
    sizes: Sequence[int]
    #: Whether each is executable (members unpacked from the archive only).
    executables: Sequence[bool] = ()


_NO_BATCH = _Batch((), (), (), ())
#: The executable bits of a zip entry's Unix mode, in its external attributes.
_EXECUTABLE_BITS = 0o111 << 16


def _native_paths(members: Sequence[tuple[str, str, str]]) -> list[str]:
    """Where the native code stages each member, relative to the wheel's staging directory (it
    creates and links files from that directory, not from the root): `<key>/<path under the
    key's directory>` (joined as strings: it is built for POSIX systems only)."""
    root = f"{ROOT_KEY}/"
    # A `.data` member is `<data dir>/<key>/<path>`.
    return [
        root + member if key == ROOT_KEY else member.partition("/")[2] for member, _, key in members
    ]


def _unpack_natively(
    archive: WheelArchive,
    members: list[tuple[str, str, str]],
    names: list[str],
    entries: list[RecordEntry],
    base_dir: str,
    script_prefix: str,
    draft: EntryDraft | None,
) -> _Batch:
    """Unpack every member the native unpacker can take (stored or deflated, hashed with
    sha256 in RECORD, not a script) in one call without the GIL, linking each into `draft`;
    `names` and `entries` are the members' names and RECORD entries. The rest is left to the
    caller."""
    if _native is None or archive.buffer is None or not members:
        return _NO_BATCH
    infos: list[Any] = archive.getinfos(names)
    # Entries of the native directory are tuples of their fields: read by column.
    _, offsets, compressed, sizes, methods, flags, modes, _ = zip(*infos, strict=True)
    numbers: Sequence[int] = range(len(members))
    # Thousands of members, nearly always all taken: checked at once, one by one only if not.
    if not (
        set(methods).issubset(MAPPED_METHODS)
        and not functools.reduce(operator.or_, flags) & ENCRYPTED
        and {entry.hash_algorithm for entry in entries} == {"sha256"}
        and not any(map(str.startswith, names, itertools.repeat(script_prefix)))
    ):
        numbers = [
            number
            for number in numbers
            if methods[number] in MAPPED_METHODS
            and not flags[number] & ENCRYPTED
            and entries[number].hash_algorithm == "sha256"
            and not names[number].startswith(script_prefix)
        ]
        if not numbers:
            return _NO_BATCH
        members = [members[number] for number in numbers]
        infos = [infos[number] for number in numbers]
        _, offsets, compressed, sizes, methods, _, modes, _ = zip(*infos, strict=True)
    paths = _native_paths(members)
    executables = tuple(map(bool, map(_EXECUTABLE_BITS.__and__, modes)))
    encoded = map(str.encode, paths, *map(itertools.repeat, _FS_CODEC))
    jobs: list[_native_job] = list(
        zip(offsets, compressed, methods, sizes, encoded, executables, numbers, strict=True)
    )
    link_dir = os.fsencode(draft.directory) if draft is not None else None
    base = os.fsencode(base_dir)
    parts = _parts(jobs)
    try:
        if len(parts) == 1:
            results, linked = _native.unpack(
                archive.buffer, jobs, link_dir, _native_whole_limit, base
            )
        else:
            results, linked = _unpack_in_parts(archive.buffer, jobs, parts, link_dir, base)
    except _native.UnpackError as exc:
        index, problem = exc.args
        raise archive.corrupt(members[index][0], problem) from None
    if draft is not None and not linked:
        draft.spoil()
    digests = list(map(operator.itemgetter(0), results))
    unpacked = list(map(operator.itemgetter(1), results))
    return _Batch(numbers, paths, digests, unpacked, executables)


def _first_mismatch(batch: _Batch, entries: list[RecordEntry]) -> int | None:
    """Where in `batch` the first member is whose content differs from its RECORD entry, or
    None (compared at once, then one by one only if one differs)."""
    if not batch.numbers:
        return None
    chosen = entries if len(batch.numbers) == len(entries) else [entries[i] for i in batch.numbers]
    digests = list(map(operator.attrgetter("digest"), chosen))
    if digests == batch.digests and list(map(operator.attrgetter("size"), chosen)) == batch.sizes:
        return None
    return next(
        (
            index
            for index, (entry, digest, size) in enumerate(
                zip(chosen, batch.digests, batch.sizes, strict=True)
            )
            if digest != entry.digest or size != entry.size
        ),
        None,
    )


def _describe(draft: EntryDraft, archive: WheelArchive, wheel: VerifiedWheel) -> None:
    """Give the cache entry what the wheel's checks read besides its members."""
    record = f"{wheel.dist_info}/RECORD"
    size = len(archive.buffer) if archive.buffer is not None else 0
    draft.describe(size, archive.file_names(), record, archive.read(record))


def _link_natively(
    cached: CachedWheel,
    members: list[tuple[str, str, str]],
    names: list[str],
    base_dir: str,
    script_prefix: str,
) -> _Batch:
    """Hard-link every member but the scripts (their first line is rewritten) from the cache in
    one native call without the GIL; `names` are the members' names. Raises `StaleEntry` (the
    entry removed) for a cached file that was changed."""
    if _native is None:
        return _NO_BATCH
    numbers: Sequence[int] = range(len(members))
    if any(map(str.startswith, names, itertools.repeat(script_prefix))):
        numbers = [number for number in numbers if not names[number].startswith(script_prefix)]
        members = [members[number] for number in numbers]
        names = [names[number] for number in numbers]
    kept = list(map(cached.members.__getitem__, names))
    paths = _native_paths(members)
    encoded = map(str.encode, paths, *map(itertools.repeat, _FS_CODEC))
    sizes = [m.size for m in kept]
    jobs = list(zip([m.number for m in kept], sizes, encoded, strict=True))
    try:
        _native.link(os.fsencode(cached.directory), jobs, cached.created_ns, os.fsencode(base_dir))
    except _native.UnpackError:
        raise cached.stale() from None
    return _Batch(numbers, paths, [m.sha256 for m in kept], sizes)


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
