"""`FileLock`: an exclusive lock between processes, held on a file.

Installs into one environment take turns, a staging directory is marked alive by its owner's
lock, and two installs fetching the same file, or making the same plugin environment, wait for
each other. The lock is the operating system's advisory lock on an open file (`flock` on POSIX,
`msvcrt.locking` on Windows): released when its holder closes the file or dies, so a crashed
install never leaves a stale lock behind. Separate `FileLock` objects exclude each other in one
process too (each opens the file itself), which makes threads take turns as well.

The lock file stays where it is after `release()`: removing it while another process waits on it
would let that process lock a file nobody else can open any more. A holder may still remove it
(a dead staging directory's owner file is removed with the directory); a waiter that then gets
the lock notices that its file is no longer the one at the path and starts over.

Standard library only, and cheap to import: the installer's start-up path imports it.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from types import TracebackType

#: How often a lock held elsewhere is tried again while waiting with a timeout.
POLL_SECONDS = 0.05

if sys.platform == "win32":
    import msvcrt

    def _try_lock(fd: int) -> bool:
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _wait_lock(fd: int) -> None:
        while not _try_lock(fd):
            time.sleep(POLL_SECONDS)

    def _unlock(fd: int) -> None:
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _wait_lock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_EX)  # waits without holding the GIL

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


class LockTimeout(TimeoutError):
    """The lock was held elsewhere for longer than the timeout allowed."""

    def __init__(self, path: str, timeout: float) -> None:
        waited = "at once" if timeout == 0 else f"within {timeout:g} s"
        super().__init__(f"the lock {path} is held by another process and was not free {waited}")
        self.path = path
        self.timeout = timeout


class FileLock:
    """An exclusive lock on the file at `path` (created if missing; its directory must exist).

    `timeout` is how long `acquire()` waits for a holder elsewhere: 0 to try once, a negative
    number to wait as long as it takes. Usable as a context manager."""

    def __init__(self, path: str | os.PathLike[str], timeout: float = -1) -> None:
        self.path = os.fspath(path)
        self.timeout = timeout
        self._fd: int | None = None

    @property
    def is_locked(self) -> bool:
        return self._fd is not None

    def acquire(self) -> None:
        """Take the lock; raises `LockTimeout` when it stays held elsewhere past the timeout,
        `FileNotFoundError` when the lock file's directory does not exist, and `RuntimeError`
        when this object holds it already."""
        if self._fd is not None:
            raise RuntimeError(f"the lock {self.path} is held by this object already")
        deadline = None if self.timeout < 0 else time.monotonic() + self.timeout
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                locked = self._lock(fd, deadline)
            except BaseException:
                os.close(fd)
                raise
            if locked and self._still_at_path(fd):
                self._fd = fd
                return
            if locked:
                _unlock(fd)
            os.close(fd)
            if not locked:
                raise LockTimeout(self.path, self.timeout)
            # The holder removed (or replaced) the file while this one waited: lock the new one.

    def release(self) -> None:
        """Give the lock up (nothing happens when it is not held)."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            _unlock(fd)
        finally:
            os.close(fd)

    def __enter__(self) -> FileLock:
        self.acquire()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()

    def _lock(self, fd: int, deadline: float | None) -> bool:
        if _try_lock(fd):
            return True
        if deadline is None:
            _wait_lock(fd)
            return True
        while time.monotonic() < deadline:
            time.sleep(min(POLL_SECONDS, max(0.0, deadline - time.monotonic())))
            if _try_lock(fd):
                return True
        return False

    def _still_at_path(self, fd: int) -> bool:
        try:
            at_path = Path(self.path).stat()
        except FileNotFoundError:
            return False
        held = os.fstat(fd)
        return (held.st_dev, held.st_ino) == (at_path.st_dev, at_path.st_ino)


__all__ = ["POLL_SECONDS", "FileLock", "LockTimeout"]
