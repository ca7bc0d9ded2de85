"""Index requests over the direct HTTP client, where it applies: wheel downloads in
large blocks, pages and metadata whole.

Every download and page test goes this way already; here: HTTPS with a trusted and an
untrusted certificate, redirects and where credentials go, proxies, compressed pages, and
encodings left to httpx.
"""

from __future__ import annotations

import base64
import hashlib
import socket
import ssl
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import httpx
import pytest

from tests.support.index_server import TLS_CERT, Fault, IndexServer, IndexTree
from wheelnext_jupyter.index.errors import IndexNetworkError
from wheelnext_jupyter.index.http import HttpClient
from wheelnext_jupyter.index.models import FileKind, IndexFile
from wheelnext_jupyter.install.download import Downloader, FetchedFile, WheelCache

ROOT = Path(__file__).resolve().parents[2]


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


def test_a_proxy_variable_named_in_mixed_case_is_used_as_urllib_reads_it(
    server: IndexServer, tree: IndexTree, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wheel = _wheel(tree)
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("Http_Proxy", f"http://127.0.0.1:{_closed_port()}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    with HttpClient(retries=0) as client, pytest.raises(IndexNetworkError):
        _fetch(client, _url(server, wheel), wheel, tmp_path)
    assert server.requests == []


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


@pytest.fixture
def no_httpx_requests(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the request went through httpx")

    monkeypatch.setattr(httpx.Client, "send", refuse)


def test_pages_and_metadata_are_fetched_without_httpx(
    server: IndexServer, tree: IndexTree, no_httpx_requests: None
) -> None:
    wheel = _wheel(tree)
    with HttpClient() as client:
        page = client.get(f"{server.url}/simple/wjt-big/")
        metadata = client.get(f"{_url(server, wheel)}.metadata")
    assert page.status == 200 and wheel.name.encode() in page.body
    assert metadata.status == 200 and b"Name: wjt-big" in metadata.body


def _page_as_sent_and_encoded(
    server: IndexServer, encoding: Literal["gzip", "deflate", "chunked"]
) -> bool:
    """Whether the page read from a body sent that way is the page read from a plain one."""

    def page() -> bytes:
        with HttpClient() as client:
            return client.get(f"{server.url}/simple/wjt-big/", accept="application/json").body

    plain = page()
    server.faults["/simple/wjt-big/"] = Fault(encoding)
    return page() == plain


def test_a_page_is_asked_for_gzip_compressed_and_decoded(
    server: IndexServer, tree: IndexTree, no_httpx_requests: None
) -> None:
    assert _page_as_sent_and_encoded(server, "gzip")
    assert server.requests[-1].headers.get("accept-encoding") == "gzip"


def test_a_page_in_an_encoding_not_offered_is_fetched_again_through_httpx(
    server: IndexServer, tree: IndexTree
) -> None:
    assert _page_as_sent_and_encoded(server, "deflate")
    offered = [r.headers.get("accept-encoding", "") for r in server.requests[-2:]]
    assert offered[0] == "gzip" and "deflate" in offered[1]


def test_a_chunked_gzip_page_and_a_chunked_wheel_are_read_whole_without_httpx(
    server: IndexServer, tree: IndexTree, tmp_path: Path, no_httpx_requests: None
) -> None:
    assert _page_as_sent_and_encoded(server, "chunked")
    wheel = _wheel(tree)
    server.faults[f"/files/wjt-big/{wheel.name}"] = Fault("chunked")
    with HttpClient() as client:
        got = _fetch(client, _url(server, wheel), wheel, tmp_path)
    assert got.path.read_bytes() == wheel.read_bytes()
    assert [r.status for r in server.requests[-2:]] == [200, 200]


def test_pages_go_through_the_proxy_the_environment_names(
    server: IndexServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{_closed_port()}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    with HttpClient(retries=0) as client, pytest.raises(IndexNetworkError):
        client.get(f"{server.url}/simple/wjt-big/")
    assert server.requests == []


def test_httpx_is_not_imported_while_the_direct_path_serves_every_request(
    server: IndexServer, tree: IndexTree, tmp_path: Path
) -> None:
    wheel = _wheel(tree)
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    script = f"""
import sys
from pathlib import Path
from packaging.version import Version
from wheelnext_jupyter.index.http import HttpClient
from wheelnext_jupyter.index.models import FileKind, IndexFile
from wheelnext_jupyter.install.download import Downloader, WheelCache
wheel = IndexFile(filename={wheel.name!r}, url={_url(server, wheel)!r},
    hashes={{"sha256": {digest!r}}}, kind=FileKind.WHEEL, name="wjt-big", version=Version("1.0"))
with HttpClient() as client:
    assert client.get({server.url + "/simple/wjt-big/"!r}).status == 200
    Downloader(client, WheelCache(Path({str(tmp_path)!r}))).fetch(wheel, source="test")
print("httpx" in sys.modules)
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert done.stdout.strip() == "False"


def test_ssl_cert_file_names_the_trust_store_of_https_requests(
    tls_server: IndexServer, tree: IndexTree, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(TLS_CERT))
    wheel = _wheel(tree)
    with HttpClient(verify=True) as client:
        assert client.get(f"{tls_server.url}/simple/wjt-big/").status == 200
        got = _fetch(client, _url(tls_server, wheel), wheel, tmp_path)
    assert got.path.read_bytes() == wheel.read_bytes()


def test_verification_switched_off_accepts_a_certificate_nobody_trusts(
    tls_server: IndexServer,
) -> None:
    with HttpClient(verify=False) as client:
        assert client.get(f"{tls_server.url}/simple/wjt-big/").status == 200
