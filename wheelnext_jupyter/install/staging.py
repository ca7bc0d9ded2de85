"""Unpack wheels into a private directory on the target's file system, checking as they unpack.

Each wheel is read once: every member is decompressed, hashed against its RECORD entry and
written to `<purelib>/.wheelnext-jupyter/staging/<id>/<n>/<key>/…` in one pass, launchers and
`INSTALLER`/`REQUESTED`/`direct_url.json`/`RECORD` are generated next to it, and bytecode (when
asked for) is compiled there. Nothing in the environment changes while wheels stage, so staging
runs before the install lock is taken, in as many threads as there are wheels arriving. The
transaction then only moves the staged trees into place (`commit_staged`), which on one file
system is a rename per top-level directory or file.

A staging directory belongs to the process holding the lock file `staging/<id>.owner`. A process
that dies leaves its directory unlocked, and the next `StagingArea` or `recover` removes it.
"""

# Tens of thousands of files pass through here per install: plain strings and `os` calls, not
# pathlib objects, on the per-file path.
# ruff: noqa: PTH101, PTH103, PTH104, PTH118, PTH120, PTH123

from __future__ import annotations

import contextlib
import csv
import errno
import hashlib
import io
import itertools
import json
import os
import shutil
import uuid
import zipfile
from base64 import urlsafe_b64encode
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock, Timeout

from wheelnext_jupyter.install.target import TargetEnvironment
from wheelnext_jupyter.install.wheelfile import (
    VerifiedWheel,
    content_mismatch,
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

STAGING_DIR_NAME = "staging"
_OWNER_SUFFIX = ".owner"
#: Members up to this size are read whole; larger ones are streamed in blocks of this size.
_BLOCK = 8 << 20


@dataclass(frozen=True)
class StagedWheel:
    """A wheel unpacked and checked in a staging directory, ready to be moved into place."""

    wheel: VerifiedWheel
    options: WriteOptions
    #: (staged directory, destination directory) pairs; their files are exactly `files`.
    trees: tuple[tuple[Path, Path], ...]
    #: Every destination path, in writing order (RECORD last).
    files: tuple[Path, ...]
    dist_info: Path

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

    def __init__(self, target: TargetEnvironment) -> None:
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

    def __enter__(self) -> StagingArea:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def stage(
        self, wheel: Path | VerifiedWheel, options: WriteOptions | None = None
    ) -> StagedWheel:
        """Check and unpack one wheel (a path, or an already verified wheel); thread-safe.

        A path is checked by `verify_wheel` except for the members' hashes and sizes, which are
        compared while each member is unpacked; any difference raises `RecordMismatch`.
        """
        if isinstance(wheel, Path):
            wheel = verify_wheel(wheel, self.target, check_contents=False)
        directory = self.directory / str(next(self._counter))
        return _unpack(wheel, self.target, options or WriteOptions(), directory)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        shutil.rmtree(self.directory, ignore_errors=True)
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
        except Timeout:
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


def commit_staged(staged: StagedWheel) -> InstalledDistribution:
    """Move a staged wheel's files to their destinations, which must be free.

    A destination directory that does not exist yet receives the staged directory whole (one
    rename); an existing one is merged into, file by file.
    """
    for source, destination in staged.trees:
        _merge(str(source), str(destination))
    return staged.installed()


def _merge(source: str, destination: str) -> None:
    if not os.path.lexists(destination):
        os.makedirs(os.path.dirname(destination), exist_ok=True)
        _rename(source, destination)
        return
    with os.scandir(source) as entries:
        for entry in entries:
            target = os.path.join(destination, entry.name)
            if entry.is_dir(follow_symlinks=False):
                _merge(entry.path, target)
            else:
                _rename(entry.path, target)


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
    wheel: VerifiedWheel, target: TargetEnvironment, options: WriteOptions, directory: Path
) -> StagedWheel:
    layout = layout_of(wheel, target, options)
    name = wheel.path.name
    root = layout.root
    record_path = layout.dist_info / "RECORD"
    base_dir = str(directory)
    made: set[str] = set()
    written: list[Path] = []
    rows: list[tuple[str, str, str]] = []
    staged_sources: dict[Path, str] = {}
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
        written.append(dest)
        rows.append(
            (
                record_name(dest, root),
                f"sha256={_b64(hashlib.sha256(data).digest())}",
                str(len(data)),
            )
        )

    by_path = {entry.path: entry for entry in wheel.entries}
    script_prefix = f"{wheel.data_dir}/scripts/"
    with zipfile.ZipFile(wheel.path) as archive:
        infos = {info.filename: info for info in archive.infolist()}
        for member, dest, key in layout.members:
            if dest == record_path:
                continue
            entry = by_path[member]
            info = infos[member]
            relative = member if key == ROOT_KEY else member.split("/", 2)[2]
            path = staged_path(key, relative)
            is_script = member.startswith(script_prefix)
            executable = is_script or bool((info.external_attr >> 16) & 0o111)
            hasher = hashlib.new(entry.hash_algorithm)
            with archive.open(info) as stream:
                if info.file_size <= _BLOCK or is_script:
                    data = stream.read()
                    hasher.update(data)
                    size = len(data)
                    sha256 = None
                    if is_script and data.startswith(b"#!python"):
                        data = shebang(target.python).encode() + data[len(b"#!python") :]
                        sha256 = hashlib.sha256(data).digest()
                    _write(path, data, executable)
                    if sha256 is None and entry.hash_algorithm != "sha256":
                        sha256 = hashlib.sha256(data).digest()
                    out_size = len(data)
                else:
                    sha256_hasher = None if entry.hash_algorithm == "sha256" else hashlib.sha256()
                    size = 0
                    with open(path, "xb") as out:
                        for block in iter(lambda: stream.read(_BLOCK), b""):
                            hasher.update(block)
                            if sha256_hasher is not None:
                                sha256_hasher.update(block)
                            out.write(block)
                            size += len(block)
                    if executable:
                        os.chmod(path, 0o755)
                    sha256 = sha256_hasher.digest() if sha256_hasher is not None else None
                    out_size = size
            digest = _b64(hasher.digest())
            mismatch = content_mismatch(
                name, entry, digest, size, checked_before=wheel.contents_checked
            )
            if mismatch is not None:
                raise mismatch
            written.append(dest)
            record_hash = _b64(sha256) if sha256 is not None else digest
            rows.append((record_name(dest, root), f"sha256={record_hash}", str(out_size)))
            if dest in wanted_pyc:
                staged_sources[dest] = path
    for script, dest in layout.scripts:
        add("scripts", script.name, dest, launcher(script, target.python).encode(), True)
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

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerows(rows)
    writer.writerow((record_name(record_path, root), "", ""))
    _write(
        staged_path(ROOT_KEY, f"{dist_info_rel}/RECORD"), buffer.getvalue().encode("utf-8"), False
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
    pyc: tuple[tuple[Path, Path], ...],
    staged_sources: dict[Path, str],
    target: TargetEnvironment,
    root: Path,
    written: list[Path],
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
    done = compile_bytecode(tuple(pairs), target, shown_as=tuple(s for s, _ in chosen))
    for _, staged_cached in done:
        data = staged_cached.read_bytes()
        cached = by_staged[staged_cached]
        written.append(cached)
        rows.append(
            (
                record_name(cached, root),
                f"sha256={_b64(hashlib.sha256(data).digest())}",
                str(len(data)),
            )
        )
