"""`plan` over the RPC against a loopback index: the variant this machine should get."""

from __future__ import annotations

import platform
from collections.abc import Iterator
from typing import Any

import pytest

from tests.comm.loopback import EXPECTED_ON_CPU, PACKAGE, build_index
from tests.support.index_server import IndexServer
from wheelnext_jupyter import comm as rpc


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    with IndexServer(build_index(tmp_path_factory.mktemp("index"))) as running:
        yield running


@pytest.mark.skipif(platform.machine() != "x86_64", reason="the index's CPU variant is x86_64")
def test_plan_chooses_the_cpu_variant_and_names_the_install_line(
    server: IndexServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PIP_CONFIG_FILE", "/dev/null")
    monkeypatch.delenv("PIP_FIND_LINKS", raising=False)
    sent: list[dict[str, Any]] = []
    handler = rpc.RpcServer(sent.append)
    handler.handle({"v": 1, "id": 0, "method": "hello", "params": {}})
    params = {"requirements": [PACKAGE], "indexes": [f"loop={server.index_url}"]}
    handler.handle({"v": 1, "id": 1, "method": "plan", "params": params})
    reply = sent[-1]
    assert reply["ok"] is True, reply
    [item] = reply["result"]["report"]["install"]
    assert item["variant"]["label"] == EXPECTED_ON_CPU
    assert item["source"]["name"] == "loop"
    assert reply["result"]["line"] == f"%wninstall {PACKAGE} --index loop={server.index_url}"
    assert {"id": 1, "event": "progress"}.items() <= sent[-2].items()
