"""`%wninstall`, `%wndetect` and `%wnexplain`: the engine in a notebook cell.

`%wninstall` takes exactly the arguments of `wheelnext-jupyter install` (its parser is built by
`cli.add_install_arguments`), plus `--ui` for the widget panel. It installs into the kernel's own
interpreter unless `--python` says otherwise, reuses the kernel's detection and index caches, shows
live progress in one output, ends with a report, and raises `WninstallError` on failure so that
"Run all" stops.

Only IPython is imported at module level: `import wheelnext_jupyter` registers these magics in a
running kernel, and the engine is loaded on first use.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shlex
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell

    from wheelnext_jupyter.display import InstallReport


class WninstallError(Exception):
    """A magic failed for a reason the user can fix; the message says what and how.

    IPython shows `_render_traceback_` instead of the frames: one line, not forty.
    """

    def _render_traceback_(self) -> list[str]:
        return [
            f"{type(self).__name__}: {line}" if i == 0 else line
            for i, line in enumerate(str(self).splitlines() or [""])
        ]


class _Exit(Exception):
    """argparse wanted to exit (after `--help`)."""


class _MagicParser(argparse.ArgumentParser):
    """argparse that raises instead of exiting the kernel."""

    def error(self, message: str) -> NoReturn:
        raise WninstallError(f"{message}\n{self.format_usage().strip()}")

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        if message:
            print(message, file=sys.stderr)
        raise _Exit(status)


def install_parser() -> argparse.ArgumentParser:
    """`wheelnext-jupyter install`'s arguments, plus the magic-only `--ui`."""
    from wheelnext_jupyter.cli import add_install_arguments

    parser = _MagicParser(
        prog="%wninstall",
        description=(
            "Install packages into this kernel's environment, choosing the builds (wheel "
            "variants) that fit its hardware. Same arguments as `wheelnext-jupyter install`."
        ),
    )
    add_install_arguments(parser)
    parser.add_argument(
        "--ui", action="store_true", help="open the install panel (ipywidgets) instead"
    )
    return parser


def detect_parser() -> argparse.ArgumentParser:
    parser = _MagicParser(
        prog="%wndetect",
        description="Show this kernel's hardware and the variant properties it supports.",
    )
    parser.add_argument(
        "--profile", metavar="FILE", help="show this target profile instead of detecting"
    )
    parser.add_argument(
        "--refresh", action="store_true", help="detect again instead of using cached results"
    )
    return parser


def explain_parser() -> argparse.ArgumentParser:
    """`wheelnext-jupyter explain`'s arguments (built by `cli.add_explain_arguments`)."""
    from wheelnext_jupyter.cli import EXPLAIN_DESCRIPTION, add_explain_arguments

    parser = _MagicParser(prog="%wnexplain", description=EXPLAIN_DESCRIPTION)
    add_explain_arguments(parser)
    return parser


def _parse(parser: argparse.ArgumentParser, line: str) -> argparse.Namespace | None:
    try:
        words = shlex.split(line)
    except ValueError as exc:
        raise WninstallError(f"cannot split the arguments: {exc} (check the quotes)") from None
    try:
        return parser.parse_args(words)
    except _Exit as done:
        if done.args and done.args[0]:
            raise WninstallError("invalid arguments") from None
        return None


def _user_errors() -> tuple[type[Exception], ...]:
    from wheelnext_jupyter.cli import USER_ERRORS

    return USER_ERRORS


# -- the magics ----------------------------------------------------------------------------------


def wninstall(line: str) -> InstallReport | object | None:
    args = _parse(install_parser(), line)
    if args is None:
        return None
    from wheelnext_jupyter.cli import request_from_args

    if args.ui:
        from wheelnext_jupyter.widgets import WheelnextPanel

        return WheelnextPanel(request_from_args(args))
    try:
        shown = run_install(args)
    except _user_errors() as exc:
        raise WninstallError(str(exc)) from None
    if not args.dry_run:
        # The sidebar's History and its restart notice come from this record.
        from wheelnext_jupyter.comm import record_install

        record_install(shown.report, command=f"%wninstall {line.strip()}")
    return shown


def run_install(args: argparse.Namespace) -> InstallReport:
    """Plan, show progress, install and report; engine errors propagate as they are."""
    from wheelnext_jupyter.cli import request_from_args
    from wheelnext_jupyter.display import InstallReport, ProgressView
    from wheelnext_jupyter.engine import install, plan
    from wheelnext_jupyter.report import build_report

    progress = ProgressView()
    result = None
    try:
        progress.phase("Resolving " + " ".join(args.requirements or ["requirements"]))
        result = plan(
            request_from_args(args),
            prefetch=not args.dry_run,
            stage_ahead=not args.compile and args.installer != "uv",
            installer=args.installer,
        )
        count = len(result.plan.to_install)
        if args.report:
            _write_report(args.report, build_report(result))
        if args.dry_run or not count:
            result.close()
            summary = f"Resolved: {count} package{'s' if count != 1 else ''} to install"
            if args.lock:
                from wheelnext_jupyter.install.pylock import lock_not_written

                # On the line that stays in view, not in the log behind "details".
                summary += f"; {lock_not_written(dry_run=args.dry_run)}"
            progress.finish(summary)
            return InstallReport(build_report(result), dry_run=True, log=progress.log)
        done = install(
            result,
            progress=progress,
            compile_bytecode=args.compile,
            break_system_packages=args.break_system_packages,
            installer=args.installer,
        )
        if args.lock:
            from wheelnext_jupyter.install.pylock import write_pylock

            progress.lines.append(f"locked in {write_pylock(done, args.lock)}")
    except BaseException as exc:
        if result is not None:
            result.close()
        if isinstance(exc, KeyboardInterrupt):
            progress.fail(str(exc) or "interrupted")
        else:
            progress.fail(str(exc) if isinstance(exc, _user_errors()) else type(exc).__name__)
        raise
    for warning in done.warnings:
        progress.lines.append(f"warning: {warning}")
    progress.finish(f"Installed {', '.join(done.installed)}")
    report = build_report(result, restart_required=done.restart_required)
    if args.report and args.report != "-":
        _write_report(args.report, report)
    shown = InstallReport(report, log=progress.log)
    if done.restart_required:
        _offer_restart(list(done.restart_required))
    return shown


def _write_report(path: str, report: dict[str, Any]) -> None:
    text = json.dumps(report, indent=2)
    if path == "-":
        print(text)
        return
    try:
        Path(path).write_text(text + "\n", encoding="utf-8")
    except OSError as exc:
        raise WninstallError(f"cannot write report {path}: {exc.strerror}") from None


def _offer_restart(packages: list[str]) -> None:
    """A restart button (widgets), and Colab's own restart prompt on Colab."""
    from wheelnext_jupyter.display import show
    from wheelnext_jupyter.hosting_ui import pip_warning_bundle, should_emit_pip_warning
    from wheelnext_jupyter.widgets import restart_button

    button = restart_button(packages)
    if button is not None:
        show(button)
    if should_emit_pip_warning(packages):
        show(pip_warning_bundle(packages), raw=True)


def wndetect(line: str) -> object | None:
    args = _parse(detect_parser(), line)
    if args is None:
        return None
    from wheelnext_jupyter.detection import detect
    from wheelnext_jupyter.display import DetectionView

    try:
        detection = detect(refresh=args.refresh, profile=args.profile)
        view = DetectionView(detection)
        view.document()  # detect now, so that a failure raises here, not while displaying
    except _user_errors() as exc:
        raise WninstallError(str(exc)) from None
    return view


def wnexplain(line: str) -> object | None:
    args = _parse(explain_parser(), line)
    if args is None:
        return None
    from wheelnext_jupyter import cli

    try:
        if args.package is None or args.json or args.variants_json is not None:
            # The command line's own output (JSON, or the variants-file form).
            cli.run_explain(args)
            return None
        return _explanation(args)
    except _user_errors() as exc:
        raise WninstallError(str(exc)) from None


def _explanation(args: argparse.Namespace) -> object:
    from wheelnext_jupyter.cli import explain_request_from_args
    from wheelnext_jupyter.display import ExplanationView
    from wheelnext_jupyter.engine import explain_package
    from wheelnext_jupyter.report import render_selection_text

    explanation = explain_package(explain_request_from_args(args))
    doc: dict[str, Any] = (
        explanation.selection.to_json() if explanation.selection else {"order": [], "variants": []}
    )
    doc.update(
        name=explanation.name,
        version=str(explanation.version),
        source=explanation.source,
        files=[f.to_json() for f in explanation.files],
        note=explanation.note,
    )
    title = f"{explanation.name} {explanation.version} from {explanation.source}"
    if explanation.selection is not None:
        text = render_selection_text(explanation.selection, title=title)
    else:
        text = f"{title}: {explanation.note}\n"
    return ExplanationView(doc, text)


# -- registration --------------------------------------------------------------------------------


class LineMagic:
    """A line magic whose `?` help is its parser's, built only when asked for."""

    #: Package specifiers (`pkg[extra]>=1`, `{…}` in URLs) are passed through as typed.
    _ipython_magic_no_var_expand = True

    def __init__(
        self,
        name: str,
        func: Callable[[str], object],
        parser: Callable[[], argparse.ArgumentParser],
    ) -> None:
        self.__name__ = name
        self._func = func
        self._parser = parser

    def __call__(self, line: str) -> object:
        try:
            return self._func(line)
        except WninstallError:
            raise
        except (Exception, KeyboardInterrupt) as exc:
            _shown_without_the_cell(exc)
            raise

    def getdoc(self) -> str:
        """IPython's `%name?` calls this."""
        return self._parser().format_help()


def _shown_without_the_cell(exc: BaseException) -> None:
    """Make IPython show `exc` without the cell's line, whose index URL may hold a password:
    Ctrl-C as one line, anything else as the frames from the magic on, credentials redacted."""
    from traceback import format_exception

    from wheelnext_jupyter.index.redact import redact_text

    if isinstance(exc, KeyboardInterrupt):
        lines = [f"KeyboardInterrupt: {exc}" if str(exc) else "KeyboardInterrupt"]
    else:
        lines = redact_text("".join(format_exception(exc))).rstrip("\n").splitlines()
        # The kernel reports the message on its own too.
        exc.args = tuple(redact_text(a) if isinstance(a, str) else a for a in exc.args)
    with contextlib.suppress(AttributeError):  # an exception type without instance attributes
        exc._render_traceback_ = lambda: lines  # type: ignore[attr-defined]


MAGICS: dict[str, LineMagic] = {
    "wninstall": LineMagic("wninstall", wninstall, install_parser),
    "wndetect": LineMagic("wndetect", wndetect, detect_parser),
    "wnexplain": LineMagic("wnexplain", wnexplain, explain_parser),
}


def register(shell: InteractiveShell) -> None:
    for name, magic in MAGICS.items():
        shell.magics_manager.register_function(magic, magic_kind="line", magic_name=name)


def unregister(shell: InteractiveShell) -> None:
    line_magics = shell.magics_manager.magics["line"]
    for name in MAGICS:
        if line_magics.get(name) is MAGICS[name]:
            del line_magics[name]
