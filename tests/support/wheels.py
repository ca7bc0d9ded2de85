"""Build small, real, installable wheels for tests.

A built wheel holds an importable package (`<import name>/__init__.py` exposing `__version__` and
`VARIANT`, the variant label or None), `*.dist-info/METADATA`, `WHEEL`, `RECORD` (with real
digests), and optionally `entry_points.txt` (console scripts) and `variant.json`.

    >>> built = build_wheel(tmp_path, "demo-pkg", "1.0", label="cu12",
    ...                     variant={"nvidia": {"cuda_version_lower_bound": ["12.0"]}})
    >>> built.path.name
    'demo_pkg-1.0-py3-none-any-cu12.whl'

`write_metadata_file(built)` puts the PEP 658 `<wheel>.metadata` file beside it and
`write_variants_json(directory, name, version, {label: properties})` writes the index-level
`{name}-{version}-variants.json`.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import canonicalize_name

from wheelnext_jupyter.variants.filename import format_wheel_filename, variants_json_filename

#: The schema URL of the current PEP 825 draft.
PEP825_SCHEMA = "https://variants-schema.wheelnext.dev/peps/825/v0.1.1.json"

#: `{namespace: {feature: [values]}}`, the shape of one variant in every metadata schema.
Properties = Mapping[str, Mapping[str, Sequence[str]]]

# A fixed timestamp keeps wheel bytes (and so their hashes) reproducible.
_ZIP_DATE = (2020, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class BuiltWheel:
    path: Path
    name: str
    version: str
    label: str | None
    #: Hex sha256 of the whole wheel file.
    sha256: str
    #: The exact bytes of `*.dist-info/METADATA`.
    metadata: bytes
    #: The import name of the package inside.
    import_name: str

    @property
    def filename(self) -> str:
        return self.path.name


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _record_digest(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"sha256={digest}"


def variant_document(
    variants: Mapping[str, Properties],
    *,
    namespaces: Sequence[str] | None = None,
    schema: str = PEP825_SCHEMA,
    extra: Mapping[str, object] | None = None,
) -> dict[str, object]:
    """A variant metadata document (for `variant.json` or `*-variants.json`).

    `namespaces` is the namespace priority; by default every namespace used, in first-seen order.
    Value lists are written sorted, as PEP 825 asks. `extra` adds top-level keys (e.g. the
    `providers` table of older schemas).
    """
    if namespaces is None:
        seen: dict[str, None] = {}
        for props in variants.values():
            seen.update(dict.fromkeys(props))
        namespaces = list(seen)
    doc: dict[str, object] = {
        "$schema": schema,
        "default-priorities": {"namespace": list(namespaces)},
        "variants": {
            label: {
                ns: {feature: sorted(values) for feature, values in features.items()}
                for ns, features in props.items()
            }
            for label, props in variants.items()
        },
    }
    if extra:
        doc.update(extra)
    return doc


def metadata_text(
    name: str,
    version: str,
    *,
    requires_dist: Iterable[str] = (),
    requires_python: str | None = None,
    provides_extra: Iterable[str] = (),
    extra_headers: Iterable[tuple[str, str]] = (),
) -> str:
    lines = ["Metadata-Version: 2.4", f"Name: {name}", f"Version: {version}"]
    if requires_python:
        lines.append(f"Requires-Python: {requires_python}")
    lines += [f"Provides-Extra: {extra}" for extra in provides_extra]
    lines += [f"Requires-Dist: {req}" for req in requires_dist]
    lines += [f"{key}: {value}" for key, value in extra_headers]
    return "\n".join(lines) + "\n\n"


def build_wheel(
    directory: Path,
    name: str,
    version: str,
    *,
    label: str | None = None,
    variant: Properties | None = None,
    variant_json: Mapping[str, object] | None = None,
    python_tag: str = "py3",
    abi_tag: str = "none",
    platform_tag: str = "any",
    build: tuple[int, str] | tuple[()] = (),
    requires_dist: Iterable[str] = (),
    requires_python: str | None = None,
    provides_extra: Iterable[str] = (),
    extra_metadata: Iterable[tuple[str, str]] = (),
    console_scripts: Mapping[str, str] | None = None,
    files: Mapping[str, bytes | str] | None = None,
) -> BuiltWheel:
    """Write a wheel into `directory` and describe it.

    `label` makes it a variant wheel; its `variant.json` is `variant_json` when given, else built
    from `variant` (properties of this label; `{}` = the null variant). `console_scripts` maps a
    script name to `module:function`; a `main` function printing the name, version and label is
    always present in the package. `files` adds extra archive members.
    """
    directory.mkdir(parents=True, exist_ok=True)
    dist = canonicalize_name(name).replace("-", "_")
    import_name = dist
    filename = format_wheel_filename(
        name,
        version,
        python_tag=python_tag,
        abi_tag=abi_tag,
        platform_tag=platform_tag,
        build=build,
        label=label,
    )
    dist_info = f"{dist}-{version}.dist-info"
    metadata = metadata_text(
        name,
        version,
        requires_dist=requires_dist,
        requires_python=requires_python,
        provides_extra=provides_extra,
        extra_headers=extra_metadata,
    ).encode()
    init = (
        f"__version__ = {version!r}\n"
        f"VARIANT = {label!r}\n\n\n"
        "def main() -> None:\n"
        f"    print({name!r}, __version__, VARIANT)\n"
    )
    tag_lines = "".join(
        f"Tag: {py}-{abi}-{plat}\n"
        for py in python_tag.split(".")
        for abi in abi_tag.split(".")
        for plat in platform_tag.split(".")
    )
    build_line = f"Build: {build[0]}{build[1]}\n" if build else ""
    wheel_file = (
        "Wheel-Version: 1.0\nGenerator: wheelnext-jupyter-tests\nRoot-Is-Purelib: true\n"
        f"{tag_lines}{build_line}"
    )
    members: dict[str, bytes] = {f"{import_name}/__init__.py": init.encode()}
    for member, content in (files or {}).items():
        members[member] = content.encode() if isinstance(content, str) else content
    members[f"{dist_info}/METADATA"] = metadata
    members[f"{dist_info}/WHEEL"] = wheel_file.encode()
    if console_scripts:
        entry_points = "[console_scripts]\n" + "".join(
            f"{script} = {target}\n" for script, target in console_scripts.items()
        )
        members[f"{dist_info}/entry_points.txt"] = entry_points.encode()
    if label is not None:
        doc = variant_json if variant_json is not None else variant_document({label: variant or {}})
        members[f"{dist_info}/variant.json"] = (json.dumps(doc, indent=2) + "\n").encode()
    record_name = f"{dist_info}/RECORD"
    record = "".join(
        f"{member},{_record_digest(data)},{len(data)}\n" for member, data in members.items()
    )
    record += f"{record_name},,\n"
    members[record_name] = record.encode()

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for member, data in members.items():
            info = zipfile.ZipInfo(member, date_time=_ZIP_DATE)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    blob = buffer.getvalue()
    path = directory / filename
    path.write_bytes(blob)
    return BuiltWheel(
        path=path,
        name=name,
        version=version,
        label=label,
        sha256=sha256_hex(blob),
        metadata=metadata,
        import_name=import_name,
    )


def write_metadata_file(wheel: BuiltWheel) -> Path:
    """Write the PEP 658 `<wheel>.metadata` file next to the wheel."""
    path = wheel.path.with_name(wheel.path.name + ".metadata")
    path.write_bytes(wheel.metadata)
    return path


def write_variants_json(
    directory: Path,
    name: str,
    version: str,
    variants: Mapping[str, Properties],
    *,
    namespaces: Sequence[str] | None = None,
    schema: str = PEP825_SCHEMA,
    extra: Mapping[str, object] | None = None,
) -> Path:
    """Write the index-level `{name}-{version}-variants.json` (arguments as `variant_document`)."""
    doc = variant_document(variants, namespaces=namespaces, schema=schema, extra=extra)
    path = directory / variants_json_filename(name, version)
    path.write_text(json.dumps(doc, indent=2) + "\n")
    return path


def write_sdist(directory: Path, name: str, version: str) -> Path:
    """A minimal sdist archive (only its name matters to the index tests)."""
    import tarfile

    directory.mkdir(parents=True, exist_ok=True)
    base = f"{canonicalize_name(name).replace('-', '_')}-{version}"
    path = directory / f"{base}.tar.gz"
    pkg_info = metadata_text(name, version).encode()
    with tarfile.open(path, "w:gz") as archive:
        info = tarfile.TarInfo(f"{base}/PKG-INFO")
        info.size = len(pkg_info)
        archive.addfile(info, io.BytesIO(pkg_info))
    return path
