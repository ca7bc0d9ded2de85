"""Sources: an index over HTTP, a flat page of links and a local find-links directory."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from packaging.version import Version

from tests.support.index_server import Fault, IndexServer, IndexTree
from tests.support.wheels import build_wheel, variant_document, write_variants_json
from wheelnext_jupyter.index.errors import HashMismatch, IndexResponseError, MetadataUnavailable
from wheelnext_jupyter.index.http import HttpClient
from wheelnext_jupyter.index.models import ProjectStatus
from wheelnext_jupyter.index.sources import FindLinksDirectory, FlatPageSource, IndexSource

CUDA = {"nvidia": {"cuda_version_lower_bound": ["12.0"]}}


@pytest.fixture
def client(tmp_path: Path) -> Iterator[HttpClient]:
    with HttpClient(cache_dir=tmp_path / "cache", backoff=0.0, retries=1) as http:
        yield http


@pytest.fixture
def demo(tree: IndexTree) -> IndexTree:
    tree.add_wheel("demo", "1.0", requires_dist=["dep>=2"])
    tree.add_wheel("demo", "2.0", label="cu12", variant=CUDA)
    tree.add_wheel("demo", "2.0", label="null", variant={})
    tree.add_variants_json("demo", "2.0", {"cu12": CUDA, "null": {}})
    tree.add_wheel("demo", "3.0", metadata_file=False)
    return tree


def _index(server: IndexServer, client: HttpClient) -> IndexSource:
    return IndexSource(server.index_url, client, name="local")


@pytest.mark.parametrize("mode", ["json", "html"])
def test_index_page_lists_distributions_and_the_variants_file(
    demo: IndexTree, server: IndexServer, client: HttpClient, mode: str
) -> None:
    server.mode = mode  # type: ignore[assignment]
    page = _index(server, client).project("Demo")
    assert page is not None
    assert sorted(f.filename for f in page.files) == [
        "demo-1.0-py3-none-any.whl",
        "demo-2.0-py3-none-any-cu12.whl",
        "demo-2.0-py3-none-any-null.whl",
        "demo-3.0-py3-none-any.whl",
    ]
    assert list(page.variants_files) == [Version("2.0")]
    first = next(f for f in page.files if f.filename == "demo-1.0-py3-none-any.whl")
    assert first.core_metadata.available and set(first.core_metadata.hashes) == {"sha256"}
    assert first.url == f"{server.url}/files/demo/demo-1.0-py3-none-any.whl"


def test_absent_project_is_none(server: IndexServer, client: HttpClient) -> None:
    assert _index(server, client).project("nothing-here") is None


def test_every_candidate_names_its_source(
    demo: IndexTree, server: IndexServer, client: HttpClient
) -> None:
    source = _index(server, client)
    page = source.project("demo")
    assert page is not None
    candidates = source.offer(page).all()
    assert {(c.source.name, c.source.url) for c in candidates} == {("local", server.index_url)}


def test_metadata_file_is_used_instead_of_downloading_the_wheel(
    demo: IndexTree, server: IndexServer, client: HttpClient
) -> None:
    source = _index(server, client)
    page = source.project("demo")
    assert page is not None
    file = next(f for f in page.files if f.version == Version("1.0"))
    metadata = source.core_metadata(file)
    assert b"Requires-Dist: dep>=2" in metadata
    wheel_path = "/files/demo/demo-1.0-py3-none-any.whl"
    assert server.requests_for(wheel_path) == []
    assert len(server.requests_for(wheel_path + ".metadata")) == 1


@pytest.mark.parametrize("key", ["dist-info-metadata", "data-dist-info-metadata"])
def test_legacy_metadata_keys_still_avoid_the_wheel_download(
    demo: IndexTree, server: IndexServer, client: HttpClient, key: str
) -> None:
    server.metadata_key = key
    server.mode = "json"
    source = _index(server, client)
    page = source.project("demo")
    assert page is not None
    file = next(f for f in page.files if f.version == Version("1.0"))
    source.core_metadata(file)
    assert server.requests_for("/files/demo/demo-1.0-py3-none-any.whl") == []


def test_without_metadata_file_the_wheel_is_read(
    demo: IndexTree, server: IndexServer, client: HttpClient
) -> None:
    source = _index(server, client)
    page = source.project("demo")
    assert page is not None
    file = next(f for f in page.files if f.version == Version("3.0"))
    assert not file.core_metadata.available
    assert source.core_metadata(file).startswith(b"Metadata-Version: 2.4\nName: demo\nVersion: 3.0")
    assert len(server.requests_for("/files/demo/demo-3.0-py3-none-any.whl")) == 1


def test_metadata_file_with_wrong_hash_is_rejected(
    demo: IndexTree, server: IndexServer, client: HttpClient
) -> None:
    server.faults["/files/demo/demo-1.0-py3-none-any.whl.metadata"] = Fault("malformed")
    source = _index(server, client)
    page = source.project("demo")
    assert page is not None
    file = next(f for f in page.files if f.version == Version("1.0"))
    with pytest.raises(HashMismatch, match="sha256"):
        source.core_metadata(file)


def test_wheel_with_wrong_published_hash_is_rejected(
    demo: IndexTree, server: IndexServer, client: HttpClient
) -> None:
    server.faults["/files/demo/demo-3.0-py3-none-any.whl"] = Fault("wrong-hash")
    source = _index(server, client)
    page = source.project("demo")
    assert page is not None
    file = next(f for f in page.files if f.version == Version("3.0"))
    with pytest.raises(HashMismatch):
        source.core_metadata(file)


def test_sdist_without_metadata_file_is_unavailable(
    tree: IndexTree, server: IndexServer, client: HttpClient
) -> None:
    from tests.support.wheels import write_sdist

    write_sdist(tree.project_dir("src-only"), "src-only", "1.0")
    source = _index(server, client)
    page = source.project("src-only")
    assert page is not None
    with pytest.raises(MetadataUnavailable, match="source distributions"):
        source.core_metadata(page.files[0])


@pytest.mark.parametrize("mode", ["json", "html"])
def test_malformed_page_is_an_error_naming_the_source(
    demo: IndexTree, server: IndexServer, client: HttpClient, mode: str
) -> None:
    server.mode = mode  # type: ignore[assignment]
    server.faults["/simple/demo/"] = Fault("malformed")
    with pytest.raises(IndexResponseError, match="'local'"):
        _index(server, client).project("demo")


def test_malformed_page_is_not_kept_in_the_cache(
    demo: IndexTree, server: IndexServer, client: HttpClient
) -> None:
    server.faults["/simple/demo/"] = Fault("malformed", times=1)
    source = _index(server, client)
    with pytest.raises(IndexResponseError):
        source.project("demo")
    assert source.project("demo") is not None


@pytest.mark.parametrize("mode", ["json", "html"])
def test_yanked_file_is_marked_with_its_reason(
    demo: IndexTree, server: IndexServer, client: HttpClient, mode: str
) -> None:
    server.mode = mode  # type: ignore[assignment]
    server.yanked["demo-1.0-py3-none-any.whl"] = "bad release"
    page = _index(server, client).project("demo")
    assert page is not None
    yanked = {f.filename: (f.yanked, f.yanked_reason) for f in page.files}
    assert yanked["demo-1.0-py3-none-any.whl"] == (True, "bad release")
    assert yanked["demo-3.0-py3-none-any.whl"] == (False, None)


@pytest.mark.parametrize("mode", ["json", "html"])
def test_quarantined_project_offers_nothing(
    demo: IndexTree, server: IndexServer, client: HttpClient, mode: str
) -> None:
    server.mode = mode  # type: ignore[assignment]
    server.project_status["demo"] = ("quarantined", "malware reported")
    page = _index(server, client).project("demo")
    assert page is not None
    assert page.status is ProjectStatus.QUARANTINED and page.files == ()


def test_requires_python_reaches_the_model(
    demo: IndexTree, server: IndexServer, client: HttpClient
) -> None:
    server.mode = "html"
    server.requires_python["demo-3.0-py3-none-any.whl"] = ">=3.99,<4"
    page = _index(server, client).project("demo")
    assert page is not None
    by_name = {f.filename: f.requires_python for f in page.files}
    assert by_name["demo-3.0-py3-none-any.whl"] == ">=3.99,<4"


def test_variant_metadata_of_a_version_is_read_from_the_index(
    demo: IndexTree, server: IndexServer, client: HttpClient
) -> None:
    source = _index(server, client)
    page = source.project("demo")
    assert page is not None
    metadata = source.variant_metadata(page, Version("2.0"))
    assert metadata is not None
    assert metadata.labels() == ("cu12", "null")
    assert source.variant_metadata(page, Version("1.0")) is None


def test_variant_wheel_without_variants_file_is_unusable_and_warned_about(
    tree: IndexTree, server: IndexServer, client: HttpClient, caplog: pytest.LogCaptureFixture
) -> None:
    tree.add_wheel("lone", "1.0", label="cu12", variant=CUDA)
    tree.add_wheel("lone", "1.0")
    source = _index(server, client)
    page = source.project("lone")
    assert page is not None
    with caplog.at_level(logging.WARNING):
        offer = source.offer(page)
    candidates, warnings = offer.all(), offer.warnings
    verdicts = {c.file.filename: c.unusable for c in candidates}
    assert verdicts["lone-1.0-py3-none-any.whl"] is None
    reason = verdicts["lone-1.0-py3-none-any-cu12.whl"]
    assert reason is not None and "lone-1.0-variants.json" in reason
    assert any("lone-1.0-variants.json" in w for w in warnings)


def test_variants_file_with_wrong_hash_is_rejected(
    demo: IndexTree, server: IndexServer, client: HttpClient
) -> None:
    server.faults["/files/demo/demo-2.0-variants.json"] = Fault("wrong-hash")
    source = _index(server, client)
    page = source.project("demo")
    assert page is not None
    with pytest.raises(HashMismatch):
        source.variant_metadata(page, Version("2.0"))


# --- flat page ------------------------------------------------------------------------------


def test_flat_page_offers_only_the_requested_name(
    demo: IndexTree, server: IndexServer, client: HttpClient
) -> None:
    demo.add_wheel("other", "1.0")
    flat = FlatPageSource(server.flat_url, client)
    page = flat.project("demo")
    assert page is not None
    assert {f.name for f in page.files} == {"demo"}
    assert flat.project("absent") is None
    assert len(server.requests_for("/flat/")) == 1


def test_flat_page_metadata_files_are_used(
    demo: IndexTree, server: IndexServer, client: HttpClient
) -> None:
    flat = FlatPageSource(server.flat_url, client)
    page = flat.project("demo")
    assert page is not None
    file = next(f for f in page.files if f.version == Version("1.0"))
    assert b"Requires-Dist: dep>=2" in flat.core_metadata(file)
    assert server.requests_for("/files/demo/demo-1.0-py3-none-any.whl") == []


# --- find-links directory -------------------------------------------------------------------


def test_find_links_directory_lists_local_wheels(tmp_path: Path) -> None:
    build_wheel(tmp_path / "wheels", "demo", "1.0")
    build_wheel(tmp_path / "wheels" / "nested", "demo", "1.1")
    build_wheel(tmp_path / "wheels", "other", "1.0")
    source = FindLinksDirectory(tmp_path / "wheels")
    page = source.project("Demo")
    assert page is not None
    assert sorted(str(f.version) for f in page.files) == ["1.0", "1.1"]
    assert source.project("absent") is None


def test_find_links_core_metadata_is_read_from_the_wheel(tmp_path: Path) -> None:
    built = build_wheel(tmp_path, "demo", "1.0", requires_dist=["dep"])
    source = FindLinksDirectory(tmp_path)
    page = source.project("demo")
    assert page is not None
    assert source.core_metadata(page.files[0]) == built.metadata


def test_find_links_merges_variant_metadata_from_the_wheels(tmp_path: Path) -> None:
    rocm = {"amd": {"gfx_arch": ["gfx90a"]}}
    both = ["nvidia", "amd"]
    build_wheel(
        tmp_path,
        "demo",
        "2.0",
        label="cu12",
        variant_json=variant_document({"cu12": CUDA}, namespaces=both),
    )
    build_wheel(
        tmp_path,
        "demo",
        "2.0",
        label="rocm",
        variant_json=variant_document({"rocm": rocm}, namespaces=both),
    )
    source = FindLinksDirectory(tmp_path)
    page = source.project("demo")
    assert page is not None
    offer = source.offer(page)
    candidates, warnings = offer.all(), offer.warnings
    assert warnings == () and all(c.unusable is None for c in candidates)
    metadata = source.variant_metadata(page, Version("2.0"))
    assert metadata is not None
    assert metadata.labels() == ("cu12", "rocm")
    assert metadata.namespace_priorities == ("nvidia", "amd")


def test_find_links_wheels_that_disagree_give_no_variant_metadata(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Namespace orders ['nvidia'] and ['amd']: neither is a prefix of the other.
    build_wheel(tmp_path, "demo", "2.0", label="cu12", variant=CUDA)
    build_wheel(tmp_path, "demo", "2.0", label="rocm", variant={"amd": {"gfx_arch": ["gfx90a"]}})
    source = FindLinksDirectory(tmp_path)
    page = source.project("demo")
    assert page is not None
    with caplog.at_level(logging.WARNING):
        assert source.variant_metadata(page, Version("2.0")) is None
    assert "disagree" in caplog.text


def test_find_links_prefers_a_variants_file_in_the_directory(tmp_path: Path) -> None:
    build_wheel(tmp_path, "demo", "2.0", label="cu12", variant=CUDA)
    write_variants_json(tmp_path, "demo", "2.0", {"cu12": CUDA, "null": {}})
    source = FindLinksDirectory(tmp_path)
    page = source.project("demo")
    assert page is not None
    metadata = source.variant_metadata(page, Version("2.0"))
    assert metadata is not None and metadata.labels() == ("cu12", "null")
