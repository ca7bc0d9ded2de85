"""Wheels start downloading while the resolver is still resolving, and the install takes them over."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.support.index_server import Fault, IndexServer, IndexTree
from tests.support.venvs import Venv
from tests.support.wheels import sha256_hex
from wheelnext_jupyter import engine
from wheelnext_jupyter.engine import InstallRequest, Progress, install, plan
from wheelnext_jupyter.index import sources
from wheelnext_jupyter.index.config import IndexOptions
from wheelnext_jupyter.index.errors import HashMismatch
from wheelnext_jupyter.index.http import HttpClient
from wheelnext_jupyter.index.models import FileKind, IndexFile
from wheelnext_jupyter.index.priority import SourceSet
from wheelnext_jupyter.install.download import (
    BytesCallback,
    DownloadCancelled,
    Downloader,
    FetchedFile,
    WheelCache,
)
from wheelnext_jupyter.install.externally_managed import ExternallyManagedEnvironment
from wheelnext_jupyter.install.prefetch import Prefetcher
from wheelnext_jupyter.install.staging import StagingArea, staging_root
from wheelnext_jupyter.install.target import EnvironmentKind, TargetEnvironment, probe_target
from wheelnext_jupyter.paths import cache_dir
from wheelnext_jupyter.record import replace
from wheelnext_jupyter.resolve import provider


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> IndexTree:
    tree = IndexTree(tmp_path_factory.mktemp("index"))
    # Names of their own: the wheel cache is shared by the whole test session.
    tree.add_wheel("wjp-early-a", "1.0", requires_dist=["wjp-early-b"])
    tree.add_wheel("wjp-early-b", "1.0", requires_dist=["wjp-early-c"])
    tree.add_wheel("wjp-early-c", "1.0")
    for prefix in ("once", "dry", "bad"):
        tree.add_wheel(f"wjp-{prefix}-app", "1.0", requires_dist=[f"wjp-{prefix}-lib"])
        tree.add_wheel(f"wjp-{prefix}-lib", "1.0", files={"blob.bin": b"x" * 200_000})
    tree.add_wheel("wjp-cancel-app", "1.0")
    tree.add_wheel("wjp-late-app", "1.0")
    tree.add_wheel("wjp-noop-app", "1.0")
    # More wheels than there are threads downloading or unpacking.
    busy = [f"wjp-busy-lib{i}" for i in range(7)]
    tree.add_wheel("wjp-busy-app", "1.0", requires_dist=busy)
    for name in busy:
        tree.add_wheel(name, "1.0")
    for name in ("wjp-order-first", "wjp-order-small0", "wjp-order-small1"):
        tree.add_wheel(name, "1.0")
    tree.add_wheel("wjp-order-big", "1.0", files={"blob.bin": os.urandom(300_000)})
    tree.add_wheel("wjp-guess-app", "1.0", requires_dist=["wjp-guess-lib"])
    tree.add_wheel("wjp-guess-lib", "1.0")
    tree.add_wheel("wjp-guess-lib", "2.0")
    # An index that publishes no metadata files: the resolver reads the wheels themselves.
    tree.add_wheel("wjp-nometa-app", "1.0", requires_dist=["wjp-nometa-lib"], metadata_file=False)
    tree.add_wheel("wjp-nometa-lib", "1.0", requires_dist=["wjp-nometa-leaf"], metadata_file=False)
    tree.add_wheel("wjp-nometa-leaf", "1.0", metadata_file=False)
    tree.add_wheel("wjp-ranged-app", "1.0", requires_dist=["wjp-ranged-lib"], metadata_file=False)
    tree.add_wheel("wjp-ranged-lib", "1.0", requires_dist=["wjp-ranged-leaf"], metadata_file=False)
    tree.add_wheel("wjp-ranged-leaf", "1.0", metadata_file=False)
    tree.add_wheel("wjp-asked-app", "1.0")
    tree.add_wheel("wjp-kept-app", "1.0")
    for prefix in ("ahead", "pyc", "pep668", "nowrite", "noahead"):
        tree.add_wheel(f"wjp-{prefix}-app", "1.0", requires_dist=[f"wjp-{prefix}-lib"])
        tree.add_wheel(f"wjp-{prefix}-lib", "1.0", requires_dist=[f"wjp-{prefix}-leaf"])
        tree.add_wheel(f"wjp-{prefix}-leaf", "1.0")
    return tree


def _request(venv: Venv, server: IndexServer, profile: str, name: str) -> InstallRequest:
    return InstallRequest(
        requirements=[name],
        index=IndexOptions(index_url=server.index_url),
        python=str(venv.python),
        profile=profile,
    )


def _answered(server: IndexServer) -> list[str]:
    return [r.path for r in server.requests]


def _wheel(tree: IndexTree, name: str) -> Path:
    (path,) = (tree.root / name).glob("*.whl")
    return path


def test_a_pinned_wheel_downloads_while_the_resolver_waits_for_the_next_page(
    venv: Venv, server: IndexServer, tree: IndexTree, profile: str
) -> None:
    server.faults["/simple/wjp-early-c/"] = Fault("slow", delay=1.0)
    result = plan(_request(venv, server, profile, "wjp-early-a"), prefetch=True)
    result.close()
    answered = _answered(server)
    wheel = f"/files/wjp-early-a/{_wheel(tree, 'wjp-early-a').name}"
    # Requests are recorded when answered: the wheel came back while c's page was held.
    assert answered.index(wheel) < answered.index("/simple/wjp-early-c/")


def test_the_install_takes_over_prefetched_downloads_without_asking_again(
    venv: Venv, server: IndexServer, tree: IndexTree, profile: str
) -> None:
    events: list[Progress] = []
    result = plan(_request(venv, server, profile, "wjp-once-app"), prefetch=True)
    install(result, progress=events.append)
    wheels = [path for path in _answered(server) if path.endswith(".whl")]
    assert sorted(wheels) == sorted(set(wheels)) and len(wheels) == 2
    downloads = [e for e in events if e.phase == "download"]
    # Every byte is reported, whether it arrived before the install asked or after.
    assert downloads[-1].bytes_done == downloads[-1].bytes_total
    assert downloads[-1].files_done == 2
    assert venv.run("-c", "import wjp_once_app, wjp_once_lib").returncode == 0


def test_a_plan_without_prefetch_downloads_no_wheel(
    venv: Venv, server: IndexServer, profile: str
) -> None:
    result = plan(_request(venv, server, profile, "wjp-dry-app"))
    assert [p.name for p in result.plan.to_install] == ["wjp-dry-app", "wjp-dry-lib"]
    assert not [path for path in _answered(server) if path.endswith(".whl")]


def test_downloads_no_install_takes_over_are_cancelled_and_not_cached(
    venv: Venv, server: IndexServer, tree: IndexTree, profile: str
) -> None:
    wheel = _wheel(tree, "wjp-cancel-app")
    server.faults[f"/files/wjp-cancel-app/{wheel.name}"] = Fault("slow", delay=0.5, times=1)
    result = plan(_request(venv, server, profile, "wjp-cancel-app"), prefetch=True)
    started = time.monotonic()
    result.close()
    # Waits for the answer under way, not for anything after it.
    assert time.monotonic() - started < 5
    cache = WheelCache(cache_dir() / "wheels")
    assert cache.lookup(sha256_hex(wheel.read_bytes()), wheel.name) is None
    # A later install fetches it normally.
    done = install(plan(_request(venv, server, profile, "wjp-cancel-app"), prefetch=True))
    assert done.installed == ("wjp-cancel-app 1.0",)


def test_a_prefetched_file_with_a_wrong_hash_fails_the_install_with_nothing_written(
    venv: Venv, server: IndexServer, tree: IndexTree, profile: str
) -> None:
    lib = _wheel(tree, "wjp-bad-lib")
    server.faults[f"/files/wjp-bad-lib/{lib.name}"] = Fault("wrong-hash")
    before = venv.listing()
    result = plan(_request(venv, server, profile, "wjp-bad-app"), prefetch=True)
    with pytest.raises(HashMismatch, match=lib.name):
        install(result)
    assert venv.listing() == before


def test_a_plan_closed_before_its_install_still_installs(
    venv: Venv, server: IndexServer, tree: IndexTree, profile: str
) -> None:
    wheel = _wheel(tree, "wjp-late-app")
    server.faults[f"/files/wjp-late-app/{wheel.name}"] = Fault("slow", delay=0.5, times=1)
    result = plan(_request(venv, server, profile, "wjp-late-app"), prefetch=True)
    result.close()  # cancels the download under way
    done = install(result)
    assert done.installed == ("wjp-late-app 1.0",)
    assert venv.run("-c", "import wjp_late_app").returncode == 0


def _count_staging(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    staged: list[str] = []
    original = StagingArea.stage_fetched

    def counting(
        self: StagingArea, fetched: FetchedFile, *args: object, **kwargs: object
    ) -> object:
        staged.append(fetched.filename)
        return original(self, fetched, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(StagingArea, "stage_fetched", counting)
    return staged


def test_wheels_are_unpacked_while_the_resolver_waits_and_not_again(
    venv: Venv, server: IndexServer, profile: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    staged = _count_staging(monkeypatch)
    server.faults["/simple/wjp-ahead-leaf/"] = Fault("slow", delay=1.0)
    result = plan(_request(venv, server, profile, "wjp-ahead-app"), prefetch=True)
    # The first two were pinned, fetched and unpacked while the leaf's page was held.
    assert len(staged) >= 2
    done = install(result)
    assert sorted(done.installed) == [
        "wjp-ahead-app 1.0",
        "wjp-ahead-leaf 1.0",
        "wjp-ahead-lib 1.0",
    ]
    assert len(staged) == 3
    app = venv.site_packages / "wjp_ahead_app-1.0.dist-info"
    assert (app / "REQUESTED").exists()
    assert not (venv.site_packages / "wjp_ahead_lib-1.0.dist-info" / "REQUESTED").exists()
    assert venv.pip("check").returncode == 0


def test_a_wheel_being_unpacked_never_holds_up_the_next_download(
    venv: Venv, server: IndexServer, tree: IndexTree, profile: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = threading.Event()
    original = StagingArea.stage

    def stuck(self: StagingArea, wheel: Path, *args: object, **kwargs: object) -> object:
        release.wait(timeout=30)
        return original(self, wheel, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(StagingArea, "stage", stuck)
    result = plan(_request(venv, server, profile, "wjp-busy-app"), prefetch=True)
    names = ["wjp-busy-app", *(f"wjp-busy-lib{i}" for i in range(7))]
    wheels = {f"/files/{name}/{_wheel(tree, name).name}" for name in names}
    deadline = time.monotonic() + 20
    while not wheels <= set(_answered(server)) and time.monotonic() < deadline:
        time.sleep(0.05)
    # Every wheel arrived while unpacking was stuck on the first ones.
    assert wheels <= set(_answered(server))
    release.set()
    done = install(result)
    assert len(done.installed) == 8
    assert venv.pip("check").returncode == 0


class _GatedDownloader(Downloader):
    """Records the order of downloads; the first one waits for `gate`."""

    def __init__(self, client: HttpClient, cache: WheelCache) -> None:
        super().__init__(client, cache)
        self.order: list[str] = []
        self.gate = threading.Event()
        self.first_started = threading.Event()

    def fetch(
        self, file: IndexFile, *, source: str, on_bytes: BytesCallback | None = None
    ) -> FetchedFile:
        self.order.append(file.filename)
        if len(self.order) == 1:
            self.first_started.set()
            self.gate.wait(timeout=30)
        return super().fetch(file, source=source, on_bytes=on_bytes)


def _index_file(server: IndexServer, name: str, path: Path) -> IndexFile:
    from packaging.utils import canonicalize_name, parse_wheel_filename

    return IndexFile(
        filename=path.name,
        url=f"{server.url}/files/{name}/{path.name}",
        hashes={"sha256": sha256_hex(path.read_bytes())},
        kind=FileKind.WHEEL,
        name=canonicalize_name(name),
        version=parse_wheel_filename(path.name)[1],
        size=path.stat().st_size,
    )


@contextlib.contextmanager
def _one_thread_held(
    tmp_path: Path, first: IndexFile
) -> Iterator[tuple[_GatedDownloader, Prefetcher]]:
    """A prefetcher with one download thread, busy with `first` until `downloader.gate` opens."""
    with HttpClient() as client:
        downloader = _GatedDownloader(client, WheelCache(tmp_path / "wheels"))
        prefetcher = Prefetcher(downloader, unpacking=threading.Semaphore(1), workers=1)
        prefetcher.pinned(first, "test", requested=False)
        assert downloader.first_started.wait(timeout=30)
        yield downloader, prefetcher


def test_of_the_wheels_waiting_to_download_the_largest_goes_first(
    server: IndexServer, tree: IndexTree, tmp_path: Path
) -> None:
    names = ["wjp-order-first", "wjp-order-small0", "wjp-order-small1", "wjp-order-big"]
    files = [_index_file(server, name, _wheel(tree, name)) for name in names]
    with _one_thread_held(tmp_path, files[0]) as (downloader, prefetcher):
        # Pinned in this order while the only download thread is busy.
        for file in files[1:]:
            prefetcher.pinned(file, "test", requested=False)
        downloader.gate.set()
        fetched = [prefetcher.result(file) for file in files]
        prefetcher.close()
    assert downloader.order == [files[i].filename for i in (0, 3, 1, 2)]
    assert [got.path.name for got in fetched] == [file.filename for file in files]


def test_wheels_still_waiting_to_download_when_closed_are_cancelled(
    server: IndexServer, tree: IndexTree, tmp_path: Path
) -> None:
    names = ["wjp-order-first", "wjp-order-small0"]
    files = [_index_file(server, name, _wheel(tree, name)) for name in names]
    with _one_thread_held(tmp_path, files[0]) as (downloader, prefetcher):
        prefetcher.pinned(files[1], "test", requested=False)
        threading.Timer(0.2, downloader.gate.set).start()
        prefetcher.close()
        # Settled, not left for a caller to wait on forever.
        with pytest.raises(DownloadCancelled):
            prefetcher.result(files[1])
        assert prefetcher.staged(files[1]) is None
    assert downloader.order == [files[0].filename]


def test_the_lookaheads_guess_downloads_before_the_resolver_reads_its_metadata(
    venv: Venv, server: IndexServer, tree: IndexTree, profile: str
) -> None:
    (wheel,) = (tree.root / "wjp-guess-lib").glob("*-2.0-*.whl")
    metadata = f"/files/wjp-guess-lib/{wheel.name}.metadata"
    # The resolver pins a version only once it has read its metadata.
    server.faults[metadata] = Fault("slow", delay=1.0)
    result = plan(_request(venv, server, profile, "wjp-guess-app"), prefetch=True)
    try:
        answered = _answered(server)
        assert answered.index(f"/files/wjp-guess-lib/{wheel.name}") < answered.index(metadata)
        done = install(result)
    finally:
        result.close()
    assert sorted(done.installed) == ["wjp-guess-app 1.0", "wjp-guess-lib 2.0"]
    assert [path for path in _answered(server) if path.endswith(".whl")].count(
        f"/files/wjp-guess-lib/{wheel.name}"
    ) == 1


def test_a_guess_the_resolver_pins_is_one_download(
    server: IndexServer, tree: IndexTree, tmp_path: Path
) -> None:
    file = _index_file(server, "wjp-order-small0", _wheel(tree, "wjp-order-small0"))
    with HttpClient() as client:
        downloader = _GatedDownloader(client, WheelCache(tmp_path / "wheels"))
        downloader.gate.set()
        prefetcher = Prefetcher(downloader, unpacking=threading.Semaphore(1), workers=2)
        prefetcher.guessed(file, "test", requested=False)
        prefetcher.pinned(file, "test", requested=False)
        assert prefetcher.result(file).path.name == file.filename
        prefetcher.close()
    assert downloader.order == [file.filename]


def _first_and_two_versions(
    server: IndexServer, tree: IndexTree
) -> tuple[IndexFile, IndexFile, IndexFile]:
    """A wheel to hold the only download thread with, and the old and new wheel of a project."""
    first = _index_file(server, "wjp-order-first", _wheel(tree, "wjp-order-first"))
    old, new = (
        _index_file(server, "wjp-guess-lib", path)
        for path in sorted((tree.root / "wjp-guess-lib").glob("*.whl"))
    )
    return first, old, new


def test_a_guess_still_waiting_when_the_resolver_pins_another_file_is_never_downloaded(
    server: IndexServer, tree: IndexTree, tmp_path: Path
) -> None:
    first, old, new = _first_and_two_versions(server, tree)
    with _one_thread_held(tmp_path, first) as (downloader, prefetcher):
        prefetcher.guessed(new, "test", requested=False)
        prefetcher.pinned(old, "test", requested=False)
        downloader.gate.set()
        assert prefetcher.result(old).path.name == old.filename
        assert not prefetcher.started(new)
        prefetcher.close()
    assert downloader.order == [first.filename, old.filename]


def test_a_file_waited_for_goes_ahead_of_the_wheels_waiting_to_download(
    server: IndexServer, tree: IndexTree, tmp_path: Path
) -> None:
    names = ["wjp-order-first", "wjp-order-big", "wjp-order-small0"]
    files = [_index_file(server, name, _wheel(tree, name)) for name in names]
    with _one_thread_held(tmp_path, files[0]) as (downloader, prefetcher):
        prefetcher.pinned(files[1], "test", requested=False)
        threading.Timer(0.2, downloader.gate.set).start()
        # The resolver waits for this one (the metadata of a wheel without a metadata file).
        got = prefetcher.fetched(files[2], "test", requested=False)
        assert prefetcher.result(files[1]).path.name == files[1].filename
        prefetcher.close()
    assert got.path is not None and got.path.name == files[2].filename
    assert downloader.order == [files[i].filename for i in (0, 2, 1)]


def test_a_file_in_the_caches_is_here_without_a_request(
    server: IndexServer, tree: IndexTree, tmp_path: Path
) -> None:
    file = _index_file(server, "wjp-order-small1", _wheel(tree, "wjp-order-small1"))
    with HttpClient() as client:
        downloader = Downloader(client, WheelCache(tmp_path / "wheels"))
        prefetcher = Prefetcher(downloader, unpacking=threading.Semaphore(1), workers=1)
        assert prefetcher.local(file) is None
        downloader.fetch(file, source="test")
        server.requests.clear()
        here = prefetcher.local(file)
        prefetcher.close()
    assert here is not None and here.from_cache
    assert not server.requests


def test_a_pin_goes_on_while_the_staging_area_is_being_made(
    venv: Venv, server: IndexServer, tree: IndexTree, tmp_path: Path
) -> None:
    target = probe_target(venv.python)
    making, release = threading.Event(), threading.Event()

    def slow_area() -> StagingArea:
        making.set()
        assert release.wait(timeout=10)
        return StagingArea(target)

    file = _index_file(server, "wjp-order-small0", _wheel(tree, "wjp-order-small0"))
    with HttpClient() as client:
        downloader = Downloader(client, WheelCache(tmp_path / "wheels"))
        prefetcher = Prefetcher(
            downloader, unpacking=threading.Semaphore(1), make_area=slow_area, workers=1
        )
        # Returns while the area is still being made (it waits for `release`).
        prefetcher.pinned(file, "test", requested=False)
        assert making.wait(timeout=10)
        release.set()
        area = prefetcher.area
        assert area is not None
        staged = prefetcher.staged(file)
        assert staged is not None
        assert all(source.is_relative_to(area.directory) for source, _ in staged.trees)
        prefetcher.close()
    assert not area.directory.exists()


def test_a_guess_waited_for_is_downloaded_when_the_resolver_pins_another_file(
    server: IndexServer, tree: IndexTree, tmp_path: Path
) -> None:
    first, old, new = _first_and_two_versions(server, tree)
    with _one_thread_held(tmp_path, first) as (downloader, prefetcher):
        prefetcher.guessed(new, "test", requested=False)
        with ThreadPoolExecutor(1) as pool:
            waiting = pool.submit(prefetcher.fetched, new, "test", requested=False)
            prefetcher.pinned(old, "test", requested=False)
            downloader.gate.set()
            # Never left waiting for a download that was dropped.
            assert waiting.result(timeout=30).path.name == new.filename
        assert prefetcher.result(old).path.name == old.filename
        prefetcher.close()
    assert sorted(downloader.order) == sorted([first.filename, old.filename, new.filename])


def test_a_file_queued_again_for_a_waiter_is_settled_once_when_closed(
    server: IndexServer, tree: IndexTree, tmp_path: Path
) -> None:
    first, queued = (
        _index_file(server, name, _wheel(tree, name))
        for name in ("wjp-order-first", "wjp-order-small0")
    )
    with _one_thread_held(tmp_path, first) as (downloader, prefetcher):
        prefetcher.guessed(queued, "test", requested=False)
        with ThreadPoolExecutor(1) as pool:
            waiting = pool.submit(prefetcher.fetched, queued, "test", requested=False)
            threading.Timer(0.2, downloader.gate.set).start()
            prefetcher.close()
            with pytest.raises(DownloadCancelled):
                waiting.result(timeout=30)
    assert downloader.order == [first.filename]


def test_wheels_without_metadata_files_are_downloaded_once_for_the_plan_and_the_install(
    venv: Venv, server: IndexServer, tree: IndexTree, profile: str
) -> None:
    result = plan(_request(venv, server, profile, "wjp-nometa-app"), prefetch=True)
    done = install(result)
    assert sorted(done.installed) == [
        "wjp-nometa-app 1.0",
        "wjp-nometa-leaf 1.0",
        "wjp-nometa-lib 1.0",
    ]
    downloads = [r for r in server.requests if r.path.endswith(".whl")]
    whole = [r.path for r in downloads if "range" not in r.headers]
    assert sorted(whole) == sorted(
        f"/files/{name}/{_wheel(tree, name).name}"
        for name in ("wjp-nometa-app", "wjp-nometa-lib", "wjp-nometa-leaf")
    )
    # Small wheels are read from their downloads, never from their ends.
    assert not [r for r in downloads if "range" in r.headers]
    assert not [path for path in _answered(server) if path.endswith(".metadata")]
    assert venv.run("-c", "import wjp_nometa_app, wjp_nometa_leaf").returncode == 0


def test_without_metadata_files_the_lookahead_reads_the_ends_of_large_wheels_first(
    venv: Venv, tree: IndexTree, profile: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every wheel counts as large here.
    monkeypatch.setattr(provider, "PEEK_BY_RANGES_FROM", 0)
    read_from_ends: list[bytes | None] = []
    original = sources._HttpSource.metadata_from_ranges

    def recorded(self: sources._HttpSource, file: IndexFile) -> bytes | None:
        read_from_ends.append(original(self, file))
        return read_from_ends[-1]

    monkeypatch.setattr(sources._HttpSource, "metadata_from_ranges", recorded)
    names = ("wjp-ranged-app", "wjp-ranged-lib", "wjp-ranged-leaf")
    wheels = sorted(f"/files/{name}/{_wheel(tree, name).name}" for name in names)
    with IndexServer(tree.root, ranges=True) as server:
        result = plan(_request(venv, server, profile, "wjp-ranged-app"), prefetch=True)
        done = install(result)
    assert sorted(done.installed) == [
        "wjp-ranged-app 1.0",
        "wjp-ranged-leaf 1.0",
        "wjp-ranged-lib 1.0",
    ]
    # Guesses come from the ends of the wheels (range requests: not hash-checked); what the
    # resolver decides from, and installs, is each whole wheel, downloaded once.
    ranged = {r.path for r in server.requests if r.status == 206}
    whole = [r.path for r in server.requests if r.status == 200 and r.path.endswith(".whl")]
    assert ranged and ranged <= set(wheels)
    assert sorted(whole) == wheels
    # The ends gave the wheels' own METADATA, not just answers to range requests.
    assert any(text and b"Name: wjp-ranged-" in text for text in read_from_ends)


def test_an_install_with_bytecode_unpacks_again_with_it(
    venv: Venv, server: IndexServer, profile: str
) -> None:
    result = plan(_request(venv, server, profile, "wjp-pyc-app"), prefetch=True)
    install(result, compile_bytecode=True)
    assert list((venv.site_packages / "wjp_pyc_lib" / "__pycache__").glob("*.pyc"))


def test_nothing_is_staged_ahead_in_an_externally_managed_environment(
    venv: Venv, server: IndexServer, profile: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = probe_target(venv.python)
    stdlib = venv.root / "fake-stdlib"
    stdlib.mkdir()
    (stdlib / "EXTERNALLY-MANAGED").write_text("[externally-managed]\nError = Use apt.\n")
    marked: TargetEnvironment = replace(real, kind=EnvironmentKind.SYSTEM, stdlib=stdlib)
    monkeypatch.setattr(engine, "target_environment", lambda request: marked)
    before = venv.listing()
    result = plan(_request(venv, server, profile, "wjp-pep668-app"), prefetch=True)
    assert result.prefetched is not None and result.prefetched.area is None
    with pytest.raises(ExternallyManagedEnvironment, match="Use apt"):
        install(result)
    assert venv.listing() == before


def test_a_staging_area_that_cannot_be_made_while_resolving_leaves_it_to_the_install(
    venv: Venv, server: IndexServer, profile: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = StagingArea.__init__
    refusals = [OSError(30, "Read-only file system")]

    def once_refused(self: StagingArea, *args: object, **kwargs: object) -> None:
        if refusals:
            raise refusals.pop()
        original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(StagingArea, "__init__", once_refused)
    result = plan(_request(venv, server, profile, "wjp-nowrite-app"), prefetch=True)
    assert result.prefetched is not None and result.prefetched.area is None
    done = install(result)
    assert "wjp-nowrite-app 1.0" in done.installed


def test_without_stage_ahead_wheels_are_only_downloaded_while_resolving(
    venv: Venv, server: IndexServer, profile: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    staged = _count_staging(monkeypatch)
    request = _request(venv, server, profile, "wjp-noahead-app")
    result = plan(request, prefetch=True, stage_ahead=False)
    assert result.prefetched is not None and result.prefetched.area is None
    assert staged == []
    install(result, compile_bytecode=True)
    assert len(staged) == 3  # each wheel unpacked once, with its bytecode
    assert list((venv.site_packages / "wjp_noahead_lib" / "__pycache__").glob("*.pyc"))


def test_a_plan_with_nothing_to_install_writes_nothing_into_the_environment(
    venv: Venv, server: IndexServer, profile: str
) -> None:
    install(plan(_request(venv, server, profile, "wjp-noop-app")))
    before = venv.listing()
    result = plan(_request(venv, server, profile, "wjp-noop-app"), prefetch=True)
    assert result.plan.to_install == ()
    # Checked while the plan is still open: no staging area was made for it.
    assert not staging_root(probe_target(venv.python)).exists()
    result.close()
    assert venv.listing() == before


# --- pages asked for ahead of the resolver ---------------------------------------------------


@pytest.fixture
def asked(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names the plan asks ahead for (each is still asked)."""
    names: list[str] = []
    real = SourceSet.ask_ahead

    def spy(self: SourceSet, wanted: Iterable[str]) -> None:
        wanted = list(wanted)
        names.extend(wanted)
        real(self, wanted)

    monkeypatch.setattr(SourceSet, "ask_ahead", spy)
    return names


def test_the_page_of_a_requested_project_is_asked_for_as_the_plan_starts(
    venv: Venv, server: IndexServer, profile: str, asked: list[str]
) -> None:
    result = plan(_request(venv, server, profile, "wjp-asked-app"))
    assert [p.name for p in result.plan.to_install] == ["wjp-asked-app"]
    assert asked == ["wjp-asked-app"]
    assert _answered(server).count("/simple/wjp-asked-app/") == 1


def test_planning_an_installed_requirement_again_asks_the_index_nothing(
    venv: Venv, server: IndexServer, profile: str, asked: list[str]
) -> None:
    install(plan(_request(venv, server, profile, "wjp-kept-app"), prefetch=True))
    server.requests.clear()
    asked.clear()
    result = plan(_request(venv, server, profile, "wjp-kept-app"))
    assert not result.plan.to_install
    assert asked == []
    assert _answered(server) == []
    # Asked to upgrade it, the plan needs the page: it is asked for at once.
    upgrade = _request(venv, server, profile, "wjp-kept-app")
    upgrade.upgrade = True
    plan(upgrade)
    assert asked == ["wjp-kept-app"]


def test_a_requested_project_its_marker_leaves_out_is_not_asked_ahead(
    venv: Venv, server: IndexServer, profile: str, asked: list[str]
) -> None:
    result = plan(_request(venv, server, profile, "wjp-asked-app; sys_platform == 'plan9'"))
    assert not result.plan.to_install
    assert asked == []
    assert "/simple/wjp-asked-app/" not in _answered(server)
