"""Build the demo indexes into a directory: wheels, PEP 658 metadata files, `*-variants.json`,
and the PEP 503 pages, laid out so that a static file server can serve them.

    <root>/private/simple/index.html                 the private (first-priority) index
    <root>/private/simple/<project>/index.html
    <root>/private/files/<project>/<files>
    <root>/public/...                                 the public index with the impostor
    <root>/profiles/cuda12.9-ampere.json              a target profile for a remote GPU machine
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import canonicalize_name

from wheelnext_jupyter.demo.catalog import (
    DEMO_PACKAGES,
    PRIVATE_INDEX,
    PUBLIC_INDEX,
    DemoPackage,
    cuda_ampere_profile,
)
from wheelnext_jupyter.demo.index_pages import PageFile, project_page, root_page
from wheelnext_jupyter.demo.wheel_writer import WheelSpec, WrittenWheel, write_wheel
from wheelnext_jupyter.variants.filename import variants_json_filename

INDEX_NAMES = (PRIVATE_INDEX, PUBLIC_INDEX)
PROFILE_PATH = "profiles/cuda12.9-ampere.json"


@dataclass(frozen=True)
class DemoIndex:
    root: Path
    #: Every wheel written, per index name.
    wheels: dict[str, list[WrittenWheel]]

    @property
    def profile(self) -> Path:
        return self.root / PROFILE_PATH


def index_url(base_url: str, index: str) -> str:
    """The simple-API URL of `index` when `root` is served at `base_url`."""
    return f"{base_url.rstrip('/')}/{index}/simple/"


def package_wheels(package: DemoPackage) -> list[WheelSpec]:
    """The wheel specs of one demo package version: each variant, then the plain wheel."""
    common = {
        "name": package.name,
        "version": package.version,
        "summary": package.summary,
        "requires_dist": package.requires_dist,
        "provides_extra": package.provides_extra,
        "default_extra": package.default_extra,
    }
    specs = [
        WheelSpec(
            label=variant.label,
            variant_json=package.variants_document((variant.label,)),
            build_description=variant.description,
            **common,  # type: ignore[arg-type]
        )
        for variant in package.variants
    ]
    if package.plain_wheel is not None:
        specs.append(WheelSpec(build_description=package.plain_wheel, **common))  # type: ignore[arg-type]
    return specs


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _build_index(root: Path, index: str, packages: Sequence[DemoPackage]) -> list[WrittenWheel]:
    files_by_project: dict[str, list[PageFile]] = {}
    written: list[WrittenWheel] = []
    for package in packages:
        if index not in package.indexes:
            continue
        project = str(canonicalize_name(package.name))
        directory = root / index / "files" / project
        page_files = files_by_project.setdefault(project, [])
        for spec in package_wheels(package):
            wheel = write_wheel(directory, spec)
            written.append(wheel)
            metadata_path = wheel.path.with_name(wheel.path.name + ".metadata")
            metadata_path.write_bytes(wheel.metadata)
            page_files.append(
                PageFile(
                    wheel.path.name,
                    f"../../files/{project}/{wheel.path.name}",
                    wheel.sha256,
                    _sha256(wheel.metadata),
                )
            )
        if package.variants:
            name = variants_json_filename(package.name, package.version)
            data = (json.dumps(package.variants_document(), indent=2) + "\n").encode()
            (directory / name).write_bytes(data)
            page_files.append(PageFile(name, f"../../files/{project}/{name}", _sha256(data)))
    simple = root / index / "simple"
    simple.mkdir(parents=True, exist_ok=True)
    (simple / "index.html").write_text(root_page(list(files_by_project)), encoding="utf-8")
    for project, page_files in files_by_project.items():
        (simple / project).mkdir(exist_ok=True)
        (simple / project / "index.html").write_text(
            project_page(project, page_files), encoding="utf-8"
        )
    return written


def build_demo_index(root: Path, packages: Sequence[DemoPackage] = DEMO_PACKAGES) -> DemoIndex:
    """Build both demo indexes and the demo profile under `root`, replacing earlier builds."""
    root.mkdir(parents=True, exist_ok=True)
    wheels: dict[str, list[WrittenWheel]] = {}
    for index in INDEX_NAMES:
        # Only the directories this builder owns are replaced; the rest of `root` is the user's.
        shutil.rmtree(root / index, ignore_errors=True)
        wheels[index] = _build_index(root, index, packages)
    profile = root / PROFILE_PATH
    profile.parent.mkdir(parents=True, exist_ok=True)
    profile.write_text(json.dumps(cuda_ampere_profile(), indent=2) + "\n", encoding="utf-8")
    return DemoIndex(root, wheels)
