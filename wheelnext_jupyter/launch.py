"""The `wheelnext-jupyter` command's entry point.

Before importing the command line (and with it the engine, a quarter of a second), it starts
what needs no import: describing the `--python` target, which runs that interpreter once.
The imports then run without the cycle collector.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Sequence


def _option(args: Sequence[str], name: str) -> str | None:
    for position, arg in enumerate(args):
        if arg == "--":
            return None
        if arg == name and position + 1 < len(args):
            return args[position + 1]
        if arg.startswith(name + "="):
            return arg[len(name) + 1 :]
    return None


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    python = _option(args, "--python")
    if python:
        from wheelnext_jupyter.install import probe_ahead

        probe_ahead.start(python)
    # Imports only create objects that live as long as the process: nothing for the cycle
    # collector to find, and it would walk them again and again.
    collecting = gc.isenabled()
    gc.disable()
    try:
        from wheelnext_jupyter.cli import main as run
    finally:
        if collecting:
            gc.enable()
    return run(args)


__all__ = ["main"]
