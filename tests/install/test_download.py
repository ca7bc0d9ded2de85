"""Downloads of a plan: parallel, reported, cached by hash, hash-checked before anything is written.

A real loopback index serves real wheels; installs go into real throw-away virtual environments.
"""

from __future__ import annotations

import hashlib
import shutil
import threading
from pathlib import Path

import httpx
import pytest

from tests.support.index_server import Fault, IndexServer, IndexTree
from tests.support.venvs import Venv
from wheelnext_jupyter.engine import InstallRequest, Progress, install, plan
from wheelnext_jupyter.index.config import IndexOptions
from wheelnext_jupyter.index.errors import HashMismatch, IndexClientError
from wheelnext_jupyter.index.http import HttpClient
from wheelnext_jupyter.index.models import FileKind, IndexFile
from wheelnext_jupyter.install.download import Downloader, WheelCache

SECRET = "s3cret-t0ken-value"


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> IndexTree:
    tree = IndexTree(tmp_path_factory.mktemp("index"))
    # Independent names per test: the wheel cache is shared by the whole test session.
    for prefix in ("par", "cache", "bad", "cred", "retry"):
        tree.add_wheel(
            f"wjd-{prefix}-app", "1.0", requires_dist=[f"wjd-{prefix}-a", f"wjd-{prefix}-b"]
        )
        tree.add_wheel(f"wjd-{prefix}-a", "1.0", files={"blob.bin": b"a" * 300_000})
        tree.add_wheel(f"wjd-{prefix}-b", "1.0")
    tree.add_wheel("wjd-cred-c", "1.0")
    return tree


def request(venv: Venv, index_url: str, profile: str, *names: str) -> InstallRequest:
    return InstallRequest(
        requirements=list(names),
        index=IndexOptions(index_url=index_url),
        python=str(venv.python),
        profile=profile,
    )


def wheel_files(tree: IndexTree, prefix: str) -> dict[str, bytes]:
    found = {}
    for name in ("app", "a", "b"):
        for path in (tree.root / f"wjd-{prefix}-{name}").glob("*.whl"):
            found[path.name] = path.read_bytes()
    return found


def file_requests(server: IndexServer) -> list[str]:
    return [r.path for r in server.requests if r.path.endswith(".whl")]


class BarrierTransport(httpx.HTTPTransport):
    """Holds every wheel request until `parties` of them are in flight at once.

    If downloads ran one after another the barrier would never fill and the request would fail.
    """

    def __init__(self, parties: int) -> None:
        super().__init__()
        self.barrier = threading.Barrier(parties, timeout=30)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith(".whl"):
            self.barrier.wait()
        return super().handle_request(request)


def test_downloads_of_a_plan_run_at_the_same_time(server, tree, venv, profile, tmp_path):
    result = plan(request(venv, server.index_url, profile, "wjd-par-app"))
    with HttpClient(transport=BarrierTransport(parties=3), retries=0) as client:
        done = install(result, client=client)
    assert sorted(done.installed) == ["wjd-par-a 1.0", "wjd-par-app 1.0", "wjd-par-b 1.0"]


def test_progress_reports_every_file_once_and_every_byte(server, tree, venv, profile):
    events: list[Progress] = []
    result = plan(request(venv, server.index_url, profile, "wjd-par-app"))
    install(result, progress=events.append)
    expected = wheel_files(tree, "par")
    downloads = [e for e in events if e.phase == "download"]
    finished = [e.filename for e in downloads if e.file_finished]
    assert sorted(finished) == sorted(expected)
    assert [e.files_done for e in downloads if e.file_finished] == [1, 2, 3]
    total = sum(len(data) for data in expected.values())
    assert downloads[-1].bytes_done == total
    assert all(e.bytes_total == total for e in downloads)
    byte_counts = [e.bytes_done for e in downloads]
    assert byte_counts == sorted(byte_counts)
    assert [e.phase for e in events if e.phase != "download"][-1] == "done"
    assert sum(1 for e in events if e.phase == "verify") == 3


def test_a_second_install_takes_every_file_from_the_cache(
    server, venv, venv_template, tmp_path, profile
):
    install(plan(request(venv, server.index_url, profile, "wjd-cache-app")))
    assert len(file_requests(server)) == 3
    other = Venv(tmp_path / "second")
    shutil.copytree(venv_template, other.root, symlinks=True)
    result = plan(request(other, server.index_url, profile, "wjd-cache-app"))
    server.requests.clear()
    events: list[Progress] = []
    done = install(result, progress=events.append)
    assert file_requests(server) == []
    assert len(done.installed) == 3
    assert all(e.cached for e in events if e.phase == "download" and e.file_finished)
    assert other.run("-c", "import wjd_cache_app, wjd_cache_a, wjd_cache_b").returncode == 0


def test_a_hash_mismatch_aborts_before_the_environment_changes(server, venv, profile):
    server.faults["/files/wjd-bad-b/wjd_bad_b-1.0-py3-none-any.whl"] = Fault("wrong-hash")
    result = plan(request(venv, server.index_url, profile, "wjd-bad-app"))
    before = venv.listing()
    with pytest.raises(HashMismatch) as caught:
        install(result)
    message = str(caught.value)
    assert "wjd_bad_b-1.0-py3-none-any.whl" in message
    assert "index" in message and server.index_url.rstrip("/") in message
    assert venv.listing() == before


def test_credentials_reach_the_server_but_no_message(tree, venv, profile):
    with IndexServer(tree.root, credentials=("user", SECRET)) as server:
        url = server.url_with_credentials("/simple/")
        server.faults["/files/wjd-cred-b/wjd_cred_b-1.0-py3-none-any.whl"] = Fault("wrong-hash")
        events: list[Progress] = []
        result = plan(request(venv, url, profile, "wjd-cred-app"))
        with pytest.raises(HashMismatch) as mismatch:
            install(result, progress=events.append)
        server.faults.clear()
        server.faults["/files/wjd-cred-c/wjd_cred_c-1.0-py3-none-any.whl"] = Fault("status", 403)
        second = plan(request(venv, url, profile, "wjd-cred-c"))
        with pytest.raises(IndexClientError) as refused:
            install(second, progress=events.append)
        authorised = [r for r in server.requests if r.path.endswith(".whl") and r.status == 200]
    assert authorised, "the file requests must carry the index's credentials"
    for text in (str(mismatch.value), str(refused.value), *(repr(e) for e in events)):
        assert SECRET not in text
    assert "403" in str(refused.value)


def test_a_truncated_transfer_is_retried_and_completes(server, venv, profile):
    server.faults["/files/wjd-retry-a/wjd_retry_a-1.0-py3-none-any.whl"] = Fault(
        "truncate", times=1
    )
    done = install(plan(request(venv, server.index_url, profile, "wjd-retry-app")))
    assert "wjd-retry-a 1.0" in done.installed
    assert venv.run("-c", "import wjd_retry_a").returncode == 0


def index_file(path: Path, url: str, sha256: str) -> IndexFile:
    from packaging.utils import canonicalize_name
    from packaging.version import Version

    return IndexFile(
        filename=path.name,
        url=url,
        hashes={"sha256": sha256},
        kind=FileKind.WHEEL,
        name=canonicalize_name("wjd-par-b"),
        version=Version("1.0"),
    )


def test_a_leftover_partial_file_does_not_corrupt_the_download(server, tree, tmp_path):
    path = next((tree.root / "wjd-par-b").glob("*.whl"))
    data = path.read_bytes()
    sha256 = hashlib.sha256(data).hexdigest()
    cache = WheelCache(tmp_path / "wheels")
    partial = cache.partial(sha256)
    partial.parent.mkdir(parents=True)
    partial.write_bytes(b"garbage from an interrupted run")
    with HttpClient() as client:
        got = Downloader(client, cache).fetch(
            index_file(path, f"{server.url}/files/wjd-par-b/{path.name}", sha256), source="test"
        )
    assert got.path.read_bytes() == data
    assert got.path == tmp_path / "wheels" / sha256[:2] / sha256 / path.name
    assert not partial.exists()


def test_fetch_reports_every_byte_and_returns_the_cached_file(server, tree, tmp_path):
    path = next((tree.root / "wjd-par-a").glob("*.whl"))
    sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
    seen: list[int] = []
    with HttpClient() as client:
        got = Downloader(client, WheelCache(tmp_path / "wheels")).fetch(
            index_file(path, f"{server.url}/files/wjd-par-a/{path.name}", sha256),
            source="test",
            on_bytes=seen.append,
        )
    assert got.sha256 == sha256 and got.size == path.stat().st_size
    assert sum(seen) == path.stat().st_size
