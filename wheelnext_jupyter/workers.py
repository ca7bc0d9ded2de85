"""The engine's threads, which leave Ctrl-C to the main thread.

The system gives a signal sent to the process to any one of its threads that does not block it,
and Python runs the handler in the main thread only, when that thread next runs Python code.
Taken by a worker, Ctrl-C reached an install's main thread late (once what it waited for had
finished) and sometimes not at all: the install went on to its end. Threads started here begin
with SIGINT blocked (a thread inherits the mask of the thread that starts it), so the system
gives SIGINT to the main thread, whose wait it ends at once with `KeyboardInterrupt`.

`uninterrupted` holds Ctrl-C off a step that must not stop half way (the commit of an install).
"""

from __future__ import annotations

import contextlib
import signal
import threading
from concurrent.futures import ThreadPoolExecutor

TYPE_CHECKING = False  # mypy treats this name as true; `typing` stays off the import path
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from concurrent.futures import Future
    from types import TracebackType
    from typing import Any, TypeVar

    T = TypeVar("T")

_INTERRUPT = {signal.SIGINT}
#: Signal masks are per thread on POSIX; elsewhere there is nothing to block.
_MASKS = hasattr(signal, "pthread_sigmask")


def _mask() -> set[int | signal.Signals]:
    # Read before blocking, and the blocking done inside the `try`: an interrupt raised as the
    # block call returns (for a signal that came just before) must not leave SIGINT blocked.
    return signal.pthread_sigmask(signal.SIG_BLOCK, ())


@contextlib.contextmanager
def interrupts_blocked() -> Iterator[None]:
    """SIGINT blocked in this thread meanwhile (so in the threads it starts meanwhile, for
    good), then as before; one that arrived meanwhile is delivered then."""
    if not _MASKS:
        yield
        return
    previous = _mask()
    try:
        signal.pthread_sigmask(signal.SIG_BLOCK, _INTERRUPT)
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


class WorkerPool(ThreadPoolExecutor):
    """A `ThreadPoolExecutor` whose threads never take SIGINT (they start within `submit`)."""

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        with interrupts_blocked():
            return super().submit(fn, *args, **kwargs)


class RequestPool(WorkerPool):
    """A `WorkerPool` for network requests. Left by an exception (Ctrl-C among them) it does
    not wait for the requests under way, which could take a timeout and its retries to end:
    they finish on their own, and write nothing but caches."""

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool | None:
        if exc_type is not None:
            self.shutdown(wait=False, cancel_futures=True)
            return None
        return super().__exit__(exc_type, exc, traceback)


def start_thread(thread: threading.Thread) -> None:
    """`thread.start()`, the thread never taking SIGINT."""
    with interrupts_blocked():
        thread.start()


@contextlib.contextmanager
def uninterrupted() -> Iterator[None]:
    """Ctrl-C waits until this step is over and is then dropped: once the step has begun it is
    finished, and stopping afterwards would only report as stopped what was done. Only the main
    thread takes SIGINT (see above), so elsewhere this changes nothing."""
    if not _MASKS or threading.current_thread() is not threading.main_thread():
        yield
        return
    # Within a block that holds SIGINT already, a pending one is that block's to deliver.
    held_already = signal.SIGINT in _mask()
    with interrupts_blocked():
        try:
            yield
        finally:
            # A SIGINT that arrived meanwhile is pending, blocked in every thread: taken here
            # (at once, as it is pending), it is never delivered.
            if not held_already and signal.SIGINT in signal.sigpending():
                signal.sigwait(_INTERRUPT)


__all__ = ["RequestPool", "WorkerPool", "interrupts_blocked", "start_thread", "uninterrupted"]
