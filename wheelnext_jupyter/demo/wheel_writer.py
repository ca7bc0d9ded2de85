"""Write small, real, installable wheels: METADATA, WHEEL, RECORD with hashes, `variant.json`.

The demo index is built from these on the spot (never committed as binaries). Each wheel holds one
importable package whose `VARIANT` and `BUILD` say which build it is, so a notebook can show that
the variant it asked for is the one it imports. The test suite builds its wheels with the same
writer (other tags, build numbers, console scripts, its own package source).
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from packaging.utils import canonicalize_name

from wheelnext_jupyter.variants.filename import BuildTag, format_wheel_filename

#: `{namespace: {feature: [values]}}`: the properties of one variant.
Properties = Mapping[str, Mapping[str, Sequence[str]]]

# A fixed timestamp makes the same spec give the same bytes (and hashes) on every build.
_ZIP_DATE = (2020, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class WheelSpec:
    """What one wheel holds."""

    name: str
    version: str
    #: The variant label; None for a plain (non-variant) wheel.
    label: str | None = None
    #: The whole `variant.json` document of a variant wheel (required when `label` is set).
    variant_json: Mapping[str, object] | None = None
    #: One line saying which build this is; the package exposes it as `BUILD`.
    build_description: str = ""
    requires_dist: Sequence[str] = ()
    provides_extra: Sequence[str] = ()
    #: PEP 771 default extras (`Default-Extra:` headers).
    default_extra: Sequence[str] = ()
    summary: str = ""
    requires_python: str = ""
    #: More core-metadata headers, written last, in order.
    extra_metadata: Sequence[tuple[str, str]] = ()
    #: Compressed tag sets as in the filename (`cp311.cp312`); WHEEL lists every combination.
    python_tag: str = "py3"
    abi_tag: str = "none"
    platform_tag: str = "any"
    build: BuildTag | tuple[()] = ()
    #: `{script name: "module:function"}`, written to `entry_points.txt`.
    console_scripts: Mapping[str, str] = field(default_factory=dict)
    #: The package's `__init__.py`; empty: the demo module (`__version__`, `VARIANT`, `BUILD`).
    module_source: str = ""
    #: More archive members, `{path: content}`.
    extra_files: Mapping[str, str | bytes] = field(default_factory=dict)

    @property
    def import_name(self) -> str:
        return canonicalize_name(self.name).replace("-", "_")

    @property
    def filename(self) -> str:
        return format_wheel_filename(
            self.name,
            self.version,
            python_tag=self.python_tag,
            abi_tag=self.abi_tag,
            platform_tag=self.platform_tag,
            build=self.build,
            label=self.label,
        )


@dataclass(frozen=True)
class WrittenWheel:
    path: Path
    spec: WheelSpec
    #: Hex sha256 of the wheel file.
    sha256: str
    #: The bytes of `*.dist-info/METADATA` (also served as the PEP 658 metadata file).
    metadata: bytes


def metadata_bytes(spec: WheelSpec) -> bytes:
    """The core metadata (Metadata-Version 2.4; `Default-Extra` as PEP 771 writes it)."""
    lines = ["Metadata-Version: 2.4", f"Name: {spec.name}", f"Version: {spec.version}"]
    if spec.summary:
        lines.append(f"Summary: {spec.summary}")
    if spec.requires_python:
        lines.append(f"Requires-Python: {spec.requires_python}")
    lines += [f"Provides-Extra: {extra}" for extra in spec.provides_extra]
    lines += [f"Default-Extra: {extra}" for extra in spec.default_extra]
    lines += [f"Requires-Dist: {req}" for req in spec.requires_dist]
    lines += [f"{key}: {value}" for key, value in spec.extra_metadata]
    return ("\n".join(lines) + "\n\n").encode()


def module_source(spec: WheelSpec) -> str:
    if spec.module_source:
        return spec.module_source
    return (
        f'"""{spec.name} {spec.version}: a demo package of wheelnext-jupyter."""\n\n'
        f"__version__ = {spec.version!r}\n"
        f"#: The variant label of the installed build (None: a plain wheel).\n"
        f"VARIANT = {spec.label!r}\n"
        f"BUILD = {spec.build_description!r}\n\n\n"
        "def describe() -> str:\n"
        f'    return f"{spec.name} {{__version__}}: {{BUILD}} (variant {{VARIANT}})"\n'
    )


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"sha256={digest}"


def wheel_file_bytes(spec: WheelSpec) -> bytes:
    """The `WHEEL` file: one `Tag:` line per expanded tag triple, and `Build:` when there is one."""
    tags = "".join(
        f"Tag: {python}-{abi}-{platform}\n"
        for python in spec.python_tag.split(".")
        for abi in spec.abi_tag.split(".")
        for platform in spec.platform_tag.split(".")
    )
    build = f"Build: {spec.build[0]}{spec.build[1]}\n" if spec.build else ""
    return (
        "Wheel-Version: 1.0\nGenerator: wheelnext-jupyter-demo\nRoot-Is-Purelib: true\n"
        f"{tags}{build}"
    ).encode()


def wheel_bytes(spec: WheelSpec) -> tuple[bytes, bytes]:
    """The wheel archive and its METADATA, as bytes."""
    if spec.label is not None and spec.variant_json is None:
        raise ValueError(f"{spec.filename}: a variant wheel needs its variant.json document")
    dist_info = f"{spec.import_name}-{spec.version}.dist-info"
    metadata = metadata_bytes(spec)
    members: dict[str, bytes] = {f"{spec.import_name}/__init__.py": module_source(spec).encode()}
    for path, content in spec.extra_files.items():
        members[path] = content.encode() if isinstance(content, str) else content
    members[f"{dist_info}/METADATA"] = metadata
    members[f"{dist_info}/WHEEL"] = wheel_file_bytes(spec)
    if spec.console_scripts:
        scripts = "".join(f"{name} = {target}\n" for name, target in spec.console_scripts.items())
        members[f"{dist_info}/entry_points.txt"] = f"[console_scripts]\n{scripts}".encode()
    if spec.variant_json is not None:
        text = json.dumps(spec.variant_json, indent=2, sort_keys=True) + "\n"
        members[f"{dist_info}/variant.json"] = text.encode()
    record = f"{dist_info}/RECORD"
    rows = [(path, _record_hash(data), len(data)) for path, data in members.items()]
    record_text = io.StringIO()
    # csv quotes a path with a comma in it, as RECORD's readers expect.
    csv.writer(record_text, lineterminator="\n").writerows([*rows, (record, "", "")])
    members[record] = record_text.getvalue().encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path, data in members.items():
            info = zipfile.ZipInfo(path, date_time=_ZIP_DATE)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return buffer.getvalue(), metadata


def write_wheel(directory: Path, spec: WheelSpec) -> WrittenWheel:
    """Write `spec` into `directory` under its standard file name."""
    blob, metadata = wheel_bytes(spec)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / spec.filename
    path.write_bytes(blob)
    return WrittenWheel(path, spec, hashlib.sha256(blob).hexdigest(), metadata)
