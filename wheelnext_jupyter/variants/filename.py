"""Wheel filenames with the optional PEP 825 variant label.

packaging rejects variant filenames, so parsing sits beside it and reuses its pieces for names,
versions and tags.
"""

from __future__ import annotations

import functools
import re
import warnings

from packaging.tags import Tag, parse_tag
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version

from wheelnext_jupyter.record import Record

LABEL_RE = re.compile(r"^[0-9a-z_.]+$")
#: Labels longer than this are accepted (current PEP 825 has no cap) but never produced.
MAX_EMITTED_LABEL_LENGTH = 16
NULL_LABEL = "null"

_NAME = r"[A-Za-z0-9](?:[A-Za-z0-9._]*[A-Za-z0-9])?"
_TAG = r"[A-Za-z0-9_.]+"
_NAME_RE = re.compile(rf"^{_NAME}$")
_TAG_RE = re.compile(_TAG)
#: A wheel filename without build tag or label, every part as `wheel_filename_fields` checks
#: it but the version (a Python tag never starts with a digit): most of an index page.
_PLAIN_WHEEL_RE = re.compile(
    rf"({_NAME})-([^-]+)-([A-Za-z_.][A-Za-z0-9_.]*)-({_TAG})-({_TAG})\.whl"
)
_BUILD_RE = re.compile(r"^(\d+)(.*)$")


class InvalidWheelFilename(ValueError):
    """A wheel filename that cannot be parsed; the message names the part that is wrong."""


class InvalidVariantLabel(ValueError):
    """A variant label outside the PEP 825 grammar."""


class LongVariantLabelWarning(UserWarning):
    """A label longer than 16 characters: valid under the current PEP 825, rejected by older tools."""


BuildTag = tuple[int, str]


def validate_label(label: str, *, emitting: bool = False) -> str:
    """Check a variant label; with `emitting`, also refuse labels older tools cannot read."""
    if not label or not LABEL_RE.match(label):
        raise InvalidVariantLabel(
            f"invalid variant label {label!r}: labels use only 0-9 a-z _ . (lower case, non-empty)"
        )
    if len(label) > MAX_EMITTED_LABEL_LENGTH:
        if emitting:
            raise InvalidVariantLabel(
                f"variant label {label!r} is {len(label)} characters long; "
                f"use at most {MAX_EMITTED_LABEL_LENGTH} so that every installer can read it"
            )
        warnings.warn(
            f"variant label {label!r} is longer than {MAX_EMITTED_LABEL_LENGTH} characters; "
            "older installers reject it",
            LongVariantLabelWarning,
            stacklevel=2,
        )
    return label


class WheelFilename(Record):
    """The parts of `{name}-{version}(-{build})?-{py}-{abi}-{plat}(-{label})?.whl`."""

    name: NormalizedName
    version: Version
    build: BuildTag | tuple[()]
    python_tag: str
    abi_tag: str
    platform_tag: str
    label: str | None
    #: The distribution part exactly as written in the filename.
    raw_name: str

    @property
    def tags(self) -> frozenset[Tag]:
        return parse_tag(f"{self.python_tag}-{self.abi_tag}-{self.platform_tag}")

    @property
    def is_variant(self) -> bool:
        return self.label is not None

    @property
    def is_null_variant(self) -> bool:
        return self.label == NULL_LABEL

    def format(self) -> str:
        """The canonical filename (normalised name, as PEP 427 writes it)."""
        return format_wheel_filename(
            self.name,
            self.version,
            python_tag=self.python_tag,
            abi_tag=self.abi_tag,
            platform_tag=self.platform_tag,
            build=self.build,
            label=self.label,
        )


def _parse_build(text: str, filename: str) -> BuildTag:
    match = _BUILD_RE.match(text)
    if not match:
        raise InvalidWheelFilename(
            f"invalid wheel filename {filename!r}: build tag {text!r} must start with a digit"
        )
    return (int(match.group(1)), match.group(2))


# An index page lists the wheels of a release (dozens of them) under one name and version:
# each is parsed once. Both results are immutable.
@functools.lru_cache(maxsize=4096)
def _version(text: str) -> Version:
    return Version(text)


@functools.lru_cache(maxsize=1024)
def _canonical_name(raw_name: str) -> NormalizedName:
    return canonicalize_name(raw_name)


#: `WheelFilename`'s fields, in order, as `wheel_filename_fields` returns them.
WheelFilenameFields = tuple[
    NormalizedName, Version, BuildTag | tuple[()], str, str, str, str | None, str
]


def parse_wheel_filename(filename: str) -> WheelFilename:
    """Parse a wheel filename, variant or not.

    Disambiguation (PEP 825): 5 parts = plain wheel; 7 = with build tag and label; 6 = a build tag if the
    third part starts with a digit (a Python tag never does), otherwise a label.
    """
    return WheelFilename(*wheel_filename_fields(filename))


def wheel_filename_fields(filename: str) -> WheelFilenameFields:
    """`parse_wheel_filename` without making the record: every check, and the fields in order
    (an index page checks thousands of filenames and makes records of a few)."""
    plain = _PLAIN_WHEEL_RE.fullmatch(filename)
    if plain is not None:
        raw_name, version_text, py, abi, plat = plain.groups()
        try:
            version = _version(version_text)
        except InvalidVersion:
            pass  # said below, with the rest of the checks
        else:
            return (_canonical_name(raw_name), version, (), py, abi, plat, None, raw_name)
    return _checked_fields(filename)


def _checked_fields(filename: str) -> WheelFilenameFields:
    """`wheel_filename_fields` for any filename, each part checked in turn."""
    if not filename.endswith(".whl"):
        raise InvalidWheelFilename(f"invalid wheel filename {filename!r}: it must end in '.whl'")
    parts = filename[: -len(".whl")].split("-")
    build_text: str | None = None
    label: str | None = None
    if len(parts) == 5:
        raw_name, version_text, py, abi, plat = parts
    elif len(parts) == 6:
        if parts[2][:1].isdigit():
            raw_name, version_text, build_text, py, abi, plat = parts
        else:
            raw_name, version_text, py, abi, plat, label = parts
    elif len(parts) == 7:
        raw_name, version_text, build_text, py, abi, plat, label = parts
    else:
        raise InvalidWheelFilename(
            f"invalid wheel filename {filename!r}: expected 5 to 7 dash-separated parts "
            "(name-version[-build]-python-abi-platform[-label].whl), found "
            f"{len(parts)}; a '-' inside the name or version must be written as '_'"
        )
    if not _NAME_RE.match(raw_name):
        raise InvalidWheelFilename(
            f"invalid wheel filename {filename!r}: {raw_name!r} is not a valid distribution name"
        )
    try:
        version = _version(version_text)
    except InvalidVersion:
        raise InvalidWheelFilename(
            f"invalid wheel filename {filename!r}: {version_text!r} is not a valid version"
        ) from None
    build: BuildTag | tuple[()] = () if build_text is None else _parse_build(build_text, filename)
    for kind, tag in (("python", py), ("abi", abi), ("platform", plat)):
        if not _TAG_RE.fullmatch(tag):
            raise InvalidWheelFilename(
                f"invalid wheel filename {filename!r}: {kind} tag {tag!r} is malformed"
            )
    if py[:1].isdigit():
        raise InvalidWheelFilename(
            f"invalid wheel filename {filename!r}: python tag {py!r} must not start with a digit"
        )
    if label is not None:
        try:
            validate_label(label)
        except InvalidVariantLabel as exc:
            raise InvalidWheelFilename(f"invalid wheel filename {filename!r}: {exc}") from None
    return (_canonical_name(raw_name), version, build, py, abi, plat, label, raw_name)


def format_wheel_filename(
    name: str,
    version: Version | str,
    *,
    python_tag: str,
    abi_tag: str,
    platform_tag: str,
    build: BuildTag | tuple[()] = (),
    label: str | None = None,
) -> str:
    """Write a wheel filename; refuses labels over 16 characters (older tools cannot read them)."""
    dist = canonicalize_name(name).replace("-", "_")
    parts = [dist, str(version)]
    if build:
        parts.append(f"{build[0]}{build[1]}")
    parts += [python_tag, abi_tag, platform_tag]
    if label is not None:
        parts.append(validate_label(label, emitting=True))
    return "-".join(parts) + ".whl"


def variants_json_filename(name: str, version: Version | str) -> str:
    """The index-level metadata file name, `{name}-{version}-variants.json` (normalised as in wheels)."""
    return f"{canonicalize_name(name).replace('-', '_')}-{Version(str(version))}-variants.json"


_VARIANTS_JSON_RE = re.compile(r"^(?P<name>[^-]+)-(?P<version>[^-]+)-variants\.json$")


def parse_variants_json_filename(filename: str) -> tuple[NormalizedName, Version] | None:
    """`(name, version)` for a `{name}-{version}-variants.json` filename, else None."""
    match = _VARIANTS_JSON_RE.match(filename)
    if not match:
        return None
    try:
        return canonicalize_name(match.group("name")), Version(match.group("version"))
    except InvalidVersion:
        return None
