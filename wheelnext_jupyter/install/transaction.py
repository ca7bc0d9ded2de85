"""Install a list of wheels into one environment, all or nothing.

Files of the distributions being replaced (and anything else in the way) are moved aside into a
backup directory, not deleted, until every new wheel is written. A journal in the environment
records each step *before* it is taken, so a failure — or a killed process, at the next run —
undoes exactly what was done: new files are removed, created directories pruned, moved files put
back. A lock file serialises installs into the same environment.

Wheels are unpacked and checked into a staging directory first (`install.staging`), before the
lock is taken and in parallel; under the lock the transaction only moves files aside and the
staged trees into place. Nothing is visible in the environment until every wheel of the plan has
staged; a wheel that fails to stage removes the staging directory and leaves the environment as
it was.

State lives in `<purelib>/.wheelnext-jupyter/` (the name starts with a dot, so it is never
importable): `install.lock`, `journal.jsonl` while a transaction runs, `backup-<id>/`,
`staging/<id>/` while a process stages.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO

from wheelnext_jupyter.file_lock import FileLock, LockTimeout
from wheelnext_jupyter.install.errors import TransactionError
from wheelnext_jupyter.install.externally_managed import check_externally_managed
from wheelnext_jupyter.install.staging import (
    StagedWheel,
    StagingArea,
    place,
    placement,
    sweep_staging,
)
from wheelnext_jupyter.install.target import TargetEnvironment
from wheelnext_jupyter.install.uninstall import (
    InstalledRecord,
    find_installed,
    owned_files,
    top_level_modules,
)
from wheelnext_jupyter.install.wheelfile import VerifiedWheel
from wheelnext_jupyter.install.writer import InstalledDistribution, WriteOptions
from wheelnext_jupyter.record import Record, replace
from wheelnext_jupyter.workers import WorkerPool, interrupts_blocked, uninterrupted

STATE_DIR_NAME = ".wheelnext-jupyter"
_JOURNAL = "journal.jsonl"
_LOCK = "install.lock"


class EnvironmentLocked(TransactionError):
    """Another install into the same environment holds the lock for too long."""


class FileConflict(TransactionError):
    """A wheel would write a file where a directory exists."""


class PlannedWheel(Record):
    """One wheel of a plan and what it replaces."""

    wheel: VerifiedWheel
    requested: bool = True
    #: PEP 610 document for `direct_url.json` (files installed from a path or URL), else None.
    direct_url: Mapping[str, object] | None = None
    #: The installed distribution this wheel replaces; None = the one with the wheel's name.
    replaces: str | None = None
    #: The wheel already unpacked by a `StagingArea` of the same target (with the same
    #: `requested`/`direct_url`); None = `install_wheels` stages it.
    staged: StagedWheel | None = None


class RemovedDistribution(Record):
    name: str
    version: str
    #: Its import names, for deciding whether a running interpreter must restart.
    top_level: frozenset[str]


class InstallOutcome(Record):
    installed: tuple[InstalledDistribution, ...]
    removed: tuple[RemovedDistribution, ...]
    #: What an interrupted earlier install left behind and this run undid (or finished).
    recovered: tuple[str, ...] = ()


#: Called after each wheel is written with its position (1-based) and result.
AfterWheel = Callable[[int, InstalledDistribution], None]

#: Threads unpacking wheels that were not staged beforehand.
_STAGING_THREADS = min(8, (os.cpu_count() or 1) + 1)


def state_dir(target: TargetEnvironment) -> Path:
    return target.scheme.purelib / STATE_DIR_NAME


def install_wheels(
    plan: Sequence[PlannedWheel],
    target: TargetEnvironment,
    *,
    compile_bytecode: bool = False,
    break_system_packages: bool = False,
    lock_timeout: float = 600.0,
    after_wheel: AfterWheel | None = None,
) -> InstallOutcome:
    """Write every wheel of `plan` into `target`, or none of them.

    Wheels must already be verified (`verify_wheel`) or staged (`PlannedWheel.staged`). Those
    not staged are unpacked into a staging directory first, in parallel and before the lock is
    taken; the lock is held only while files move into place. On any failure the environment is
    restored and the exception propagates.
    """
    check_externally_managed(target, break_system_packages=break_system_packages)
    if all(item.staged is not None for item in plan):
        return _commit_plan(plan, target, lock_timeout, after_wheel)
    with StagingArea(target) as area:

        def stage(item: PlannedWheel) -> PlannedWheel:
            if item.staged is not None:
                return item
            options = WriteOptions(
                requested=item.requested,
                direct_url=item.direct_url,
                compile_bytecode=compile_bytecode,
            )
            return replace(item, staged=area.stage(item.wheel, options))

        with WorkerPool(_STAGING_THREADS, thread_name_prefix="wheelnext-stage") as pool:
            futures = [pool.submit(stage, item) for item in plan]
            try:
                staged = [future.result() for future in futures]
            except BaseException:
                for future in futures:
                    future.cancel()
                raise
        return _commit_plan(staged, target, lock_timeout, after_wheel)


def _commit_plan(
    plan: Sequence[PlannedWheel],
    target: TargetEnvironment,
    lock_timeout: float,
    after_wheel: AfterWheel | None,
) -> InstallOutcome:
    with _locked(target, lock_timeout):
        recovered = _recover_locked(target)
        with _journaled(target) as transaction:
            outcome = transaction.run(plan, after_wheel)
    return InstallOutcome(outcome.installed, outcome.removed, tuple(recovered))


def remove_distributions(
    names: Sequence[str], target: TargetEnvironment, *, lock_timeout: float = 600.0
) -> tuple[RemovedDistribution, ...]:
    """Uninstall distributions by their RECORD, under the same lock and journal."""
    with _locked(target, lock_timeout):
        _recover_locked(target)
        with _journaled(target) as transaction:
            removed = tuple(
                transaction.remove(dist)
                for name in names
                if (dist := find_installed(target, name)) is not None
            )
    return removed


@contextlib.contextmanager
def _journaled(target: TargetEnvironment) -> Iterator[_Transaction]:
    """A transaction for the block: rolled back if the block fails, else committed. Ctrl-C
    during a roll-back waits until the environment is as it was; during the commit, which
    cannot be undone, it is not taken at all."""
    transaction = _Transaction(target)
    with contextlib.ExitStack() as committing:
        try:
            yield transaction
            # Inside the `try`: an interrupt that comes before Ctrl-C is held rolls back.
            committing.enter_context(uninterrupted())
        except BaseException:
            with interrupts_blocked():
                transaction.roll_back()
            raise
        transaction.commit()


def recover(target: TargetEnvironment, *, lock_timeout: float = 600.0) -> list[str]:
    """Undo (or finish) an install that a killed process left half done; messages say what.

    Staging directories of processes that died are removed too (silently: nothing of them was
    visible in the environment).
    """
    sweep_staging(target)
    if not (state_dir(target) / _JOURNAL).exists():
        return []
    with _locked(target, lock_timeout):
        return _recover_locked(target)


class _locked:
    def __init__(self, target: TargetEnvironment, timeout: float) -> None:
        directory = state_dir(target)
        directory.mkdir(parents=True, exist_ok=True)
        self._path = directory / _LOCK
        self._lock = FileLock(str(self._path), timeout=timeout)

    def __enter__(self) -> None:
        try:
            self._lock.acquire()
        except LockTimeout:
            raise EnvironmentLocked(
                f"another install into this environment is running (lock {self._path}); "
                "wait for it to finish and try again"
            ) from None

    def __exit__(self, *exc: object) -> None:
        self._lock.release()


def _recover_locked(target: TargetEnvironment) -> list[str]:
    journal = state_dir(target) / _JOURNAL
    if not journal.exists():
        return []
    entries = _read_journal(journal)
    begin = next((e for e in entries if e.get("op") == "begin"), {})
    if any(e.get("op") == "commit" for e in entries):
        _finish(entries, target)
        message = f"finished cleaning up an install that had completed (pid {begin.get('pid')})"
    else:
        _undo(entries)
        message = f"rolled back an interrupted install (pid {begin.get('pid')})"
    backup = begin.get("backup")
    if isinstance(backup, str):
        shutil.rmtree(backup, ignore_errors=True)
    journal.unlink()
    return [message]


def _read_journal(path: Path) -> list[dict[str, object]]:
    entries: list[dict[str, object]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            # A line cut short by the kill: its step was never started.
            break
        if isinstance(entry, dict):
            entries.append(entry)
    return entries


def _paths(entry: Mapping[str, object]) -> list[str]:
    paths = entry.get("paths")
    return [p for p in paths if isinstance(p, str)] if isinstance(paths, list) else []


def _pairs(entry: Mapping[str, object]) -> list[tuple[str, str]]:
    pairs = entry.get("pairs")
    if not isinstance(pairs, list):
        return []
    return [(str(p[0]), str(p[1])) for p in pairs if isinstance(p, list) and len(p) == 2]


def _undo(entries: list[dict[str, object]]) -> None:
    # New files first (some sit where moved-aside files must return), then directories, then moves.
    for entry in reversed(entries):
        if entry.get("op") == "tree":
            # Destinations that did not exist: everything under them is the install's.
            for created in reversed(_paths(entry)):
                path = Path(created)
                if path.is_dir() and not path.is_symlink():
                    shutil.rmtree(path, ignore_errors=True)
                elif path.is_symlink() or path.exists():
                    path.unlink()
        if entry.get("op") == "create":
            for created in reversed(_paths(entry)):
                path = Path(created)
                if path.is_symlink() or path.is_file():
                    path.unlink()
    for entry in reversed(entries):
        if entry.get("op") == "mkdir":
            for directory in sorted(_paths(entry), key=len, reverse=True):
                _remove_tree_of_caches(Path(directory))
                with contextlib.suppress(OSError):
                    Path(directory).rmdir()
    for entry in reversed(entries):
        if entry.get("op") == "move":
            for src, dst in reversed(_pairs(entry)):
                if os.path.lexists(dst) and not os.path.lexists(src):
                    Path(src).parent.mkdir(parents=True, exist_ok=True)
                    shutil.move(dst, src)


def _remove_tree_of_caches(directory: Path) -> None:
    """Bytecode an importer wrote into a directory we created is ours to remove too."""
    cache = directory / "__pycache__"
    if cache.is_dir() and all(p.suffix == ".pyc" for p in cache.iterdir()):
        shutil.rmtree(cache, ignore_errors=True)


def _finish(entries: list[dict[str, object]], target: TargetEnvironment) -> None:
    sources = [Path(src) for e in entries if e.get("op") == "move" for src, _ in _pairs(e)]
    _prune_empty_parents(sources, _scheme_roots(target))


def _scheme_roots(target: TargetEnvironment) -> set[Path]:
    scheme = target.scheme
    return {scheme.purelib, scheme.platlib, scheme.scripts, scheme.data, scheme.headers}


def _prune_empty_parents(paths: list[Path], roots: set[Path]) -> None:
    """Remove directories the moves left empty (a replaced package's folders), never a root."""
    candidates = sorted({p.parent for p in paths}, key=lambda p: len(p.parts), reverse=True)
    for directory in candidates:
        current = directory
        while current not in roots and any(current.is_relative_to(r) for r in roots):
            try:
                current.rmdir()
            except OSError:
                break
            current = current.parent


class _Transaction:
    def __init__(self, target: TargetEnvironment) -> None:
        self.target = target
        self.directory = state_dir(target)
        self.backup = self.directory / f"backup-{os.urandom(16).hex()}"
        self.journal_path = self.directory / _JOURNAL
        self._journal: IO[str] | None = None
        self._moved = 0

    def _log(self, *entries: Mapping[str, object], sync: bool = False) -> None:
        """Append steps to the journal before they are taken.

        Written steps survive a killed process (they are in the page cache). Steps that move
        existing files aside are also synced to disk (`sync`), so even a power cut cannot lose
        the way back to files that were there before; new files and directories, which are only
        removed on undo, are not, which saves a disk round trip per wheel that heavy writeback
        can stretch to tens of milliseconds.
        """
        if self._journal is None:
            self._journal = self.journal_path.open("x", encoding="utf-8")
            self._log({"op": "begin", "pid": os.getpid(), "backup": str(self.backup)})
        self._journal.write("".join(json.dumps(entry) + "\n" for entry in entries))
        self._journal.flush()
        if sync:
            os.fsync(self._journal.fileno())

    def _move_aside(self, paths: Sequence[Path]) -> None:
        if not paths:
            return
        self.backup.mkdir(parents=True, exist_ok=True)
        pairs: list[tuple[Path, Path]] = []
        for path in paths:
            self._moved += 1
            pairs.append((path, self.backup / str(self._moved)))
        self._log({"op": "move", "pairs": [[str(s), str(d)] for s, d in pairs]}, sync=True)
        for src, dst in pairs:
            shutil.move(str(src), str(dst))

    def remove(self, dist: InstalledRecord) -> RemovedDistribution:
        modules = frozenset(top_level_modules(dist))
        self._move_aside(owned_files(dist))
        return RemovedDistribution(dist.name, dist.version, modules)

    def run(self, plan: Sequence[PlannedWheel], after_wheel: AfterWheel | None) -> InstallOutcome:
        removed: list[RemovedDistribution] = []
        for item in plan:
            old = find_installed(self.target, item.replaces or item.wheel.name)
            if old is not None:
                removed.append(self.remove(old))
        installed: list[InstalledDistribution] = []
        for position, item in enumerate(plan, start=1):
            staged = item.staged
            assert staged is not None
            placed = placement(staged)
            for path, what in placed.conflicts:
                raise FileConflict(
                    f"{staged.wheel.path.name}: {path} is {what}; "
                    "remove it or install into a fresh environment"
                )
            self._move_aside([Path(p) for p in placed.in_the_way])
            # Logged before they happen: an undo removes new trees whole and new files one by one.
            self._log(
                {"op": "mkdir", "paths": list(placed.parents)},
                {"op": "tree", "paths": [destination for _, destination in placed.roots]},
                {"op": "create", "paths": [destination for _, destination in placed.files]},
            )
            place(placed)
            result = staged.installed()
            installed.append(result)
            if after_wheel is not None:
                after_wheel(position, result)
        return InstallOutcome(tuple(installed), tuple(removed))

    def roll_back(self) -> None:
        if self._journal is None:
            return
        self._journal.close()
        _undo(_read_journal(self.journal_path))
        shutil.rmtree(self.backup, ignore_errors=True)
        self.journal_path.unlink()

    def commit(self) -> None:
        if self._journal is None:
            return
        self._log({"op": "commit"})
        self._journal.close()
        _finish(_read_journal(self.journal_path), self.target)
        shutil.rmtree(self.backup, ignore_errors=True)
        self.journal_path.unlink()
