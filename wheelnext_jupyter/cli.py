"""Command line: `wheelnext-jupyter SUBCOMMAND …` (also `python -m wheelnext_jupyter`)."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement

from wheelnext_jupyter import __version__, collector
from wheelnext_jupyter.demo.command import add_demo_arguments, run_demo
from wheelnext_jupyter.detection import (
    Detection,
    detect,
    render_summary,
    summary_json,
    target_markers,
)
from wheelnext_jupyter.engine import (
    InstallRequest,
    PlanResult,
    Progress,
    RequestError,
    explain_package,
    install,
    plan,
)
from wheelnext_jupyter.index.config import IndexOptions
from wheelnext_jupyter.index.errors import IndexClientError
from wheelnext_jupyter.install.errors import TransactionError
from wheelnext_jupyter.install.externally_managed import ExternallyManagedEnvironment
from wheelnext_jupyter.install.target import TargetError, current_target, probe_target
from wheelnext_jupyter.install.wheelfile import WheelError
from wheelnext_jupyter.providers.overrides import OverrideError
from wheelnext_jupyter.providers.profile import (
    ProfileError,
    TargetProfile,
    save_profile,
    save_uv_lock,
)
from wheelnext_jupyter.providers.trust import TrustError
from wheelnext_jupyter.report import build_report, render_plan_text, render_selection_text
from wheelnext_jupyter.resolve.build import BuildError
from wheelnext_jupyter.resolve.installed import installed_distributions
from wheelnext_jupyter.resolve.resolver import ResolutionError
from wheelnext_jupyter.variants.metadata import VariantMetadataError, read_variant_metadata
from wheelnext_jupyter.variants.ordering import Preference, SelectionOptions, order_variants
from wheelnext_jupyter.variants.properties import InvalidVariantProperty
from wheelnext_jupyter.variants.support import resolve_support

#: Exit status for unusable input (bad files or arguments), as argparse uses for usage errors.
EXIT_USAGE = 2
#: What a shell reports for a command that Ctrl-C stopped (128 + SIGINT).
EXIT_INTERRUPTED = 130
#: What a shell reports for a command that writing to a closed pipe stopped (128 + SIGPIPE).
EXIT_BROKEN_PIPE = 141


def drop_output() -> None:
    """Send what is left of standard output nowhere: its reader has gone (`… | head`), and
    the interpreter's last flush would otherwise report the broken pipe with a traceback."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, sys.stdout.fileno())
        finally:
            os.close(devnull)
    except (OSError, ValueError):
        pass  # not a file descriptor (a caller's own stream): nothing is flushed at exit


class CommandError(Exception):
    """An error the user can fix; printed as one line, exit status 2."""


#: Errors whose message already says what is wrong and how to fix it: printed as they are.
#: Detection is lazy, so a bad override variable can surface while output is produced.
USER_ERRORS: tuple[type[Exception], ...] = (
    CommandError,
    ProfileError,
    OverrideError,
    RequestError,
    ResolutionError,
    IndexClientError,
    TargetError,
    TrustError,
    BuildError,
    WheelError,
    TransactionError,
    ExternallyManagedEnvironment,
)


def _label_option(text: str) -> str:
    # `--variant NAME=LABEL` is the install form; with a single variants file the name is implied.
    return text.split("=", 1)[1] if "=" in text else text


def _add_variant_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--enable-provider",
        action="append",
        default=[],
        metavar="NS",
        help="enable an optional provider's namespace",
    )
    parser.add_argument(
        "--exclude-variant",
        action="append",
        default=[],
        type=_label_option,
        metavar="LABEL",
        help="never choose this variant label",
    )
    parser.add_argument(
        "--variant",
        type=_label_option,
        metavar="LABEL",
        help="choose this variant label (only if the target supports it)",
    )
    parser.add_argument(
        "--prefer",
        action="append",
        default=[],
        metavar="NS[::FEATURE[::VALUE]]",
        help="move a namespace, feature or value first in the preference order",
    )


def _add_index_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("package indexes (highest priority first)")
    group.add_argument(
        "--index",
        action="append",
        default=[],
        metavar="[NAME=]URL",
        help="a package index (repeatable; earlier ones have priority)",
    )
    group.add_argument(
        "-i", "--index-url", metavar="URL", help="the default index (lowest priority)"
    )
    group.add_argument(
        "--extra-index-url",
        action="append",
        default=[],
        metavar="URL",
        help="another index (before --index-url, as uv orders them)",
    )
    group.add_argument(
        "-f",
        "--find-links",
        action="append",
        default=[],
        metavar="DIR|URL",
        help="a directory of wheels or a page of links",
    )
    group.add_argument("--no-index", action="store_true", help="use only --find-links sources")
    group.add_argument(
        "--index-strategy",
        choices=["first-index", "first-match", "best-match"],
        help="how indexes share a package (default first-index)",
    )
    group.add_argument(
        "--pin",
        action="append",
        default=[],
        metavar="NAME=INDEX",
        help="take NAME only from the index named INDEX",
    )
    group.add_argument(
        "--allow-index-fallthrough",
        action="store_true",
        default=None,
        help="go on to the next index when one fails (network, 5xx)",
    )
    group.add_argument(
        "--refresh", action="store_true", help="ignore cached index pages and detection"
    )


def _index_options(args: argparse.Namespace) -> IndexOptions:
    return IndexOptions(
        indexes=list(args.index),
        index_url=args.index_url,
        extra_index_urls=list(args.extra_index_url),
        find_links=list(args.find_links),
        no_index=args.no_index,
        strategy=args.index_strategy,
        pins=list(args.pin),
        allow_fallthrough=args.allow_index_fallthrough,
    )


def add_install_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `install` (the `%wninstall` magic accepts exactly these)."""
    parser.add_argument("requirements", nargs="*", metavar="REQ", help="requirement specifiers")
    add = parser.add_argument
    add(
        "-r",
        "--requirement",
        action="append",
        default=[],
        metavar="FILE",
        help="install from the given requirements file (repeatable), or exactly what a PEP 751 "
        "lock file (pylock.toml) lists",
    )
    add(
        "-c",
        "--constraint",
        action="append",
        default=[],
        metavar="FILE",
        help="constrain versions with the given constraints file (repeatable)",
    )
    add("-U", "--upgrade", action="store_true", help="upgrade the named packages to the newest")
    add("--force-reinstall", action="store_true", help="reinstall even what is up to date")
    add("--pre", action="store_true", help="include pre-release versions")
    add("--no-deps", action="store_true", help="do not install dependencies")
    add(
        "--require-hashes",
        action="store_true",
        help="install only files matching a --hash given in a requirements file, for every "
        "package (on as soon as any requirement has a --hash)",
    )
    add("--dry-run", action="store_true", help="show the plan, install nothing")
    add("--report", metavar="FILE", help="write the JSON report to FILE ('-' for stdout)")
    add("--python", metavar="PATH", help="install into the environment of this interpreter")
    add("--user", action="store_true", help="install into the interpreter's user site")
    add("--python-version", metavar="X.Y", help=argparse.SUPPRESS)
    _add_index_arguments(parser)
    variants = parser.add_argument_group("variants")
    variants.add_argument(
        "--profile", metavar="FILE", help="install for the machine this profile describes"
    )
    variants.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="NAME=LABEL",
        help="choose this variant of NAME (only if supported)",
    )
    variants.add_argument(
        "--exclude-variant",
        action="append",
        default=[],
        metavar="NAME=LABEL",
        help="never choose this variant of NAME",
    )
    variants.add_argument(
        "--prefer",
        action="append",
        default=[],
        metavar="NS[::FEATURE[::VALUE]]",
        help="move a namespace, feature or value first in the preference order",
    )
    variants.add_argument(
        "--no-variants", action="store_true", help="ignore variant wheels (plain wheels only)"
    )
    variants.add_argument(
        "--enable-provider",
        action="append",
        default=[],
        metavar="NS",
        help="enable an optional provider's namespace",
    )
    variants.add_argument(
        "--trust-provider",
        action="append",
        default=[],
        metavar="NAME==VERSION",
        help="allow this external provider plugin to run",
    )
    variants.add_argument(
        "--no-default-extras",
        action="store_true",
        help="do not install packages' default extras (PEP 771)",
    )
    add("--only-binary", action="store_true", help="never build from source distributions")
    add("--compile", action="store_true", help="compile installed Python files to bytecode")
    add(
        "--lock",
        metavar="FILE",
        help="write a PEP 751 lock file (pylock.toml) of what was installed",
    )
    add(
        "--installer",
        choices=("wheelnext", "uv"),
        default="wheelnext",
        help="who writes the verified files: the built-in installer (default) or uv",
    )
    add(
        "--break-system-packages",
        action="store_true",
        help="install into an externally managed (PEP 668) environment anyway",
    )


def request_from_args(args: argparse.Namespace) -> InstallRequest:
    return InstallRequest(
        requirements=list(args.requirements),
        requirement_files=list(args.requirement),
        constraint_files=list(args.constraint),
        index=_index_options(args),
        pre=args.pre,
        no_deps=args.no_deps,
        require_hashes=args.require_hashes,
        upgrade=args.upgrade,
        force_reinstall=args.force_reinstall,
        python=args.python,
        user=args.user,
        profile=args.profile,
        variants=list(args.variant),
        exclude_variants=list(args.exclude_variant),
        prefer=list(args.prefer),
        enable_providers=list(args.enable_provider),
        trust_providers=list(args.trust_provider),
        no_variants=args.no_variants,
        no_default_extras=args.no_default_extras,
        only_binary=args.only_binary,
        refresh=args.refresh,
        python_version=args.python_version,
    )


EXPLAIN_DESCRIPTION = "Show the per-variant verdicts for one package version, without installing."


def add_explain_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `explain` (the `%wnexplain` magic accepts exactly these)."""
    parser.add_argument(
        "package",
        nargs="?",
        metavar="NAME[==VER]",
        help="a package (newest matching version) to look up on the configured indexes",
    )
    parser.add_argument(
        "--variants-json",
        metavar="FILE",
        help="explain this {name}-{version}-variants.json (or a wheel's variant.json) instead",
    )
    parser.add_argument(
        "--profile",
        metavar="FILE",
        help="describe the target with this profile (JSON, or uv's TOML) instead of detecting it",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--pre", action="store_true", help="consider pre-release versions")
    parser.add_argument("--python", metavar="PATH", help="explain for this interpreter's tags")
    _add_index_arguments(parser)
    _add_variant_options(parser)


def explain_request_from_args(args: argparse.Namespace) -> InstallRequest:
    """The one-package request that `explain NAME[==VER]` looks up.

    `--variant` and `--exclude-variant` take bare labels here (one package is explained), so they
    are scoped to that package's name.
    """
    try:
        name = Requirement(args.package).name
    except InvalidRequirement as exc:
        raise CommandError(
            f"cannot explain {args.package!r}: {exc} (write NAME or NAME==VERSION)"
        ) from None
    return InstallRequest(
        requirements=[args.package],
        index=_index_options(args),
        pre=args.pre,
        python=args.python,
        profile=args.profile,
        variants=[f"{name}={args.variant}"] if args.variant else [],
        exclude_variants=[f"{name}={label}" for label in args.exclude_variant],
        prefer=list(args.prefer),
        enable_providers=list(args.enable_provider),
        refresh=args.refresh,
    )


def _add_list_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--python", metavar="PATH", help="list this interpreter's environment")
    parser.add_argument("--user", action="store_true", help="list the user site's only")
    parser.add_argument("--json", action="store_true", help="print JSON")


def _add_detect_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--json", action="store_true", help="print a target profile (JSON) with host facts"
    )
    parser.add_argument("--save-profile", metavar="FILE", help="write the target profile to FILE")
    parser.add_argument(
        "--uv-lock", metavar="FILE", help="write the result as uv's static variant file (TOML)"
    )
    parser.add_argument(
        "--profile", metavar="FILE", help="read this profile instead of detecting (to convert it)"
    )
    parser.add_argument(
        "--refresh", action="store_true", help="detect again instead of using cached results"
    )


#: Each command: its line in the command list, its description, and how its arguments are added.
_COMMANDS: dict[str, tuple[str, str, Callable[[argparse.ArgumentParser], None]]] = {
    "explain": (
        "show which variants of a package version fit the target, and why",
        EXPLAIN_DESCRIPTION,
        add_explain_arguments,
    ),
    "install": (
        "install packages, choosing the builds that fit the target's hardware",
        "Install packages, choosing the builds (wheel variants) that fit the target.",
        add_install_arguments,
    ),
    "demo": (
        "build and serve the demo index and open JupyterLab on the demo notebook",
        "Build a local demo index of variant wheels, serve it on 127.0.0.1 and open JupyterLab "
        "with the sidebar on the demo notebook.",
        add_demo_arguments,
    ),
    "list": (
        "list installed distributions with their variant label",
        "List the distributions installed in the target environment.",
        _add_list_arguments,
    ),
    "detect": (
        "show this machine's hardware and the variant properties it supports",
        "Detect the hardware and print the supported variant properties.",
        _add_detect_arguments,
    ),
}
COMMANDS = tuple(_COMMANDS)


def _terminal_columns() -> int:
    """The width help is wrapped to, as `shutil.get_terminal_size` finds it: `COLUMNS`, else
    the terminal standard output is, else 80."""
    try:
        columns = int(os.environ.get("COLUMNS", ""))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


class _HelpFormatter(argparse.HelpFormatter):
    """argparse's formatter, told its width: left to find it, argparse imports `shutil` (and with
    it `bz2` and `lzma`), milliseconds at every start, for a width only `--help` uses."""

    def __init__(
        self,
        prog: str,
        indent_increment: int = 2,
        max_help_position: int = 24,
        width: int | None = None,
        **options: Any,
    ) -> None:
        width = _terminal_columns() - 2 if width is None else width
        super().__init__(prog, indent_increment, max_help_position, width, **options)


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The command line's parser; with `only`, one that knows that command alone (the
    others' hundred-odd arguments take milliseconds to set up at every start)."""
    parser = argparse.ArgumentParser(
        prog="wheelnext-jupyter",
        description="Install the package builds that fit this machine's hardware.",
        formatter_class=_HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (summary, description, add_arguments) in _COMMANDS.items():
        if only in (None, name):
            add_arguments(
                commands.add_parser(
                    name, help=summary, description=description, formatter_class=_HelpFormatter
                )
            )
    return parser


def _target_environment(profile: TargetProfile | None) -> dict[str, str]:
    """Marker environment for `enable-if`: this interpreter's, overlaid by the profile's markers."""
    environment = target_markers()
    markers = profile.host.get("markers") if profile is not None else None
    if isinstance(markers, dict):
        environment.update({str(k): str(v) for k, v in markers.items()})
    return environment


def _read_variants_file(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise CommandError(f"cannot read variants file {path}: {exc.strerror}") from None


def _detection(args: argparse.Namespace) -> Detection:
    try:
        return detect(refresh=args.refresh, profile=args.profile)
    except (ProfileError, OverrideError) as exc:
        raise CommandError(str(exc)) from None


def _explain_package(args: argparse.Namespace) -> int:
    explanation = explain_package(explain_request_from_args(args))
    if args.json:
        doc = (
            explanation.selection.to_json()
            if explanation.selection
            else {"order": [], "variants": []}
        )
        doc.update(
            name=explanation.name,
            version=str(explanation.version),
            source=explanation.source,
            files=[f.to_json() for f in explanation.files],
            note=explanation.note,
        )
        print(json.dumps(doc, indent=2))
        return 0
    title = f"{explanation.name} {explanation.version} from {explanation.source}"
    if explanation.selection is not None:
        sys.stdout.write(render_selection_text(explanation.selection, title=title))
    else:
        print(f"{title}: {explanation.note}")
    print("\nFiles:")
    for verdict in explanation.files:
        print(f"  {verdict.verdict:<8} {verdict.filename}")
        for reason in verdict.reasons:
            print(f"           {reason}")
    return 0


def run_detect(args: argparse.Namespace) -> int:
    detection = _detection(args)
    try:
        if args.save_profile:
            save_profile(detection.to_profile(), args.save_profile)
        if args.uv_lock:
            save_uv_lock(detection.to_profile(), args.uv_lock)
    except OSError as exc:
        raise CommandError(f"cannot write {exc.filename}: {exc.strerror}") from None
    print(summary_json(detection) if args.json else render_summary(detection))
    return 0


def run_explain(args: argparse.Namespace) -> int:
    if (args.package is None) == (args.variants_json is None):
        raise CommandError("explain takes either NAME[==VERSION] or --variants-json FILE")
    if args.package is not None:
        return _explain_package(args)
    path = Path(args.variants_json)
    try:
        metadata = read_variant_metadata(_read_variants_file(path), source=str(path))
        prefer = tuple(Preference.parse(text) for text in args.prefer)
    except (VariantMetadataError, InvalidVariantProperty) as exc:
        raise CommandError(str(exc)) from None
    detection = _detection(args)
    target = args.profile or "this machine"
    supported = detection.supported_for(metadata.namespace_priorities)
    support = resolve_support(
        metadata,
        supported,
        environment=_target_environment(detection.profile),
        enabled_optional=args.enable_provider,
    )
    options = SelectionOptions(
        exclude=frozenset(args.exclude_variant), select=args.variant, prefer=prefer
    )
    selection = order_variants(metadata, support, options)
    if args.json:
        print(json.dumps(selection.to_json(), indent=2))
    else:
        schema = f"schema v{metadata.schema_version}" if metadata.schema_version else "no $schema"
        title = f"Variants in {path.name} ({schema}) for {target}"
        sys.stdout.write(render_selection_text(selection, title=title))
    return 0


def run_install(args: argparse.Namespace) -> int:
    request = request_from_args(args)
    # Wheels start downloading while the resolver is still at work, when an install follows.
    result = plan(
        request,
        prefetch=not args.dry_run,
        stage_ahead=not args.compile and args.installer != "uv",
        installer=args.installer,
    )
    try:
        return _report_and_install(args, result)
    finally:
        result.close()


def _report_and_install(args: argparse.Namespace, result: PlanResult) -> int:
    if args.report:
        text = json.dumps(build_report(result), indent=2)
        if args.report == "-":
            print(text)
        else:
            try:
                Path(args.report).write_text(text + "\n", encoding="utf-8")
            except OSError as exc:
                raise CommandError(f"cannot write report {args.report}: {exc.strerror}") from None
    if args.report != "-":
        sys.stdout.write(render_plan_text(result, dry_run=args.dry_run))
    if args.dry_run or not result.plan.to_install:
        if args.lock:
            from wheelnext_jupyter.install.pylock import lock_not_written

            print(f"note: {lock_not_written(dry_run=args.dry_run)}", file=sys.stderr)
        return 0
    done = install(
        result,
        progress=_print_progress,
        compile_bytecode=args.compile,
        break_system_packages=args.break_system_packages,
        installer=args.installer,
    )
    print(f"Installed {', '.join(done.installed)}")
    for warning in done.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if done.restart_required:
        print(f"Restart needed for: {', '.join(done.restart_required)}")
    if args.lock:
        from wheelnext_jupyter.install.pylock import LockWriteError, write_pylock

        try:
            written = write_pylock(done, args.lock)
        except LockWriteError as exc:
            raise CommandError(str(exc)) from None
        print(f"Locked {len(done.wheels)} package(s) in {written}")
    return 0


def run_list(args: argparse.Namespace) -> int:
    user = args.user
    target = probe_target(args.python, user=user) if args.python else current_target(user=user)
    # As pip lists: everything the interpreter would import (its user site included, a shadowed
    # copy left out), or with --user the user site's alone.
    where = (target.scheme.purelib, target.scheme.platlib) if user else target.site_dirs
    dists = sorted(installed_distributions(where).values(), key=lambda d: d.name)
    if args.json:
        rows = [
            {
                "name": d.name,
                "version": str(d.version),
                "variant": d.variant_label,
                "installer": d.installer,
            }
            for d in dists
        ]
        print(json.dumps(rows, indent=2))
        return 0
    table = [("Package", "Version", "Variant")] + [
        (d.name, str(d.version), d.variant_label or "") for d in dists
    ]
    widths = [max(len(row[i]) for row in table) for i in range(3)]
    for index, row in enumerate(table):
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )
        if index == 0:
            print("  ".join("-" * width for width in widths))
    return 0


def _print_progress(event: Progress) -> None:
    if event.phase == "download" and event.file_finished and event.filename:
        how = "cached" if event.cached else "fetched"
        print(f"  {how} {event.filename} ({event.files_done}/{event.files_total})", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    # A command named first needs only its own parser; anything else (help, a mistake) gets
    # the whole one, which lists every command.
    parser = build_parser(words[0] if words and words[0] in COMMANDS else None)
    args = parser.parse_args(words)
    handlers = {
        "explain": run_explain,
        "detect": run_detect,
        "install": run_install,
        "list": run_list,
        "demo": run_demo,
    }
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    # A command is short-lived: its allocations are freed by reference counting, and the
    # cycle collector would only walk them again and again. The demo serves for hours, so it
    # keeps it.
    with contextlib.nullcontext() if args.command == "demo" else collector.paused():
        try:
            return handlers[args.command](args)
        except USER_ERRORS as exc:
            print(f"wheelnext-jupyter: error: {exc}", file=sys.stderr)
            return EXIT_USAGE
        except KeyboardInterrupt as exc:
            # One from an install says whether anything was installed.
            print(f"wheelnext-jupyter: {str(exc) or 'interrupted'}", file=sys.stderr)
            return EXIT_INTERRUPTED
        except BrokenPipeError:
            # The reader of the output has gone: stop quietly, as a program that the pipe's
            # signal ends. An install stopped this way was all or nothing.
            drop_output()
            return EXIT_BROKEN_PIPE
