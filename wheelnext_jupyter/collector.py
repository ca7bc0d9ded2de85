"""Pause Python's cycle collector while the engine resolves and installs.

A plan and an install allocate hundreds of thousands of objects (index pages, metadata, wheel
members) that reference counting frees. With the collector on, those allocations set off dozens
of collections, the full ones walking every object in the process: in a kernel, an install of
29 wheels ran about 75 collections that took 40 to 130 ms in all. Cycles made meanwhile are
collected once the pause ends.

Pauses nest and may overlap across threads (the sidebar installs from the comm's thread while a
magic runs): the collector is switched off by the first and on again by the last, and only if
it was on before the first.
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Iterator

_lock = threading.Lock()
_depth = 0
_resume = False


@contextlib.contextmanager
def paused() -> Iterator[None]:
    global _depth, _resume
    with _lock:
        if _depth == 0:
            _resume = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _resume:
                gc.enable()
