"""The lock that serialises installs, staging owners and shared downloads between processes."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from wheelnext_jupyter.file_lock import FileLock, LockTimeout

REPO = Path(__file__).resolve().parents[1]

HOLDER = """
import os, sys
from wheelnext_jupyter.file_lock import FileLock
lock = FileLock(sys.argv[1])
lock.acquire()
print("held", flush=True)
if sys.stdin.readline().strip() == "unlink":
    os.unlink(sys.argv[1])
lock.release()
print("released", flush=True)
sys.stdin.readline()
"""


class Holder:
    """Another process holding the lock until told to let go."""

    def __init__(self, path: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", HOLDER, str(path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=REPO,
        )
        assert self.process.stdout is not None
        assert self.process.stdout.readline().strip() == "held"

    def release(self, *, unlink: bool = False) -> None:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write("unlink\n" if unlink else "keep\n")
        self.process.stdin.flush()
        assert self.process.stdout.readline().strip() == "released"

    def stop(self) -> None:
        self.process.kill()
        self.process.communicate()


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "install.lock"


@pytest.fixture
def holder(path: Path) -> Iterator[Holder]:
    running = Holder(path)
    yield running
    running.stop()


def test_a_lock_held_by_another_process_is_refused_at_once_with_timeout_zero(
    path: Path, holder: Holder
) -> None:
    with pytest.raises(LockTimeout, match=r"install\.lock is held by another process"):
        FileLock(path, timeout=0).acquire()


def test_a_timeout_gives_up_when_the_holder_keeps_the_lock(path: Path, holder: Holder) -> None:
    with pytest.raises(LockTimeout, match=r"was not free within 0\.2 s") as caught:
        FileLock(path, timeout=0.2).acquire()
    assert caught.value.path == str(path)


def test_a_waiting_lock_is_taken_once_the_holder_releases_it(path: Path, holder: Holder) -> None:
    lock = FileLock(path)
    taken = threading.Event()
    waiter = threading.Thread(target=lambda: (lock.acquire(), taken.set()))
    waiter.start()
    assert not taken.wait(0.2)
    holder.release()
    waiter.join(timeout=10)
    assert taken.is_set() and lock.is_locked
    lock.release()


def test_a_holder_that_dies_leaves_no_stale_lock(path: Path, holder: Holder) -> None:
    holder.process.send_signal(signal.SIGKILL)
    holder.process.wait()
    with FileLock(path, timeout=0) as lock:
        assert lock.is_locked


def test_two_locks_in_one_process_exclude_each_other(path: Path) -> None:
    with FileLock(path, timeout=0), pytest.raises(LockTimeout):
        FileLock(path, timeout=0).acquire()


def test_a_released_lock_can_be_taken_again_and_its_file_stays(path: Path) -> None:
    lock = FileLock(path, timeout=0)
    lock.acquire()
    lock.release()
    lock.release()  # releasing what is not held does nothing
    assert path.exists()
    with FileLock(path, timeout=0):
        pass


def test_taking_a_lock_this_object_holds_is_an_error(path: Path) -> None:
    with FileLock(path) as lock, pytest.raises(RuntimeError, match="held by this object"):
        lock.acquire()


def test_a_missing_directory_is_reported_as_missing(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        FileLock(tmp_path / "gone" / "owner.lock", timeout=0).acquire()


def test_a_waiter_whose_file_the_holder_removed_locks_the_file_at_the_path(
    path: Path, holder: Holder
) -> None:
    lock = FileLock(path)
    waiter = threading.Thread(target=lock.acquire)
    waiter.start()
    waiter.join(timeout=0.2)
    assert waiter.is_alive()  # waiting on the file the holder is about to remove
    holder.release(unlink=True)
    waiter.join(timeout=10)
    assert lock.is_locked
    # A newcomer opens the file now at the path: the waiter must hold that one, not the
    # removed file nobody else can reach.
    with pytest.raises(LockTimeout):
        FileLock(path, timeout=0).acquire()
    lock.release()


def test_the_lock_module_imports_nothing_beyond_the_standard_library() -> None:
    code = (
        "import sys; before = set(sys.modules)\n"
        "import wheelnext_jupyter.file_lock\n"
        "new = set(sys.modules) - before\n"
        "print(sorted(m for m in new if not m.startswith(('wheelnext_jupyter', '_')) "
        "and m.split('.')[0] not in sys.stdlib_module_names))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    )
    assert done.stdout.strip() == "[]"
