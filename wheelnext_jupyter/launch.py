"""The `wheelnext-jupyter` command's entry point.

Before importing the command line (and with it the engine, a tenth of a second or more), it
starts what needs no import: describing the `--python` target, which runs that interpreter
once, or else loading the trust store https requests will use. The imports then run without the
cycle collector. As a process's entry point it also ends the
process without tearing the interpreter down (see `_end`).
"""

from __future__ import annotations

import atexit
import gc
import os
import sys

# `typing` (with `re` and more) would take milliseconds before the probe starts; the engine's
# imports bring it afterwards.
TYPE_CHECKING = False  # mypy treats this name as true
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import NoReturn


def _option(args: Sequence[str], name: str) -> str | None:
    for position, arg in enumerate(args):
        if arg == "--":
            return None
        if arg == name and position + 1 < len(args):
            return args[position + 1]
        if arg.startswith(name + "="):
            return arg[len(name) + 1 :]
    return None


def _fetches_over_https(args: Sequence[str]) -> bool:
    """Whether the command will likely ask an index over https: an install, or an explanation
    of a package, naming an https URL or leaving the default index in place (most often PyPI's
    https). A wrong guess costs a trust store loaded for nothing, or loaded at the first
    request as without this."""
    if not args or args[0] not in ("install", "explain"):
        return False
    if args[0] == "explain" and _option(args, "--variants-json") is not None:
        return False
    if any("https://" in arg for arg in args):
        return True
    replaced = _option(args, "--index-url") or _option(args, "-i") or "--no-index" in args
    return not replaced


def _end(code: int) -> NoReturn:
    """Exit with `code` now that the command is over: exit handlers run and the standard
    streams are flushed, but the interpreter is not torn down. Freeing every module and object
    one by one takes a tenth of a second after an install, and the system frees it all at once.
    Every thread the command started has finished by now (installs wait for their downloads
    and unpacking; the pools left are idle)."""
    atexit._run_exitfuncs()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:
        # The reader went before the last of the output: quietly, as within the command.
        from wheelnext_jupyter.cli import EXIT_BROKEN_PIPE, drop_output

        drop_output()
        os._exit(EXIT_BROKEN_PIPE)
    except (OSError, ValueError):
        # A closed or broken stream: the interpreter's own exit reports it as usual.
        sys.exit(code)
    os._exit(code)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line on `argv`; given none, on the process's arguments, and then end
    the process when the command is done."""
    args = list(sys.argv[1:] if argv is None else argv)
    python = _option(args, "--python")
    if python:
        from wheelnext_jupyter.install import probe_ahead

        probe_ahead.start(python)
    elif _fetches_over_https(args):
        # On the core the probe would use: with a probe running it only delays the probe,
        # which the plan waits for (measured: no earlier first request).
        from wheelnext_jupyter import trust_store

        trust_store.load_ahead()
    # The regular expressions the imports compile, as the last run left them (the process's
    # entry point only: a caller's own patterns are not ours to keep).
    from wheelnext_jupyter import pattern_cache

    restored = pattern_cache.restore() if argv is None else None
    # Imports only create objects that live as long as the process: nothing for the cycle
    # collector to find. Without it they import faster, and frozen afterwards they are never
    # walked again (the next collection would otherwise go through all of them).
    collecting = gc.isenabled()
    gc.disable()
    try:
        from wheelnext_jupyter.cli import main as run
    finally:
        gc.freeze()
        if collecting:
            gc.enable()
    imported = pattern_cache.compiled() if restored is not None else []
    code = run(args)
    if argv is None:
        # Once per interpreter and release, after the command's work: what the imports compiled
        # that the file lacked (a first run, a new version of a dependency) is written down.
        if not restored or not restored.issuperset(imported):
            pattern_cache.save(imported)
        _end(code)
    return code


__all__ = ["main"]
