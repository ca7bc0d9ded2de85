"""Pause Python's cycle collector while the engine resolves and installs.

A plan and an install allocate hundreds of thousands of objects (index pages, metadata, wheel
members) that reference counting frees. With the collector on, their allocations trigger
collections that walk the whole process's heap; in a kernel, where IPython's objects make that
heap large, an install of thirty wheels spent a tenth of a second collecting. Cycles made
meanwhile are collected once the pause ends.

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
