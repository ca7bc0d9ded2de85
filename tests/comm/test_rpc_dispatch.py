"""The comm RPC: versioned handshake, allow-listed methods, one reply per request."""

from __future__ import annotations

from typing import Any

import pytest

from tests.comm.fakes import RecordingComm, RecordingManager
from wheelnext_jupyter import comm as rpc


def _server() -> tuple[rpc.RpcServer, list[dict[str, Any]]]:
    sent: list[dict[str, Any]] = []
    return rpc.RpcServer(sent.append), sent


def _hello(server: rpc.RpcServer) -> None:
    server.handle({"v": 1, "id": 0, "method": "hello", "params": {"protocol": [1]}})


def test_hello_agrees_on_the_newest_common_protocol_version() -> None:
    server, sent = _server()
    server.handle({"v": 1, "id": 1, "method": "hello", "params": {"protocol": [1, 7]}})
    assert sent[0]["ok"] is True
    assert sent[0]["id"] == 1
    assert sent[0]["result"]["protocol"] == 1


def test_hello_lists_exactly_the_allow_listed_methods() -> None:
    server, sent = _server()
    _hello(server)
    assert sent[0]["result"]["methods"] == sorted(
        ["hello", "detect", "command", "plan", "explain", "history", "installed"]
    )


def test_hello_without_a_common_version_says_how_to_fix_it() -> None:
    server, sent = _server()
    server.handle({"v": 1, "id": 2, "method": "hello", "params": {"protocol": [2, 3]}})
    assert sent == [
        {
            "v": 1,
            "id": 2,
            "ok": False,
            "error": {"code": "unsupported_version", "message": sent[0]["error"]["message"]},
        }
    ]
    assert "install matching versions" in sent[0]["error"]["message"]


def test_a_request_of_an_unknown_protocol_version_is_refused() -> None:
    server, sent = _server()
    server.handle({"v": 2, "id": 3, "method": "hello", "params": {}})
    assert sent[0]["error"]["code"] == "unsupported_version"


def test_methods_other_than_hello_need_the_handshake_first() -> None:
    server, sent = _server()
    server.handle({"v": 1, "id": 4, "method": "history", "params": {}})
    assert sent[0]["error"]["code"] == "no_hello"


@pytest.mark.parametrize(
    "method", ["eval", "exec", "__init__", "_detect", "handle", "event", None, 3]
)
def test_only_allow_listed_methods_run(method: Any) -> None:
    server, sent = _server()
    _hello(server)
    server.handle({"v": 1, "id": 5, "method": method, "params": {}})
    assert sent[1]["ok"] is False
    assert sent[1]["error"]["code"] == "unknown_method"


def test_a_message_that_is_not_an_object_gets_an_error_reply() -> None:
    server, sent = _server()
    server.handle(["hello"])
    assert sent == [
        {
            "v": 1,
            "id": None,
            "ok": False,
            "error": {"code": "bad_request", "message": "a request is a JSON object"},
        }
    ]


def test_params_must_be_an_object() -> None:
    server, sent = _server()
    _hello(server)
    server.handle({"v": 1, "id": 6, "method": "history", "params": ["x"]})
    assert sent[1]["error"]["code"] == "bad_params"


def test_every_request_gets_exactly_one_reply_with_its_id() -> None:
    server, sent = _server()
    _hello(server)
    for request_id in (10, 11, 12):
        server.handle({"v": 1, "id": request_id, "method": "history", "params": {}})
    assert [m["id"] for m in sent[1:]] == [10, 11, 12]
    assert all("ok" in m for m in sent)


def test_user_errors_carry_their_own_message() -> None:
    server, sent = _server()
    _hello(server)
    # An unparsable requirement: the engine's RequestError names it.
    server.handle({"v": 1, "id": 7, "method": "plan", "params": {"requirements": ["not a req !!"]}})
    [reply] = [m for m in sent[1:] if "ok" in m]
    assert reply["ok"] is False
    assert reply["error"]["code"] == "user_error"
    assert "not a req !!" in reply["error"]["message"]


def test_unexpected_failures_are_reported_not_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(rpc, "install_history", broken)
    server, sent = _server()
    _hello(server)
    server.handle({"v": 1, "id": 8, "method": "history", "params": {}})
    assert sent[1]["error"]["code"] == "internal_error"
    assert sent[1]["error"]["message"].startswith("ZeroDivisionError")
    assert "boom" in sent[1]["error"]["message"]


def test_history_returns_the_installs_of_this_session_in_order() -> None:
    rpc.clear_history()
    rpc.record_install({"install": [{"metadata": {"name": "a"}}]}, command="%wninstall a")
    rpc.record_install({"install": []}, command="%wninstall b")
    server, sent = _server()
    _hello(server)
    server.handle({"v": 1, "id": 9, "method": "history", "params": {}})
    assert [e["command"] for e in sent[1]["result"]["installs"]] == [
        "%wninstall a",
        "%wninstall b",
    ]
    rpc.clear_history()


def test_command_turns_the_form_into_wninstall_arguments() -> None:
    server, sent = _server()
    _hello(server)
    params = {
        "requirements": ["torch>=2.9\n# a comment\nnumpy"],
        "indexes": ["cuda=https://example.org/cu/simple", "https://example.org/simple"],
        "strategy": "first-index",
        "pins": ["torch=cuda"],
        "variants": ["torch=cu128"],
        "pre": True,
    }
    server.handle({"v": 1, "id": 10, "method": "command", "params": params})
    assert sent[1]["result"]["args"] == [
        "torch>=2.9",
        "numpy",
        "--index",
        "cuda=https://example.org/cu/simple",
        "--index",
        "https://example.org/simple",
        "--index-strategy",
        "first-index",
        "--pin",
        "torch=cuda",
        "--variant",
        "torch=cu128",
        "--pre",
    ]
    assert sent[1]["result"]["line"] == (
        "%wninstall 'torch>=2.9' numpy --index cuda=https://example.org/cu/simple "
        "--index https://example.org/simple --index-strategy first-index --pin torch=cuda "
        "--variant torch=cu128 --pre"
    )


def test_options_in_the_requirements_box_are_refused() -> None:
    with pytest.raises(rpc.RpcError, match="options do not belong"):
        rpc.install_arguments({"requirements": ["--index-url http://evil/simple"]})


def test_an_unknown_strategy_is_refused() -> None:
    with pytest.raises(rpc.RpcError, match="strategy must be one of"):
        rpc.install_arguments({"requirements": ["a"], "strategy": "fastest"})


def test_register_target_wires_requests_to_replies_on_the_same_comm() -> None:
    manager = RecordingManager()
    assert rpc.register_target(manager) is True
    comm = RecordingComm()
    manager.targets[rpc.TARGET](comm, {"content": {"data": {"v": 1}}})
    comm.receive({"v": 1, "id": 1, "method": "hello", "params": {"protocol": [1]}})
    assert comm.sent[0]["id"] == 1
    assert comm.sent[0]["result"]["server"]["name"] == "wheelnext-jupyter"


def test_each_comm_keeps_its_own_handshake() -> None:
    manager = RecordingManager()
    rpc.register_target(manager)
    first, second = RecordingComm(), RecordingComm()
    manager.targets[rpc.TARGET](first, {})
    manager.targets[rpc.TARGET](second, {})
    first.receive({"v": 1, "id": 1, "method": "hello", "params": {}})
    second.receive({"v": 1, "id": 1, "method": "history", "params": {}})
    assert first.sent[0]["ok"] is True
    assert second.sent[0]["error"]["code"] == "no_hello"
