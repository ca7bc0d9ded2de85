"""Shared pieces for the resolver specifications: real loopback indexes, the running interpreter
as the target, target profiles instead of detection, and buildable source distributions.

Package names start with `wnr-` so they can never collide with what the test venv has installed.
"""

from __future__ import annotations

import io
import os
import tarfile
import textwrap
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name
from packaging.version import Version

from tests.support.index_server import IndexServer
from tests.support.wheels import metadata_text
from wheelnext_jupyter.detection import detect
from wheelnext_jupyter.index.http import HttpClient
from wheelnext_jupyter.index.priority import SourceSet, Strategy
from wheelnext_jupyter.index.sources import IndexSource
from wheelnext_jupyter.install.target import TargetEnvironment, current_target
from wheelnext_jupyter.providers.profile import TargetProfile
from wheelnext_jupyter.resolve.candidates import CandidateFinder, VariantPolicy
from wheelnext_jupyter.resolve.installed import InstalledDistribution
from wheelnext_jupyter.resolve.provider import MetadataSource, ResolveOptions
from wheelnext_jupyter.resolve.requirements import parse_request
from wheelnext_jupyter.resolve.resolver import Plan, PlannedPackage, resolve
from wheelnext_jupyter.variants.properties import VariantFeatureConfig

#: A CUDA 12.9 driver: every 12.x lower bound is supported, 12.9 first.
CUDA_12 = {
    "nvidia": (VariantFeatureConfig("cuda_version_lower_bound", ("12.9", "12.8", "12.0", "12")),)
}
#: A machine without any accelerator.
NO_GPU: dict[str, tuple[VariantFeatureConfig, ...]] = {}

_TARGET: TargetEnvironment | None = None


def target() -> TargetEnvironment:
    """The running interpreter's environment (probed once)."""
    global _TARGET
    if _TARGET is None:
        _TARGET = current_target()
    return _TARGET


@contextmanager
def serving(root: Path) -> Iterator[IndexServer]:
    root.mkdir(parents=True, exist_ok=True)
    with IndexServer(root) as server:
        yield server


@pytest.fixture
def client(tmp_path: Path) -> Iterator[HttpClient]:
    with HttpClient(cache_dir=tmp_path / "http-cache") as opened:
        yield opened


def index_source(server: IndexServer, client: HttpClient, name: str = "main") -> IndexSource:
    return IndexSource(server.index_url, client, name=name)


def make_finder(
    *sources: IndexSource,
    providers: Mapping[str, tuple[VariantFeatureConfig, ...]] = NO_GPU,
    strategy: Strategy = Strategy.FIRST_INDEX,
    pins: Mapping[str, str] | None = None,
    installed_versions: Mapping[str, Version] | None = None,
    no_variants: bool = False,
    only_binary: bool = False,
) -> CandidateFinder:
    """A finder over `sources` for the running interpreter, with the hardware given as a profile."""
    detection = detect(profile=TargetProfile(providers=dict(providers)))
    environment = target()
    policy = VariantPolicy(
        supported_for=detection.supported_for,
        environment=environment.markers,
        installed_versions=dict(installed_versions or {}),
        no_variants=no_variants,
    )
    return CandidateFinder(
        SourceSet(list(sources), strategy=strategy, pins=pins),
        environment,
        policy,
        only_binary=only_binary,
    )


def installed_dist(
    name: str, version: str, *, requires_dist: Sequence[str] = (), label: str | None = None
) -> InstalledDistribution:
    """An installed distribution record, as `installed_distributions` reads one."""
    return InstalledDistribution(
        name=canonicalize_name(name),
        version=Version(version),
        variant_label=label,
        requires_dist=tuple(requires_dist),
        metadata_text=metadata_text(name, version, requires_dist=requires_dist),
        path=None,
        installer="pip",
    )


def installed_map(*dists: InstalledDistribution) -> dict[str, InstalledDistribution]:
    return {dist.name: dist for dist in dists}


def run(
    requirements: Iterable[str],
    finder: CandidateFinder,
    *,
    installed: Mapping[str, InstalledDistribution] | None = None,
    options: ResolveOptions | None = None,
    constraints: Iterable[str] = (),
    metadata: MetadataSource | None = None,
) -> Plan:
    """Resolve requirement strings written on the command line (constraints as from `-c`)."""
    return resolve(
        [parse_request(text) for text in requirements],
        finder=finder,
        installed=installed or {},
        options=options,
        constraints=[parse_request(text, "-c constraints.txt") for text in constraints],
        metadata=metadata,
    )


def versions(plan: Plan) -> dict[str, str]:
    """`{name: version}` of every planned package."""
    return {package.name: str(package.version) for package in plan.packages}


def package(plan: Plan, name: str) -> PlannedPackage:
    found = [p for p in plan.packages if p.name == name]
    assert found, f"{name} is not in the plan: {versions(plan)}"
    return found[0]


# -- source distributions with an in-tree PEP 517 backend (no build dependency to download) -----

_BACKEND = '''
"""A stdlib-only PEP 517 backend writing one pure-Python wheel."""
import base64, hashlib, sys, zipfile

NAME = {name!r}
VERSION = {version!r}
METADATA = {metadata!r}
FAIL = {fail!r}


def get_requires_for_build_wheel(config_settings=None):
    return []


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    if FAIL:
        print(FAIL, file=sys.stderr)
        raise SystemExit(1)
    dist = NAME.replace("-", "_")
    info = f"{{dist}}-{{VERSION}}.dist-info"
    members = {{
        f"{{dist}}/__init__.py": f"__version__ = {{VERSION!r}}\\n".encode(),
        f"{{info}}/METADATA": METADATA.encode(),
        f"{{info}}/WHEEL": b"Wheel-Version: 1.0\\nGenerator: t\\nRoot-Is-Purelib: true\\n"
        b"Tag: py3-none-any\\n",
    }}
    record = ""
    for member, data in members.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record += f"{{member}},sha256={{digest}},{{len(data)}}\\n"
    members[f"{{info}}/RECORD"] = (record + f"{{info}}/RECORD,,\\n").encode()
    filename = f"{{dist}}-{{VERSION}}-py3-none-any.whl"
    with zipfile.ZipFile(f"{{wheel_directory}}/{{filename}}", "w") as archive:
        for member, data in members.items():
            archive.writestr(member, data)
    return filename
'''


def write_buildable_sdist(
    directory: Path,
    name: str,
    version: str,
    *,
    requires_dist: Sequence[str] = (),
    fail: str | None = None,
) -> Path:
    """An sdist whose in-tree backend builds a wheel with the standard library only.

    `fail`: the backend prints this line to stderr and exits 1 instead of building.
    """
    directory.mkdir(parents=True, exist_ok=True)
    base = f"{canonicalize_name(name).replace('-', '_')}-{version}"
    metadata = metadata_text(name, version, requires_dist=requires_dist)
    members = {
        "pyproject.toml": textwrap.dedent(
            f"""\
            [build-system]
            requires = []
            build-backend = "backend"
            backend-path = ["."]

            [project]
            name = "{name}"
            version = "{version}"
            """
        ),
        "backend.py": _BACKEND.format(name=name, version=version, metadata=metadata, fail=fail),
        "PKG-INFO": metadata,
    }
    path = directory / f"{base}.tar.gz"
    with tarfile.open(path, "w:gz") as archive:
        for member, text in members.items():
            data = text.encode()
            info = tarfile.TarInfo(f"{base}/{member}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


@pytest.fixture
def offline_pip(monkeypatch: pytest.MonkeyPatch) -> None:
    """pip without this machine's configuration (mirrors, constraints) and without any index."""
    for key in list(os.environ):
        if key.startswith("PIP_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_NO_CACHE_DIR", "1")
    monkeypatch.setenv("PIP_DISABLE_PIP_VERSION_CHECK", "1")
