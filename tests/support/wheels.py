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

import hashlib
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import canonicalize_name

# `Properties` is re-exported: tests take the shape of one variant's properties from here.
from wheelnext_jupyter.demo.wheel_writer import Properties as Properties
from wheelnext_jupyter.demo.wheel_writer import WheelSpec, metadata_bytes, write_wheel
from wheelnext_jupyter.variants.filename import variants_json_filename

#: The schema URL of the current PEP 825 draft.
PEP825_SCHEMA = "https://variants-schema.wheelnext.dev/peps/825/v0.1.1.json"


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
    spec = WheelSpec(
        name=name,
        version=version,
        requires_dist=tuple(requires_dist),
        requires_python=requires_python or "",
        provides_extra=tuple(provides_extra),
        extra_metadata=tuple(extra_headers),
    )
    return metadata_bytes(spec).decode()


def _package_source(name: str, version: str, label: str | None) -> str:
    # `main` is there so that any test can point a console script at it.
    return (
        f"__version__ = {version!r}\n"
        f"VARIANT = {label!r}\n\n\n"
        "def main() -> None:\n"
        f"    print({name!r}, __version__, VARIANT)\n"
    )


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
    """Write a wheel into `directory` (with the product's wheel writer) and describe it.

    `label` makes it a variant wheel; its `variant.json` is `variant_json` when given, else built
    from `variant` (properties of this label; `{}` = the null variant). `console_scripts` maps a
    script name to `module:function`; a `main` function printing the name, version and label is
    always present in the package. `files` adds extra archive members.
    """
    if label is not None and variant_json is None:
        variant_json = variant_document({label: variant or {}})
    spec = WheelSpec(
        name=name,
        version=version,
        label=label,
        variant_json=variant_json if label is not None else None,
        requires_dist=tuple(requires_dist),
        provides_extra=tuple(provides_extra),
        requires_python=requires_python or "",
        extra_metadata=tuple(extra_metadata),
        python_tag=python_tag,
        abi_tag=abi_tag,
        platform_tag=platform_tag,
        build=build,
        console_scripts=dict(console_scripts or {}),
        module_source=_package_source(name, version, label),
        extra_files=dict(files or {}),
    )
    written = write_wheel(directory, spec)
    return BuiltWheel(
        path=written.path,
        name=name,
        version=version,
        label=label,
        sha256=written.sha256,
        metadata=written.metadata,
        import_name=spec.import_name,
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
