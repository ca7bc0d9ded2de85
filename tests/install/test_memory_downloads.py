"""Wheels unpacked into the unpacked cache are downloaded into memory: no wheel file is written,
and the cache entry stands in for the file from then on.

A real loopback index serves real wheels; installs go into real throw-away virtual environments.
"""

from __future__ import annotations

import hashlib
import json
import marshal
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pytest
from packaging.utils import canonicalize_name
from packaging.version import Version

from tests.support.index_server import Fault, IndexServer, IndexTree
from tests.support.venvs import Venv
from wheelnext_jupyter.engine import InstallRequest, InstallResult, install, plan
from wheelnext_jupyter.index.config import IndexOptions
from wheelnext_jupyter.index.errors import HashMismatch
from wheelnext_jupyter.index.http import HttpClient
from wheelnext_jupyter.index.models import FileKind, IndexFile
from wheelnext_jupyter.index.transfer import Transfer
from wheelnext_jupyter.install import download
from wheelnext_jupyter.install.download import Downloader, FetchedFile, WheelCache
from wheelnext_jupyter.install.staging import StagingArea
from wheelnext_jupyter.install.target import probe_target
from wheelnext_jupyter.install.unpacked_cache import MANIFEST, EntryDraft, UnpackedCache
from wheelnext_jupyter.install.uv_backend import UvNotFound, find_uv
from wheelnext_jupyter.paths import cache_dir

# A cache of each test's own: what one test leaves there must not serve another.
pytestmark = pytest.mark.usefixtures("private_cache_dir")

MODULE_TEXT = b"VALUE = 'from the wheel'\n" * 2000


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> IndexTree:
    tree = IndexTree(tmp_path_factory.mktemp("index"))
    # Names of their own: the caches are shared by the whole test session.
    for prefix in ("mem", "free", "warm", "stale", "uv", "keep", "old", "json", "lock"):
        tree.add_wheel(f"wjm-{prefix}", "1.0", files={f"wjm_{prefix}/data.py": MODULE_TEXT})
    # Data that does not compress: a wheel of several mebibytes, read in several blocks.
    noise = b"".join(hashlib.sha256(str(n).encode()).digest() for n in range(100_000))
    tree.add_wheel("wjm-big", "1.0", files={"wjm_big/noise.bin": noise})
    return tree


@pytest.fixture
def uv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """uv with a cache of the test's own; the test is skipped where uv is not installed."""
    try:
        find_uv()
    except UvNotFound:
        pytest.skip("uv is not installed")
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "uv-cache"))


@dataclass
class Installs:
    """Installs from the loopback index, each into a fresh copy of the template environment."""

    server: IndexServer
    profile: str
    venv_template: Path
    tmp_path: Path
    made: int = 0

    def fresh_venv(self) -> Venv:
        self.made += 1
        venv = Venv(self.tmp_path / f"venv-{self.made}")
        shutil.copytree(self.venv_template, venv.root, symlinks=True)
        return venv

    def run(self, name: str, *, installer: str = "wheelnext") -> tuple[Venv, InstallResult]:
        """Plan (fetching ahead, as the magic does) and install `name` into a fresh environment;
        the server's requests are counted from here."""
        venv = self.fresh_venv()
        self.server.requests.clear()
        request = InstallRequest(
            requirements=[name],
            index=IndexOptions(index_url=self.server.index_url),
            python=str(venv.python),
            profile=self.profile,
        )
        result = plan(request, prefetch=True, stage_ahead=installer != "uv", installer=installer)
        return venv, install(result, installer=installer)

    def wheel_requests(self) -> list[str]:
        return [r.path for r in self.server.requests if r.path.endswith(".whl")]


@pytest.fixture
def installs(server: IndexServer, profile: str, venv_template: Path, tmp_path: Path) -> Installs:
    return Installs(server, profile, venv_template, tmp_path)


def _wheel(tree: IndexTree, name: str) -> Path:
    return next((tree.root / name).glob("*.whl"))


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _unpacked() -> UnpackedCache:
    return UnpackedCache(cache_dir() / "unpacked")


def _wheel_file_cached(path: Path) -> bool:
    return WheelCache(cache_dir() / "wheels").lookup(_sha256(path), path.name) is not None


@pytest.mark.usefixtures("unpacker")
def test_a_wheel_unpacked_into_the_cache_is_not_also_kept_as_a_file(
    installs: Installs, tree: IndexTree
) -> None:
    venv, done = installs.run("wjm-mem")
    assert done.installed == ("wjm-mem 1.0",)
    wheel = _wheel(tree, "wjm-mem")
    assert _unpacked().lookup(_sha256(wheel)) is not None
    assert not _wheel_file_cached(wheel)
    assert venv.run("-c", "import wjm_mem.data as d; print(d.VALUE)").stdout.strip() == (
        "from the wheel"
    )
    assert done.wheels[0].path is None
    assert done.wheels[0].sha256 == _sha256(wheel)
    assert done.wheels[0].size == wheel.stat().st_size


def test_the_memory_of_every_download_is_freed_by_the_end_of_the_install(
    installs: Installs, monkeypatch: pytest.MonkeyPatch
) -> None:
    kept: list[FetchedFile] = []
    fetch_into_memory = Downloader._fetch_into_memory

    def keeping(self: Downloader, *args: Any, **kwargs: Any) -> FetchedFile:
        got = fetch_into_memory(self, *args, **kwargs)
        kept.append(got)
        return got

    monkeypatch.setattr(Downloader, "_fetch_into_memory", keeping)
    installs.run("wjm-free")
    assert kept
    assert all(got.content is not None and got.content.closed for got in kept)


@pytest.mark.usefixtures("unpacker")
def test_the_next_install_links_from_the_entry_without_a_request(installs: Installs) -> None:
    first, _ = installs.run("wjm-warm")
    second, _ = installs.run("wjm-warm")
    assert installs.wheel_requests() == []
    module = "wjm_warm/data.py"
    assert (first.site_packages / module).samefile(second.site_packages / module)
    assert second.pip("check").returncode == 0
    record = "wjm_warm-1.0.dist-info/RECORD"
    assert (first.site_packages / record).read_text() == (second.site_packages / record).read_text()


def test_an_entry_changed_in_place_is_downloaded_again(installs: Installs, tree: IndexTree) -> None:
    first, _ = installs.run("wjm-stale")
    with (first.site_packages / "wjm_stale" / "data.py").open("ab") as file:
        file.write(b"EDITED = True\n")  # an edit in place changes the cache's inode too
    second, _ = installs.run("wjm-stale")
    assert len(installs.wheel_requests()) == 1
    assert (second.site_packages / "wjm_stale" / "data.py").read_bytes() == MODULE_TEXT
    # The entry was made again and serves the next install.
    assert _unpacked().lookup(_sha256(_wheel(tree, "wjm-stale"))) is not None


@pytest.mark.usefixtures("uv")
def test_uv_gets_a_file_for_a_wheel_kept_only_unpacked(installs: Installs, tree: IndexTree) -> None:
    installs.run("wjm-uv")
    assert not _wheel_file_cached(_wheel(tree, "wjm-uv"))
    venv, done = installs.run("wjm-uv", installer="uv")
    assert done.installed == ("wjm-uv 1.0",)
    assert done.wheels[0].path is not None and done.wheels[0].path.is_file()
    assert venv.run("-c", "import wjm_uv.data").returncode == 0


@pytest.mark.usefixtures("uv")
@pytest.mark.parametrize("first", ["in-memory", "from-entry"])
def test_uv_takes_over_a_plan_whose_wheels_were_fetched_for_the_built_in_installer(
    installs: Installs, tree: IndexTree, first: str
) -> None:
    if first == "from-entry":
        installs.run("wjm-lock")
    venv = installs.fresh_venv()
    # Planned (and fetched ahead) for the built-in installer, then installed with uv.
    request = InstallRequest(
        requirements=["wjm-lock"],
        index=IndexOptions(index_url=installs.server.index_url),
        python=str(venv.python),
        profile=installs.profile,
    )
    done = install(plan(request, prefetch=True), installer="uv")
    assert done.wheels[0].path is not None
    assert done.wheels[0].path.read_bytes() == _wheel(tree, "wjm-lock").read_bytes()
    assert venv.run("-c", "import wjm_lock.data").returncode == 0


def test_a_wheel_whose_entry_cannot_be_made_is_kept_as_a_file(
    installs: Installs, tree: IndexTree, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(EntryDraft, "publish", lambda self: self.discard() or False)
    installs.run("wjm-keep")
    wheel = _wheel(tree, "wjm-keep")
    assert _unpacked().lookup(_sha256(wheel)) is None
    assert _wheel_file_cached(wheel)
    installs.run("wjm-keep")
    assert installs.wheel_requests() == []


def test_an_entry_in_an_older_format_is_replaced(installs: Installs, tree: IndexTree) -> None:
    installs.run("wjm-old")
    manifest = _unpacked().root / _sha256(_wheel(tree, "wjm-old")) / MANIFEST
    document = marshal.loads(manifest.read_bytes())
    manifest.write_bytes(marshal.dumps({"format": 2, "members": document["members"]}))
    venv, _ = installs.run("wjm-old")
    assert len(installs.wheel_requests()) == 1
    assert marshal.loads(manifest.read_bytes())["format"] == document["format"]
    assert venv.run("-c", "import wjm_old.data").returncode == 0


def test_an_entry_with_a_json_manifest_is_replaced(installs: Installs, tree: IndexTree) -> None:
    installs.run("wjm-json")
    entry = _unpacked().root / _sha256(_wheel(tree, "wjm-json"))
    document = marshal.loads((entry / MANIFEST).read_bytes())
    (entry / MANIFEST).unlink()
    (entry / "manifest.json").write_text(json.dumps({**document, "format": 3}))
    venv, _ = installs.run("wjm-json")
    assert len(installs.wheel_requests()) == 1
    assert not (entry / "manifest.json").exists()
    assert marshal.loads((entry / MANIFEST).read_bytes())["format"] == document["format"]
    assert venv.run("-c", "import wjm_json.data").returncode == 0


def _index_file(server: IndexServer, path: Path, *, size: int | None, sha256: str) -> IndexFile:
    name = path.name.split("-")[0].replace("_", "-")
    return IndexFile(
        filename=path.name,
        url=f"{server.url}/files/{name}/{path.name}",
        hashes={"sha256": sha256},
        kind=FileKind.WHEEL,
        name=canonicalize_name(name),
        version=Version("1.0"),
        size=size,
    )


def _downloader(client: HttpClient, tmp_path: Path) -> Downloader:
    return Downloader(
        client, WheelCache(tmp_path / "wheels"), unpacked=UnpackedCache(tmp_path / "unpacked")
    )


def test_a_download_into_memory_holds_exactly_the_published_file(
    server: IndexServer, tree: IndexTree, tmp_path: Path
) -> None:
    path = _wheel(tree, "wjm-mem")
    data = path.read_bytes()
    file = _index_file(server, path, size=len(data), sha256=_sha256(path))
    seen: list[int] = []
    with HttpClient() as client:
        got = _downloader(client, tmp_path).fetch(file, source="test", on_bytes=seen.append)
    assert got.path is None and got.content is not None
    assert bytes(got.content) == data
    assert sum(seen) == len(data)
    assert not (tmp_path / "wheels").exists() or not any((tmp_path / "wheels").rglob("*.whl"))
    got.release()
    assert got.content.closed


def test_a_download_into_memory_is_read_straight_into_its_mapping(
    server: IndexServer, tree: IndexTree, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _wheel(tree, "wjm-big")
    data = path.read_bytes()
    assert len(data) > 3 * (1 << 20)

    def refuse(self: Transfer) -> None:
        raise AssertionError("the body went through a block of its own")

    monkeypatch.setattr(Transfer, "iter_bytes", refuse)
    seen: list[int] = []
    with HttpClient() as client:
        got = _downloader(client, tmp_path).fetch(
            _index_file(server, path, size=len(data), sha256=_sha256(path)),
            source="test",
            on_bytes=seen.append,
        )
    assert got.content is not None and bytes(got.content) == data
    assert sum(seen) == len(data) and len(seen) > 1
    got.release()


@pytest.mark.parametrize("fault", ["chunked", "gzip"])
def test_a_download_into_memory_without_a_length_or_decoded_by_httpx_is_whole(
    server: IndexServer, tree: IndexTree, tmp_path: Path, fault: Literal["chunked", "gzip"]
) -> None:
    path = _wheel(tree, "wjm-big")
    server.faults[f"/files/wjm-big/{path.name}"] = Fault(fault)
    with HttpClient() as client:
        got = _downloader(client, tmp_path).fetch(
            _index_file(server, path, size=path.stat().st_size, sha256=_sha256(path)),
            source="test",
        )
    assert got.content is not None and bytes(got.content) == path.read_bytes()
    got.release()


def test_a_download_into_memory_with_the_wrong_hash_is_refused(
    server: IndexServer, tree: IndexTree, tmp_path: Path
) -> None:
    path = _wheel(tree, "wjm-mem")
    file = _index_file(server, path, size=path.stat().st_size, sha256="0" * 64)
    with HttpClient() as client, pytest.raises(HashMismatch) as caught:
        _downloader(client, tmp_path).fetch(file, source="test")
    assert path.name in str(caught.value)


@pytest.mark.parametrize("difference", [-10, 10], ids=["published-smaller", "published-larger"])
def test_a_file_not_of_its_published_size_is_downloaded_to_disk(
    server: IndexServer, tree: IndexTree, tmp_path: Path, difference: int
) -> None:
    path = _wheel(tree, "wjm-mem")
    size = path.stat().st_size + difference
    file = _index_file(server, path, size=size, sha256=_sha256(path))
    with HttpClient() as client:
        got = _downloader(client, tmp_path).fetch(file, source="test")
    assert got.content is None and got.path is not None
    assert got.path.read_bytes() == path.read_bytes()


def test_files_over_the_limit_or_the_budget_go_to_disk(
    server: IndexServer, tree: IndexTree, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = [_wheel(tree, f"wjm-{name}") for name in ("mem", "warm", "stale")]
    files = [_index_file(server, p, size=p.stat().st_size, sha256=_sha256(p)) for p in paths]
    # Room for the first file only; the third is over the limit for one file.
    monkeypatch.setattr(download, "MEMORY_BUDGET", paths[0].stat().st_size + 1)
    monkeypatch.setattr(download, "MEMORY_FILE_LIMIT", paths[2].stat().st_size - 1)
    with HttpClient() as client:
        downloader = _downloader(client, tmp_path)
        got = [downloader.fetch(file, source="test") for file in files]
    assert [g.content is not None for g in got] == [True, False, False]
    assert [g.path is not None for g in got] == [False, True, True]


def test_a_download_into_memory_cut_short_starts_over(
    server: IndexServer, tree: IndexTree, tmp_path: Path
) -> None:
    path = _wheel(tree, "wjm-mem")
    file = _index_file(server, path, size=path.stat().st_size, sha256=_sha256(path))
    server.faults[f"/files/wjm-mem/{path.name}"] = Fault("truncate", times=1)
    with HttpClient() as client:
        got = _downloader(client, tmp_path).fetch(file, source="test")
    assert got.content is not None and bytes(got.content) == path.read_bytes()
    attempts = [r for r in server.requests if r.path.endswith(path.name)]
    assert len(attempts) == 2
    assert all("range" not in r.headers for r in attempts)


def test_a_file_without_a_published_size_goes_to_disk(
    server: IndexServer, tree: IndexTree, tmp_path: Path
) -> None:
    path = _wheel(tree, "wjm-mem")
    with HttpClient() as client:
        got = _downloader(client, tmp_path).fetch(
            _index_file(server, path, size=None, sha256=_sha256(path)), source="test"
        )
    assert got.path is not None and got.content is None


def test_a_staged_entry_stands_in_for_the_wheel_file(
    server: IndexServer, tree: IndexTree, venv: Venv, tmp_path: Path
) -> None:
    path = _wheel(tree, "wjm-mem")
    file = _index_file(server, path, size=path.stat().st_size, sha256=_sha256(path))
    target = probe_target(venv.python)
    with HttpClient() as client:
        downloader = _downloader(client, tmp_path)
        assert downloader.unpacked is not None
        first = downloader.fetch(file, source="test")
        with StagingArea(target, downloader.unpacked) as area:
            staged = area.stage_fetched(first)
        assert staged.unpacked_entry
        server.requests.clear()
        again = downloader.fetch(file, source="test")
        assert again.entry is not None and again.from_cache and again.size == path.stat().st_size
        assert not [r for r in server.requests if r.path.endswith(".whl")]
        with StagingArea(target, downloader.unpacked) as area:
            linked = area.stage_fetched(again)
            assert linked.unpacked_entry
            assert linked.wheel.entries == staged.wheel.entries
            assert linked.wheel.dist_info == staged.wheel.dist_info
        refetched = downloader.fetch(file, source="test", entries=False)
    assert refetched.entry is None and refetched.content is not None


def _metadata_of(path: Path) -> bytes:
    with zipfile.ZipFile(path) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        return archive.read(name)


def test_the_core_metadata_of_a_fetched_wheel_is_read_where_it_is(
    server: IndexServer,
    tree: IndexTree,
    venv: Venv,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    paths = [_wheel(tree, f"wjm-{name}") for name in ("mem", "warm")]
    files = [_index_file(server, p, size=p.stat().st_size, sha256=_sha256(p)) for p in paths]
    # Room in memory for the first file only: the second goes to disk.
    monkeypatch.setattr(download, "MEMORY_BUDGET", paths[0].stat().st_size + 1)
    with HttpClient() as client:
        downloader = _downloader(client, tmp_path)
        in_memory, on_disk = (downloader.fetch(file, source="test") for file in files)
        assert in_memory.content is not None and on_disk.path is not None
        assert in_memory.core_metadata() == _metadata_of(paths[0])
        assert on_disk.core_metadata() == _metadata_of(paths[1])
        staging = StagingArea(probe_target(venv.python), downloader.unpacked)
        with staging:
            staging.stage_fetched(in_memory, None)
        in_memory.release()
        # Unpacked into the cache: the next fetch is the entry, read without a request.
        server.requests.clear()
        entry = downloader.fetch(files[0], source="test")
    assert entry.entry is not None and not server.requests
    assert entry.core_metadata() == _metadata_of(paths[0])
