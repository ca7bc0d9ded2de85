"""The demo index served on 127.0.0.1 is read by the engine like any other index."""

from __future__ import annotations

import json
import selectors
import socket
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from wheelnext_jupyter.demo.index_builder import DemoIndex, build_demo_index, index_url
from wheelnext_jupyter.demo.server import DemoServer, DemoServerError
from wheelnext_jupyter.engine import InstallRequest, explain_package
from wheelnext_jupyter.index.config import IndexOptions


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DemoIndex, DemoServer]]:
    demo = build_demo_index(tmp_path_factory.mktemp("demo"))
    with DemoServer(demo.root) as server:
        yield demo, server


def _empty_profile(tmp_path: Path) -> str:
    """A target that supports no namespace at all: a CPU-only machine without x86-64 levels."""
    path = tmp_path / "bare.json"
    path.write_text(json.dumps({"format": "wheelnext-profile/1", "providers": {}}))
    return str(path)


def _chosen(server: DemoServer, package: str, profile: str) -> str | None:
    request = InstallRequest(
        requirements=[package],
        index=IndexOptions(index_url=index_url(server.url, "private")),
        profile=profile,
    )
    explanation = explain_package(request)
    assert explanation.selection is not None
    return explanation.selection.chosen


def test_project_pages_are_served_as_html(served: tuple[DemoIndex, DemoServer]) -> None:
    _, server = served
    with urllib.request.urlopen(index_url(server.url, "private") + "wn-demo-accel/") as response:
        assert response.headers["Content-Type"].startswith("text/html")
        assert b"wn_demo_accel-1.0.0-py3-none-any-cu129.whl" in response.read()


def test_cpu_only_target_gets_the_null_variant(
    served: tuple[DemoIndex, DemoServer], tmp_path: Path
) -> None:
    _, server = served
    assert _chosen(server, "wn-demo-accel", _empty_profile(tmp_path)) == "null"


def test_cuda_12_9_ampere_profile_gets_the_cuda_12_9_build(
    served: tuple[DemoIndex, DemoServer],
) -> None:
    demo, server = served
    # cu130 needs a 13.0 driver; cu129 (12.9) is preferred to cu126 (12.6) by the driver's order.
    assert _chosen(server, "wn-demo-accel", str(demo.profile)) == "cu129"


def test_blas_choice_defaults_to_the_first_static_value(
    served: tuple[DemoIndex, DemoServer], tmp_path: Path
) -> None:
    _, server = served
    assert _chosen(server, "wn-demo-blas", _empty_profile(tmp_path)) == "openblas"


def test_port_in_use_is_reported_with_the_way_out(served: tuple[DemoIndex, DemoServer]) -> None:
    demo, server = served
    with pytest.raises(DemoServerError, match="--port"):
        DemoServer(demo.root, port=server.port)


def test_a_burst_of_connections_is_taken_while_the_server_is_busy(tmp_path: Path) -> None:
    # An install opens a dozen connections at once. Listening, not yet accepting (as when its
    # accepting thread is busy), the server must still complete every handshake: one dropped
    # for a full backlog stalls its request until the client sends again.
    server = DemoServer(tmp_path)
    clients = [socket.socket() for _ in range(40)]
    try:
        for client in clients:
            client.setblocking(False)
            client.connect_ex(("127.0.0.1", server.port))
        with selectors.DefaultSelector() as waiting:
            for client in clients:
                waiting.register(client, selectors.EVENT_WRITE)
            connected = 0
            # A bound for a failing run only: with room in the backlog all connect at once.
            give_up = time.monotonic() + 5
            while connected < len(clients) and time.monotonic() < give_up:
                ready = waiting.select(timeout=give_up - time.monotonic())
                for key, _ in ready:
                    waiting.unregister(key.fileobj)
                    connected += key.fileobj.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0
        assert connected == len(clients)
    finally:
        for client in clients:
            client.close()
        server.stop()
