"""Command line: `wheelnext-jupyter SUBCOMMAND …` (also `python -m wheelnext_jupyter`)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from wheelnext_jupyter.detection import (
    Detection,
    detect,
    render_summary,
    summary_json,
    target_markers,
)
from wheelnext_jupyter.providers.overrides import OverrideError
from wheelnext_jupyter.providers.profile import (
    ProfileError,
    TargetProfile,
    save_profile,
    save_uv_lock,
)
from wheelnext_jupyter.report import render_selection_text
from wheelnext_jupyter.variants.metadata import VariantMetadataError, read_variant_metadata
from wheelnext_jupyter.variants.ordering import Preference, SelectionOptions, order_variants
from wheelnext_jupyter.variants.properties import InvalidVariantProperty
from wheelnext_jupyter.variants.support import resolve_support

#: Exit status for unusable input (bad files or arguments), as argparse uses for usage errors.
EXIT_USAGE = 2


class CommandError(Exception):
    """An error the user can fix; printed as one line, exit status 2."""


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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wheelnext-jupyter",
        description="Install the package builds that fit this machine's hardware.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    explain = commands.add_parser(
        "explain",
        help="show which variants of a package version fit the target, and why",
        description="Show the per-variant verdicts for one package version, without installing.",
    )
    explain.add_argument(
        "--variants-json",
        required=True,
        metavar="FILE",
        help="the version's {name}-{version}-variants.json (or a wheel's variant.json)",
    )
    explain.add_argument(
        "--profile",
        metavar="FILE",
        help="describe the target with this profile (JSON, or uv's TOML) instead of detecting it",
    )
    explain.add_argument(
        "--refresh", action="store_true", help="detect again instead of using cached results"
    )
    explain.add_argument("--json", action="store_true", help="print JSON instead of a table")
    _add_variant_options(explain)

    detect_cmd = commands.add_parser(
        "detect",
        help="show this machine's hardware and the variant properties it supports",
        description="Detect the hardware and print the supported variant properties.",
    )
    detect_cmd.add_argument(
        "--json", action="store_true", help="print a target profile (JSON) with host facts"
    )
    detect_cmd.add_argument(
        "--save-profile", metavar="FILE", help="write the target profile to FILE"
    )
    detect_cmd.add_argument(
        "--uv-lock", metavar="FILE", help="write the result as uv's static variant file (TOML)"
    )
    detect_cmd.add_argument(
        "--profile", metavar="FILE", help="read this profile instead of detecting (to convert it)"
    )
    detect_cmd.add_argument(
        "--refresh", action="store_true", help="detect again instead of using cached results"
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


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handlers = {"explain": run_explain, "detect": run_detect}
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return handlers[args.command](args)
    # Detection is lazy, so a bad override variable can surface while the output is produced.
    except (CommandError, ProfileError, OverrideError) as exc:
        print(f"wheelnext-jupyter: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
