"""Reading the distributions installed in a target: what `importlib.metadata` would find."""

from __future__ import annotations

import importlib.metadata
import json
import site
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from wheelnext_jupyter.resolve.installed import installed_distributions


def read_with_importlib(paths: list[Path]) -> dict[str, tuple[object, ...]]:
    """The same reading done field by field through `importlib.metadata`: the reference."""
    found: dict[str, tuple[object, ...]] = {}
    for dist in importlib.metadata.distributions(path=[str(p) for p in paths]):
        raw_name = dist.metadata["Name"]
        if not raw_name:
            continue
        name = canonicalize_name(raw_name)
        if name in found:
            continue
        try:
            version = Version(dist.metadata["Version"] or "")
        except InvalidVersion:
            continue
        variants = json.loads(dist.read_text("variant.json") or "{}").get("variants", {})
        found[name] = (
            version,
            next(iter(variants), None),
            tuple(dist.requires or ()),
            dist.read_text("METADATA") or "",
            (dist.read_text("INSTALLER") or "").strip() or None,
            getattr(dist, "_path", None),
        )
    return found


def read_here(paths: list[Path]) -> dict[str, tuple[object, ...]]:
    return {
        name: (
            dist.version,
            dist.variant_label,
            dist.requires_dist,
            dist.metadata_text,
            dist.installer,
            dist.path,
        )
        for name, dist in installed_distributions(paths).items()
    }


def metadata(name: str, version: str, *requires: str) -> str:
    lines = ["Metadata-Version: 2.4", f"Name: {name}", f"Version: {version}"]
    lines += [f"Requires-Dist: {r}" for r in requires]
    return "\n".join(lines) + "\n\nA description.\n"


def dist_info(site_dir: Path, stem: str, files: dict[str, str] | None = None) -> Path:
    directory = site_dir / f"{stem}.dist-info"
    directory.mkdir(parents=True)
    for name, text in (files or {}).items():
        (directory / name).write_text(text)
    return directory


@pytest.fixture
def site_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "site-packages"
    directory.mkdir()
    return directory


def test_a_dist_info_gives_name_version_requirements_installer_and_metadata(
    site_dir: Path,
) -> None:
    text = metadata("Foo.Bar", "1.2", "numpy>=2", 'rich; extra == "ui"')
    dist_info(site_dir, "foo_bar-1.2", {"METADATA": text, "INSTALLER": "pip\n"})
    dist = installed_distributions([site_dir])["foo-bar"]
    assert (dist.version, dist.requires_dist, dist.installer) == (
        Version("1.2"),
        ("numpy>=2", 'rich; extra == "ui"'),
        "pip",
    )
    assert dist.metadata_text == text
    assert dist.path == site_dir / "foo_bar-1.2.dist-info"
    assert dist.variant_label is None


def test_the_variant_label_comes_from_variant_json(site_dir: Path) -> None:
    directory = dist_info(site_dir, "torch-2.9.0", {"METADATA": metadata("torch", "2.9.0")})
    (directory / "variant.json").write_text(json.dumps({"variants": {"cu128": {}}}))
    assert installed_distributions([site_dir])["torch"].variant_label == "cu128"


def test_a_malformed_variant_json_gives_no_label(site_dir: Path) -> None:
    directory = dist_info(site_dir, "torch-2.9.0", {"METADATA": metadata("torch", "2.9.0")})
    (directory / "variant.json").write_text("[not json")
    assert installed_distributions([site_dir])["torch"].variant_label is None


def test_entries_without_a_name_or_a_valid_version_are_left_out(site_dir: Path) -> None:
    dist_info(site_dir, "nameless-1.0", {"METADATA": "Metadata-Version: 2.1\nVersion: 1.0\n"})
    dist_info(site_dir, "odd-1.0", {"METADATA": metadata("odd", "not a version")})
    dist_info(site_dir, "versionless-1.0", {"METADATA": "Metadata-Version: 2.1\nName: v\n"})
    dist_info(site_dir, "empty-1.0")
    assert installed_distributions([site_dir]) == {}


def test_the_first_path_wins_for_a_name_found_twice(tmp_path: Path) -> None:
    purelib, platlib = tmp_path / "purelib", tmp_path / "platlib"
    dist_info(purelib, "foo-1.0", {"METADATA": metadata("foo", "1.0")})
    dist_info(platlib, "foo-2.0", {"METADATA": metadata("foo", "2.0")})
    assert installed_distributions([purelib, platlib])["foo"].version == Version("1.0")


def test_egg_info_requirements_are_read_as_importlib_reads_them(site_dir: Path) -> None:
    egg = site_dir / "legacy-0.1-py3.11.egg-info"
    egg.mkdir()
    (egg / "PKG-INFO").write_text("Metadata-Version: 1.1\nName: legacy\nVersion: 0.1\n")
    (egg / "requires.txt").write_text('six\n\n[ui]\nrich\n\n[:python_version < "4"]\nattrs\n')
    dist = installed_distributions([site_dir])["legacy"]
    assert dist.requires_dist == ("six", 'rich; extra == "ui"', 'attrs; python_version < "4"')
    assert dist.metadata_text == ""


def test_odd_entries_read_the_same_as_through_importlib(site_dir: Path) -> None:
    # A single-file egg-info, PKG-INFO in a dist-info, requires.txt in a dist-info, two entries
    # of one project in one directory, and a directory that is no distribution.
    (site_dir / "single-1.0.egg-info").write_text(metadata("single", "1.0", "six"))
    dist_info(site_dir, "pkginfo-1.0", {"PKG-INFO": metadata("pkginfo", "1.0", "six")})
    dist_info(
        site_dir, "reqtxt-1.0", {"METADATA": metadata("reqtxt", "1.0"), "requires.txt": "six\n"}
    )
    dist_info(site_dir, "Twice-1.0", {"METADATA": metadata("twice", "1.0")})
    dist_info(site_dir, "twice-2.0", {"METADATA": metadata("twice", "2.0")})
    (site_dir / "twice").mkdir()
    found = read_here([site_dir])
    assert sorted(found) == ["pkginfo", "reqtxt", "single", "twice"]
    assert found == read_with_importlib([site_dir])


def test_a_real_environment_reads_the_same_as_through_importlib() -> None:
    paths = [Path(p) for p in site.getsitepackages()]
    found = read_here(paths)
    assert len(found) > 20  # this test's own environment: pytest and the project's dependencies
    assert found == read_with_importlib(paths)
