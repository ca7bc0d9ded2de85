"""The RPC in a real ipykernel: bootstrap as the sidebar does, open the comm, ask, get answers."""

from __future__ import annotations

import platform
import queue
from collections.abc import Iterator
from typing import Any

import pytest

jupyter_client = pytest.importorskip("jupyter_client")
pytest.importorskip("ipykernel")

from jupyter_client.blocking.client import BlockingKernelClient  # noqa: E402
from jupyter_client.manager import KernelManager  # noqa: E402

# The same code the sidebar runs silently (labextension/src/kernel.ts, BOOTSTRAP_CODE).
BOOTSTRAP = (
    "__import__('wheelnext_jupyter.comm', fromlist=['comm']).register_target()\n"
    "get_ipython().run_line_magic('load_ext', 'wheelnext_jupyter')"
)
TIMEOUT = 60


@pytest.fixture
def kernel() -> Iterator[tuple[KernelManager, BlockingKernelClient]]:
    manager = KernelManager(kernel_name="python3")
    manager.start_kernel()
    client = manager.client()
    client.start_channels()
    client.wait_for_ready(timeout=TIMEOUT)
    try:
        yield manager, client
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def _send(
    client: BlockingKernelClient, msg_type: str, content: dict[str, Any], **header: Any
) -> None:
    msg = client.session.msg(msg_type, content)
    msg["header"].update(header)
    client.shell_channel.send(msg)


def _comm_replies(client: BlockingKernelClient, comm_id: str, count: int) -> list[dict[str, Any]]:
    replies: list[dict[str, Any]] = []
    while len(replies) < count:
        msg = client.get_iopub_msg(timeout=TIMEOUT)
        if msg["msg_type"] == "comm_msg" and msg["content"]["comm_id"] == comm_id:
            data = msg["content"]["data"]
            if "ok" in data:
                replies.append(data)
    return replies


def test_sidebar_requests_are_answered_by_a_real_kernel(
    kernel: tuple[KernelManager, BlockingKernelClient],
) -> None:
    _, client = kernel
    reply = client.execute_interactive(BOOTSTRAP, silent=True, store_history=False, timeout=TIMEOUT)
    assert reply["content"]["status"] == "ok"
    _send(client, "comm_open", {"comm_id": "c1", "target_name": "wheelnext", "data": {"v": 1}})
    hello = {"v": 1, "id": 1, "method": "hello", "params": {"protocol": [1]}}
    detect = {"v": 1, "id": 2, "method": "detect", "params": {}}
    _send(client, "comm_msg", {"comm_id": "c1", "data": hello})
    _send(client, "comm_msg", {"comm_id": "c1", "data": detect})
    first, second = _comm_replies(client, "c1", 2)
    assert first["id"] == 1 and first["ok"] is True
    assert first["result"]["protocol"] == 1
    assert second["id"] == 2 and second["ok"] is True
    assert second["result"]["cpu"]["architecture"] == platform.machine()


def test_a_comm_on_a_subshell_is_answered_while_a_cell_runs(
    kernel: tuple[KernelManager, BlockingKernelClient],
) -> None:
    _, client = kernel
    info = client.kernel_info(reply=True, timeout=TIMEOUT)
    if "kernel subshells" not in info["content"].get("supported_features", []):
        pytest.skip("this ipykernel has no subshells")
    client.execute_interactive(BOOTSTRAP, silent=True, store_history=False, timeout=TIMEOUT)
    request = client.session.msg("create_subshell_request", {})
    client.control_channel.send(request)
    subshell = client.control_channel.get_msg(timeout=TIMEOUT)["content"]["subshell_id"]
    _send(
        client,
        "comm_open",
        {"comm_id": "c2", "target_name": "wheelnext", "data": {"v": 1}},
        subshell_id=subshell,
    )
    # The main shell is busy until the sidebar's request is answered (or the timeout passes).
    busy = client.execute(
        "import time\n"
        "for _ in range(600):\n"
        "    if __import__('os').path.exists('/nonexistent-marker'): break\n"
        "    time.sleep(0.1)\n"
    )
    hello = {"v": 1, "id": 1, "method": "hello", "params": {"protocol": [1]}}
    _send(client, "comm_msg", {"comm_id": "c2", "data": hello}, subshell_id=subshell)
    [answer] = _comm_replies(client, "c2", 1)
    assert answer["ok"] is True
    assert answer["result"]["capabilities"]["concurrent"] is True
    # The busy cell has not finished: the answer came while it ran.
    with pytest.raises(queue.Empty):
        while True:
            msg = client.get_shell_msg(timeout=0.2)
            assert msg["parent_header"].get("msg_id") != busy
    kernel[0].interrupt_kernel()
