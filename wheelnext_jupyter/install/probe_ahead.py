"""Describing a `--python` target starts before the command has imported the engine.

`probe_target` runs the target interpreter once (`_probe.py`, JSON out): its start-up and
imports take a tenth of a second or more, while the command's own imports take a quarter of one.
Started from the entry point, ahead of those imports, the probe runs on another core meanwhile,
and `probe_target` takes over the running process instead of starting its own. Only the
standard library and `packaging`'s location are needed here, so importing this module is cheap.
"""

from __future__ import annotations

import atexit
import os
import subprocess
import sys
import threading

_started: dict[str, subprocess.Popen[str]] = {}
_lock = threading.Lock()


def runs_this_binary(python: str | os.PathLike[str]) -> bool:
    """Whether `python` is this interpreter's own executable file (a virtual environment's
    link to it included): its tags are then this interpreter's."""
    # os.path, not pathlib: this runs before the engine's imports, and pathlib takes milliseconds.
    ours = {getattr(sys, "_base_executable", ""), sys.executable} - {""}
    return os.path.realpath(python) in {os.path.realpath(path) for path in ours}


def probe_command(python: str | os.PathLike[str], *, tags: bool = True) -> list[str]:
    """How the target describes itself; our `packaging` goes last on its path, so a target
    with its own keeps using it. Without `tags`, packaging is not needed at all."""
    probe = os.path.join(os.path.dirname(os.path.realpath(__file__)), "_probe.py")  # noqa: PTH118, PTH120
    if not tags:
        return [os.fspath(python), "-E", probe, "--no-tags"]
    import packaging

    ours = os.path.dirname(os.path.dirname(os.path.realpath(packaging.__file__)))  # noqa: PTH120
    return [os.fspath(python), "-E", probe, ours]


def run_probe(python: str | os.PathLike[str], *, tags: bool = True) -> subprocess.Popen[str]:
    """Start the probe (raises `OSError` when the interpreter cannot be run)."""
    return subprocess.Popen(
        probe_command(python, tags=tags),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def start(python: str | os.PathLike[str]) -> None:
    """Start describing `python` now; an interpreter that cannot be run is left for
    `probe_target` to report."""
    key = os.fspath(python)
    with _lock:
        if key in _started:
            return
        try:
            _started[key] = run_probe(key, tags=not runs_this_binary(key))
        except OSError:
            return
        if len(_started) == 1:
            atexit.register(_reap)


def take(python: str | os.PathLike[str]) -> subprocess.Popen[str] | None:
    """The probe started for `python`, now the caller's to wait for; None if none was."""
    with _lock:
        return _started.pop(os.fspath(python), None)


def _reap() -> None:
    # A command that ended before it needed the target (a usage error) leaves no process behind.
    with _lock:
        left = list(_started.values())
        _started.clear()
    for process in left:
        process.kill()
        process.communicate()


__all__ = ["probe_command", "run_probe", "runs_this_binary", "start", "take"]
