"""Wheel downloads read in large blocks over the standard library's client, where it applies.

Every download test goes this way already; here: HTTPS with a trusted and an untrusted
certificate, redirects and where credentials go, proxies, and encoded bodies (left to httpx).
"""

from __future__ import annotations

import base64
import hashlib
import socket
import ssl
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.index_server import TLS_CERT, Fault, IndexServer, IndexTree
from wheelnext_jupyter.index.errors import IndexNetworkError
from wheelnext_jupyter.index.http import HttpClient
from wheelnext_jupyter.index.models import FileKind, IndexFile
from wheelnext_jupyter.install.download import Downloader, FetchedFile, WheelCache


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> IndexTree:
    tree = IndexTree(tmp_path_factory.mktemp("index"))
    # Larger than one block, so a body takes several reads.
    tree.add_wheel("wjt-big", "1.0", files={"blob.bin": bytes(range(256)) * 12_000})
    return tree


@pytest.fixture
def server(tree: IndexTree) -> Iterator[IndexServer]:
    with IndexServer(tree.root) as server:
        yield server


@pytest.fixture
def tls_server(tree: IndexTree) -> Iterator[IndexServer]:
    with IndexServer(tree.root, tls=True) as server:
        yield server


@pytest.fixture
def no_httpx_downloads(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the download went through httpx")

    monkeypatch.setattr(httpx.Client, "stream", refuse)


def _wheel(tree: IndexTree) -> Path:
    (path,) = (tree.root / "wjt-big").glob("*.whl")
    return path


def _file(url: str, path: Path) -> IndexFile:
    from packaging.utils import canonicalize_name
    from packaging.version import Version

    return IndexFile(
        filename=path.name,
        url=url,
        hashes={"sha256": hashlib.sha256(path.read_bytes()).hexdigest()},
        kind=FileKind.WHEEL,
        name=canonicalize_name("wjt-big"),
        version=Version("1.0"),
    )


def _fetch(client: HttpClient, url: str, path: Path, tmp_path: Path) -> FetchedFile:
    downloader = Downloader(client, WheelCache(tmp_path / "wheels"))
    return downloader.fetch(_file(url, path), source="test")


def _url(server: IndexServer, path: Path) -> str:
    return f"{server.url}/files/wjt-big/{path.name}"


def test_a_download_over_https_with_a_trusted_certificate_takes_the_direct_path(
    tls_server: IndexServer, tree: IndexTree, tmp_path: Path, no_httpx_downloads: None
) -> None:
    wheel = _wheel(tree)
    with HttpClient(verify=ssl.create_default_context(cafile=TLS_CERT)) as client:
        got = _fetch(client, _url(tls_server, wheel), wheel, tmp_path)
    assert got.path.read_bytes() == wheel.read_bytes()


def test_a_certificate_nobody_trusts_is_refused_with_the_reason(
    tls_server: IndexServer, tree: IndexTree, tmp_path: Path
) -> None:
    wheel = _wheel(tree)
    with (
        HttpClient(verify=ssl.create_default_context(), retries=0) as client,
        pytest.raises(IndexNetworkError, match="CERTIFICATE_VERIFY_FAILED"),
    ):
        _fetch(client, _url(tls_server, wheel), wheel, tmp_path)
    assert not list((tmp_path / "wheels").rglob("*.whl"))


def test_connections_are_kept_alive_between_downloads(
    server: IndexServer, tree: IndexTree, tmp_path: Path, no_httpx_downloads: None
) -> None:
    wheel = _wheel(tree)
    with HttpClient() as client:
        for attempt in range(3):
            _fetch(client, _url(server, wheel), wheel, tmp_path / str(attempt))
    assert len(server.requests) == 3
    assert len({r.client_port for r in server.requests}) == 1


def test_a_redirect_is_followed_and_credentials_stay_with_their_origin(
    tree: IndexTree, tmp_path: Path, no_httpx_downloads: None
) -> None:
    wheel = _wheel(tree)
    path = f"/files/wjt-big/{wheel.name}"
    with IndexServer(tree.root) as elsewhere, IndexServer(tree.root) as index:
        index.faults[path] = Fault("redirect", location=elsewhere.url + path)
        user_url = index.url.replace("http://", "http://alice:s3cret@") + path
        with HttpClient() as client:
            got = _fetch(client, user_url, wheel, tmp_path)
        assert got.path.read_bytes() == wheel.read_bytes()
        expected = "Basic " + base64.b64encode(b"alice:s3cret").decode()
        assert [r.headers.get("authorization") for r in index.requests] == [expected]
        assert [r.headers.get("authorization") for r in elsewhere.requests] == [None]


def test_a_body_with_a_content_encoding_is_left_to_httpx_which_decodes_it(
    server: IndexServer, tree: IndexTree, tmp_path: Path
) -> None:
    wheel = _wheel(tree)
    server.faults[f"/files/wjt-big/{wheel.name}"] = Fault("gzip")
    with HttpClient() as client:
        got = _fetch(client, _url(server, wheel), wheel, tmp_path)
    assert got.path.read_bytes() == wheel.read_bytes()


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_proxy_in_the_environment_is_used_for_downloads(
    server: IndexServer, tree: IndexTree, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wheel = _wheel(tree)
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{_closed_port()}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    with HttpClient(retries=0) as client, pytest.raises(IndexNetworkError):
        _fetch(client, _url(server, wheel), wheel, tmp_path)
    assert server.requests == []  # it went to the (absent) proxy, not to the index


def test_hosts_no_proxy_names_are_downloaded_directly(
    server: IndexServer,
    tree: IndexTree,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    no_httpx_downloads: None,
) -> None:
    wheel = _wheel(tree)
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{_closed_port()}")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    with HttpClient() as client:
        got = _fetch(client, _url(server, wheel), wheel, tmp_path)
    assert got.path.read_bytes() == wheel.read_bytes()


def test_pages_over_https_use_the_clients_tls_context(
    tls_server: IndexServer, tree: IndexTree
) -> None:
    with HttpClient(verify=ssl.create_default_context(cafile=TLS_CERT)) as client:
        response = client.get(f"{tls_server.url}/simple/wjt-big/")
    assert response.status == 200 and b"wjt_big-1.0" in response.body


def test_a_client_that_only_speaks_plain_http_loads_no_trust_store(
    server: IndexServer, tree: IndexTree, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a trust store was loaded")

    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations", refuse)
    monkeypatch.setattr(ssl.SSLContext, "load_default_certs", refuse)
    wheel = _wheel(tree)
    with HttpClient(verify=True) as client:
        assert client.get(f"{server.url}/simple/wjt-big/").status == 200
        got = _fetch(client, _url(server, wheel), wheel, tmp_path)
    assert got.path.read_bytes() == wheel.read_bytes()
