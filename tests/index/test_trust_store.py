"""The default trust store, loaded ahead of the first https request."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.index_server import TLS_CERT, IndexServer, IndexTree
from wheelnext_jupyter import trust_store
from wheelnext_jupyter.index.http import HttpClient


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> IndexTree:
    tree = IndexTree(tmp_path_factory.mktemp("index"))
    tree.add_wheel("wjt-tls", "1.0")
    return tree


@pytest.fixture
def tls_server(tree: IndexTree) -> Iterator[IndexServer]:
    with IndexServer(tree.root, tls=True) as server:
        yield server


@pytest.fixture(autouse=True)
def fresh_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing loaded ahead yet, and the test server's certificate as the trust store."""
    monkeypatch.setattr(trust_store, "_ahead", None)
    monkeypatch.setenv("SSL_CERT_FILE", str(TLS_CERT))
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)


def ahead_context() -> ssl.SSLContext:
    ahead = trust_store._ahead
    assert ahead is not None
    ahead.thread.join()
    assert ahead.context is not None
    return ahead.context


def test_a_client_with_the_default_trust_store_takes_the_context_loaded_ahead(
    tls_server: IndexServer,
) -> None:
    trust_store.load_ahead()
    with HttpClient(retries=0) as client:
        assert client.get(f"{tls_server.url}/simple/wjt-tls/").status == 200
        assert client.ssl_context() is ahead_context()


def test_loading_ahead_happens_once_per_process() -> None:
    trust_store.load_ahead()
    first = ahead_context()
    trust_store.load_ahead()
    assert ahead_context() is first and trust_store.default_context() is first


def test_a_load_ahead_that_failed_leaves_the_load_to_the_first_request(
    tls_server: IndexServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "missing.pem"))
    trust_store.load_ahead()
    trust_store._ahead.thread.join()  # type: ignore[union-attr]
    assert trust_store._ahead.context is None  # type: ignore[union-attr]  # no such file
    monkeypatch.setenv("SSL_CERT_FILE", str(TLS_CERT))
    with HttpClient(retries=0) as client:
        assert client.get(f"{tls_server.url}/simple/wjt-tls/").status == 200


def test_a_context_loaded_from_other_settings_is_not_taken(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    trust_store.load_ahead()
    loaded = ahead_context()
    monkeypatch.setenv("SSL_CERT_FILE", "")
    assert trust_store.default_context() is not loaded


def test_a_client_given_its_own_verification_ignores_the_context_loaded_ahead() -> None:
    trust_store.load_ahead()
    own = ssl.create_default_context(cafile=TLS_CERT)
    with HttpClient(verify=own) as client:
        assert client.ssl_context() is own
    with HttpClient(verify=True) as client:
        assert client.ssl_context() is not ahead_context()
