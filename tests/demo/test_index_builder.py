"""The demo index holds the cases the demo promises, in the layout and formats real indexes use."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

from wheelnext_jupyter.demo.index_builder import DemoIndex, build_demo_index
from wheelnext_jupyter.providers.profile import profile_from_json
from wheelnext_jupyter.variants.metadata import read_variant_metadata


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoIndex:
    return build_demo_index(tmp_path_factory.mktemp("demo"))


def _files(demo: DemoIndex, index: str, project: str) -> set[str]:
    return {p.name for p in (demo.root / index / "files" / project).iterdir()}


def test_accel_has_cuda_tpu_and_null_builds(demo: DemoIndex) -> None:
    assert _files(demo, "private", "wn-demo-accel") >= {
        "wn_demo_accel-1.0.0-py3-none-any-cu126.whl",
        "wn_demo_accel-1.0.0-py3-none-any-cu129.whl",
        "wn_demo_accel-1.0.0-py3-none-any-cu130.whl",
        "wn_demo_accel-1.0.0-py3-none-any-tpu_v5e.whl",
        "wn_demo_accel-1.0.0-py3-none-any-null.whl",
        "wn_demo_accel-1.0.0-variants.json",
    }


def test_simd_has_level_builds_and_a_plain_fallback(demo: DemoIndex) -> None:
    assert _files(demo, "private", "wn-demo-simd") >= {
        "wn_demo_simd-1.0.0-py3-none-any-x8664v2.whl",
        "wn_demo_simd-1.0.0-py3-none-any-x8664v3.whl",
        "wn_demo_simd-1.0.0-py3-none-any-x8664v4.whl",
        "wn_demo_simd-1.0.0-py3-none-any.whl",
    }


def test_public_index_holds_only_the_impostor_with_a_higher_version(demo: DemoIndex) -> None:
    assert [p.name for p in (demo.root / "public" / "files").iterdir()] == ["wn-demo-internal"]
    assert "wn_demo_internal-99.0.0-py3-none-any.whl" in _files(demo, "public", "wn-demo-internal")
    assert "wn_demo_internal-1.0.0-py3-none-any.whl" in _files(demo, "private", "wn-demo-internal")


def test_variants_files_are_in_the_v0_0_3_shape(demo: DemoIndex) -> None:
    path = demo.root / "private/files/wn-demo-blas/wn_demo_blas-1.0.0-variants.json"
    doc = json.loads(path.read_text())
    assert doc["$schema"] == "https://variants-schema.wheelnext.dev/v0.0.3.json"
    assert set(doc) == {
        "$schema",
        "default-priorities",
        "providers",
        "static-properties",
        "variants",
    }
    # The BLAS choice is made ahead of time: static values, no install-time plugin.
    assert doc["static-properties"] == {"blas_lapack": {"provider": ["openblas", "mkl"]}}
    assert doc["providers"]["blas_lapack"]["install-time"] is False


def test_variants_files_are_read_by_the_project_reader(demo: DemoIndex) -> None:
    path = demo.root / "private/files/wn-demo-accel/wn_demo_accel-1.0.0-variants.json"
    metadata = read_variant_metadata(path.read_bytes(), source=str(path))
    assert set(metadata.variants) == {"cu126", "cu129", "cu130", "tpu_v5e", "null"}


def test_project_page_links_carry_file_and_metadata_hashes(demo: DemoIndex) -> None:
    page = (demo.root / "private/simple/wn-demo-plot/index.html").read_text()
    links = re.findall(r'<a href="([^"#]+)#sha256=([0-9a-f]{64})"([^>]*)>', page)
    assert len(links) == 1
    href, sha, attrs = links[0]
    target = (demo.root / "private/simple/wn-demo-plot" / href).resolve()
    assert hashlib.sha256(target.read_bytes()).hexdigest() == sha
    metadata_sha = re.search(r'data-core-metadata="sha256=([0-9a-f]{64})"', attrs)
    assert metadata_sha is not None
    metadata = target.with_name(target.name + ".metadata").read_bytes()
    assert hashlib.sha256(metadata).hexdigest() == metadata_sha.group(1)
    assert b"Default-Extra: recommended" in metadata


def test_root_page_lists_every_project(demo: DemoIndex) -> None:
    page = (demo.root / "private/simple/index.html").read_text()
    assert re.findall(r'href="([^"]+)/"', page) == [
        "wn-demo-accel",
        "wn-demo-blas",
        "wn-demo-helper",
        "wn-demo-internal",
        "wn-demo-plot",
        "wn-demo-simd",
    ]


def test_demo_profile_is_a_cuda_12_9_ampere_machine(demo: DemoIndex) -> None:
    profile = profile_from_json(json.loads(demo.profile.read_text()), source="demo profile")
    nvidia = {f.name: f.values for f in profile.providers["nvidia"]}
    assert nvidia["cuda_version_lower_bound"][0] == "12.9"
    assert "13.0" not in nvidia["cuda_version_lower_bound"]
    assert nvidia["sm_arch"] == ("86_real", "80_real", "80_virtual")


def test_rebuilding_replaces_the_indexes_but_keeps_other_files(tmp_path: Path) -> None:
    build_demo_index(tmp_path)
    stray = tmp_path / "private/files/wn-demo-accel/old.whl"
    stray.write_bytes(b"old")
    mine = tmp_path / "notes.txt"
    mine.write_text("mine")
    build_demo_index(tmp_path)
    assert not stray.exists()
    assert mine.read_text() == "mine"
