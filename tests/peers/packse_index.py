"""Turn packse scenarios into a simple-API index directory that `IndexServer` serves.

Per package version: one wheel per wheel tag (real METADATA with Requires-Dist, extras as
`extra == "..."` markers, Provides-Extra, Requires-Python; WHEEL tags as given) and an sdist, each
with a PEP 658 `.metadata` file beside it. Yanked versions and Requires-Python go to the server's
`yanked` / `requires_python` tables, so pages announce them as PEP 592 / PEP 503 attributes.

The sdists are buildable offline: `pyproject.toml` names an in-tree backend (`backend-path`,
no build requirements) that turns the sdist's PKG-INFO into a wheel, so pip and uv can build
sdist-only versions without reaching any index for a build backend.
"""

from __future__ import annotations

import io
import tarfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.peers.packse_scenarios import PackageVersion, Scenario
from tests.support.index_server import IndexServer
from tests.support.wheels import build_wheel, metadata_text, write_metadata_file

#: The reason packse's own index gives for its yanked files.
YANK_REASON = "Yanked for testing"

_BACKEND_MODULE = "scenario_build_backend"

# Stdlib-only PEP 517 backend shipped inside every sdist: it copies PKG-INFO into the wheel.
_BACKEND_SOURCE = '''\
"""Builds a wheel from this sdist's PKG-INFO (a test package with no code of its own)."""

import base64
import hashlib
import os
import zipfile
from email.parser import Parser

_HERE = os.path.dirname(os.path.abspath(__file__))


def _metadata():
    with open(os.path.join(_HERE, "PKG-INFO"), encoding="utf-8") as handle:
        text = handle.read()
    headers = Parser().parsestr(text)
    dist = headers["Name"].lower().replace("-", "_").replace(".", "_")
    return text, dist, headers["Version"]


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def _dist_info_files(text, dist, version):
    wheel = "Wheel-Version: 1.0\\nGenerator: scenario-build-backend\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"
    return {"METADATA": text, "WHEEL": wheel}


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    text, dist, version = _metadata()
    name = f"{dist}-{version}.dist-info"
    os.makedirs(os.path.join(metadata_directory, name), exist_ok=True)
    for member, content in _dist_info_files(text, dist, version).items():
        with open(os.path.join(metadata_directory, name, member), "w", encoding="utf-8") as handle:
            handle.write(content)
    return name


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    text, dist, version = _metadata()
    dist_info = f"{dist}-{version}.dist-info"
    members = {f"{dist}/__init__.py": f"__version__ = {version!r}\\n".encode()}
    for member, content in _dist_info_files(text, dist, version).items():
        members[f"{dist_info}/{member}"] = content.encode()
    record = ""
    for member, data in members.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record += f"{member},sha256={digest},{len(data)}\\n"
    record += f"{dist_info}/RECORD,,\\n"
    members[f"{dist_info}/RECORD"] = record.encode()
    filename = f"{dist}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, filename), "w") as archive:
        for member, data in members.items():
            archive.writestr(zipfile.ZipInfo(member, date_time=(2020, 1, 1, 0, 0, 0)), data)
    return filename
'''


@dataclass
class BuiltIndex:
    """An index directory for `IndexServer` plus the per-file facts pages must announce."""

    root: Path
    #: filename → yank reason.
    yanked: dict[str, str] = field(default_factory=dict)
    #: filename → Requires-Python.
    requires_python: dict[str, str] = field(default_factory=dict)
    #: Every project written, normalised.
    projects: set[str] = field(default_factory=set)

    def server(self, **kwargs: object) -> IndexServer:
        """An (unstarted) server over this directory; kwargs as `IndexServer`."""
        return IndexServer(
            self.root,
            yanked=dict(self.yanked),
            requires_python=dict(self.requires_python),
            **kwargs,  # type: ignore[arg-type]
        )


def requires_dist(scenario: Scenario, meta: PackageVersion) -> list[str]:
    """The Requires-Dist lines of one package version, names namespaced."""
    lines = [scenario.namespaced(req) for req in meta.requires]
    for extra, requirements in meta.extras.items():
        extra_name = canonicalize_name(extra)
        for text in requirements:
            req = Requirement(scenario.namespaced(text))
            marker = req.marker
            req.marker = None
            condition = f'extra == "{extra_name}"'
            if marker is not None:
                condition = f"({marker}) and {condition}"
            lines.append(f"{req}; {condition}")
    return lines


def _metadata(scenario: Scenario, project: str, meta: PackageVersion) -> str:
    return metadata_text(
        project,
        meta.version,
        requires_dist=requires_dist(scenario, meta),
        requires_python=meta.requires_python,
        provides_extra=[canonicalize_name(extra) for extra in meta.extras],
    )


def write_buildable_sdist(directory: Path, project: str, version: str, pkg_info: str) -> Path:
    """An sdist whose in-tree backend builds a wheel with exactly `pkg_info` as METADATA."""
    directory.mkdir(parents=True, exist_ok=True)
    base = f"{project.replace('-', '_')}-{version}"
    pyproject = (
        "[build-system]\n"
        "requires = []\n"
        f'build-backend = "{_BACKEND_MODULE}"\n'
        'backend-path = ["."]\n'
    )
    members = {
        "PKG-INFO": pkg_info,
        "pyproject.toml": pyproject,
        f"{_BACKEND_MODULE}.py": _BACKEND_SOURCE,
    }
    path = directory / f"{base}.tar.gz"
    with tarfile.open(path, "w:gz", format=tarfile.PAX_FORMAT) as archive:
        for member, content in members.items():
            data = content.encode()
            info = tarfile.TarInfo(f"{base}/{member}")
            info.size = len(data)
            info.mode = 0o644
            info.mtime = 1577836800  # fixed, so the archive's hash is reproducible
            archive.addfile(info, io.BytesIO(data))
    return path


def add_scenario(index: BuiltIndex, scenario: Scenario) -> None:
    """Write every distribution of one scenario into `index`."""
    for package, versions in scenario.packages.items():
        project = scenario.project(package)
        directory = index.root / project
        directory.mkdir(parents=True, exist_ok=True)
        index.projects.add(project)
        for meta in versions.values():
            text = _metadata(scenario, project, meta)
            written: list[Path] = []
            if meta.wheel:
                for tag in meta.effective_wheel_tags:
                    python_tag, abi_tag, platform_tag = tag.split("-")
                    built = build_wheel(
                        directory,
                        project,
                        meta.version,
                        python_tag=python_tag,
                        abi_tag=abi_tag,
                        platform_tag=platform_tag,
                        requires_dist=requires_dist(scenario, meta),
                        requires_python=meta.requires_python,
                        provides_extra=[canonicalize_name(extra) for extra in meta.extras],
                    )
                    write_metadata_file(built)
                    written.append(built.path)
            if meta.sdist:
                sdist = write_buildable_sdist(directory, project, meta.version, text)
                sdist.with_name(sdist.name + ".metadata").write_text(text)
                written.append(sdist)
            for path in written:
                if meta.yanked:
                    index.yanked[path.name] = YANK_REASON
                if meta.requires_python:
                    index.requires_python[path.name] = meta.requires_python


def build_index(scenarios: Iterable[Scenario], root: Path) -> BuiltIndex:
    """Build one index directory holding every scenario's packages."""
    root.mkdir(parents=True, exist_ok=True)
    index = BuiltIndex(root)
    for scenario in scenarios:
        add_scenario(index, scenario)
    return index
