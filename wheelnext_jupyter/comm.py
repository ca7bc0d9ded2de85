"""The kernel side of the JupyterLab sidebar: a small versioned RPC over a Jupyter comm.

The sidebar opens a comm to the target `wheelnext` and sends requests

    {"v": 1, "id": 7, "method": "plan", "params": {...}}

Each request gets exactly one reply, `{"v": 1, "id": 7, "ok": true, "result": ...}` or
`{"v": 1, "id": 7, "ok": false, "error": {"code": ..., "message": ...}}`; long requests send
`{"v": 1, "id": 7, "event": "progress", "data": {...}}` before it. Only the methods in `METHODS`
run; nothing the sidebar sends is evaluated.

With kernel subshells (ipykernel 7, JupyterLab 4.4+) the handler runs on the comm's subshell
thread, so the sidebar is answered while a cell runs. Replies are sent from the handler's own
thread only: a send from main-thread code re-routes the comm to the main shell. Anything that must
be pushed from the main thread (a running `%wninstall`) goes through `publish_event`, on a
separate comm opened by the kernel.
"""

from __future__ import annotations

import shlex
import sys
import threading
import traceback
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from wheelnext_jupyter.detection import first_fact

#: The comm target the sidebar opens; registered by `register_target()`.
TARGET = "wheelnext"
#: The comm target the kernel opens towards the sidebar for events from main-thread code.
EVENTS_TARGET = "wheelnext.events"
#: Protocol versions this kernel package speaks (the sidebar sends the ones it speaks).
PROTOCOL_VERSIONS = (1,)
#: The report MIME type of `%wninstall` outputs (rendered by the sidebar's MIME renderer).
REPORT_MIME_TYPE = "application/vnd.wheelnext.report+json"

Message = dict[str, Any]
Send = Callable[[Message], None]


class RpcError(Exception):
    """A request that cannot be answered; `code` is machine-readable, the message says why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


# -- install history of this kernel session -----------------------------------------------------

_history: list[Message] = []
_history_lock = threading.Lock()


def record_install(report: Mapping[str, Any], *, command: str | None = None) -> None:
    """Remember an install of this kernel session (called by `%wninstall` after it installs).

    The command is kept with index credentials hidden: it is shown in the sidebar and sent on
    the events comm, where every frontend connected to the kernel sees it.
    """
    from wheelnext_jupyter.index.redact import redact_text

    entry = {"command": None if command is None else redact_text(command), "report": dict(report)}
    with _history_lock:
        _history.append(entry)
    publish_event("installed", entry)


def install_history() -> list[Message]:
    with _history_lock:
        return list(_history)


def clear_history() -> None:
    with _history_lock:
        _history.clear()


# -- request parameters → `%wninstall` arguments ------------------------------------------------

_STRATEGIES = ("first-index", "first-match", "best-match")


def _strings(params: Mapping[str, Any], key: str) -> list[str]:
    value = params.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise RpcError("bad_params", f"{key!r} must be a list of strings")
    return [v.strip() for v in value if v.strip()]


def _flag(params: Mapping[str, Any], key: str) -> bool:
    value = params.get(key, False)
    if not isinstance(value, bool):
        raise RpcError("bad_params", f"{key!r} must be true or false")
    return value


def install_arguments(params: Mapping[str, Any]) -> list[str]:
    """The `%wninstall` arguments for the sidebar's form, in the command line's spelling.

    `params`: `requirements` (specifiers, or lines of a requirements box), `indexes` (`[NAME=]URL`,
    highest priority first), `strategy`, `pins` (`NAME=INDEX`), `variants` and `exclude_variants`
    (`NAME=LABEL`), `pre`, `upgrade`, `no_deps`, `trust_providers`.
    """
    requirements: list[str] = []
    for text in _strings(params, "requirements"):
        for line in text.splitlines():
            line = line.split(" #", 1)[0].strip()
            if line and not line.startswith("#"):
                if line.startswith("-"):
                    raise RpcError(
                        "bad_params",
                        f"{line!r}: options do not belong in the requirements box; "
                        "use the index and variant settings",
                    )
                requirements.append(line)
    if not requirements:
        raise RpcError("bad_params", "nothing to install: write at least one requirement")
    args = list(requirements)
    for index in _strings(params, "indexes"):
        args += ["--index", index]
    strategy = params.get("strategy")
    if strategy is not None:
        if strategy not in _STRATEGIES:
            raise RpcError("bad_params", f"strategy must be one of {', '.join(_STRATEGIES)}")
        args += ["--index-strategy", strategy]
    for key, option in (
        ("pins", "--pin"),
        ("variants", "--variant"),
        ("exclude_variants", "--exclude-variant"),
        ("trust_providers", "--trust-provider"),
    ):
        for value in _strings(params, key):
            args += [option, value]
    for key, option in (("pre", "--pre"), ("upgrade", "-U"), ("no_deps", "--no-deps")):
        if _flag(params, key):
            args.append(option)
    return args


def wninstall_line(args: Sequence[str]) -> str:
    """The cell text that installs with these arguments."""
    return "%wninstall " + shlex.join(args)


def _install_request(args: Sequence[str]) -> Any:
    import argparse

    from wheelnext_jupyter.cli import add_install_arguments, request_from_args

    class Parser(argparse.ArgumentParser):
        def error(self, message: str) -> Any:  # argparse would exit the kernel
            raise RpcError("bad_params", message)

    parser = Parser(prog="%wninstall", add_help=False)
    add_install_arguments(parser)
    return request_from_args(parser.parse_args(list(args)))


# -- views of engine results ---------------------------------------------------------------------


def _gpus(host: Mapping[str, Any]) -> list[Message]:
    gpus: list[Message] = []
    for vendor in ("nvidia", "amd", "intel"):
        data = host.get(vendor)
        if not isinstance(data, Mapping):
            continue
        driver = first_fact(
            data, "driver_version", "kernel_driver_version", "kernel_module_version"
        )
        devices = data.get("gpus")
        for device in devices if isinstance(devices, list) else []:
            if not isinstance(device, Mapping):
                continue
            memory = device.get("memory_total_bytes")
            gpus.append(
                {
                    "vendor": vendor,
                    "model": first_fact(device, "name", "marketing_name"),
                    "memory_bytes": memory if isinstance(memory, int) else None,
                    "compute_capability": device.get("compute_capability"),
                    "architecture": first_fact(device, "gfx", "device_ip", "ip"),
                    "driver": driver,
                    "cuda": data.get("cuda_driver_version"),
                    "rocm": data.get("rocm_version"),
                }
            )
    return gpus


def hardware_json(detection: Any) -> Message:
    """What the Hardware view shows: CPU, GPUs, TPU, hosting, and the supported properties."""
    from wheelnext_jupyter.detection import render_summary

    host = detection.host_json()
    cpu = host.get("cpu") if isinstance(host.get("cpu"), Mapping) else {}
    tpu = host.get("tpu") if isinstance(host.get("tpu"), Mapping) else {}
    hosting = host.get("hosting") if isinstance(host.get("hosting"), Mapping) else {}
    platform = host.get("platform") if isinstance(host.get("platform"), Mapping) else {}
    namespaces = {}
    for ns, result in detection.results().items():
        namespaces[ns] = {
            "supported": result.supported,
            "provenance": result.provenance,
            "features": [
                {"name": f.name, "values": list(f.values), "multi_value": f.multi_value}
                for f in result.configs
            ],
        }
    level = first_fact(cpu, "psabi_level")
    return {
        "cpu": {
            "model": first_fact(cpu, "model_name", "model", "brand"),
            "vendor": cpu.get("vendor"),
            "architecture": first_fact(cpu, "architecture", "machine") or platform.get("machine"),
            "level": f"x86-64-{level}" if level and level != "unknown" else None,
            "missing_for_next_level": list(cpu.get("psabi_missing_for_next_level") or []),
        },
        "gpus": _gpus(host),
        "tpu": {
            "present": bool(tpu.get("present")),
            "generation": first_fact(tpu, "generation", "version", "accelerator_type"),
            "chips": first_fact(tpu, "chips", "chip_count"),
        },
        "hosting": {
            "platform": first_fact(hosting, "platform", "name", "kind") or "local",
            "container": hosting.get("container"),
            "jupyterhub": bool(hosting.get("jupyterhub")),
        },
        "platform": dict(platform),
        "profile": str(detection.profile_source) if detection.profile is not None else None,
        "namespaces": namespaces,
        "errors": dict(host.get("errors") or {}),
        "summary": render_summary(detection),
    }


def explanation_json(explanation: Any) -> Message:
    return {
        "name": str(explanation.name),
        "version": str(explanation.version),
        "source": explanation.source,
        "selection": explanation.selection.to_json() if explanation.selection else None,
        "files": [f.to_json() for f in explanation.files],
        "note": explanation.note,
    }


# -- the methods ---------------------------------------------------------------------------------


def _package_version() -> str:
    from wheelnext_jupyter import __version__

    return __version__


class RpcServer:
    """Dispatches requests of one comm to the allow-listed methods; replies through `send`."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self.protocol: int | None = None

    # Every method takes (self, params, request id) and returns the JSON result.
    def _hello(self, params: Mapping[str, Any], _id: Any) -> Message:
        offered = params.get("protocol", [1])
        if isinstance(offered, int):
            offered = [offered]
        if not isinstance(offered, list) or not all(isinstance(v, int) for v in offered):
            raise RpcError("bad_params", "'protocol' must be a list of integers")
        common = sorted(set(offered) & set(PROTOCOL_VERSIONS))
        if not common:
            raise RpcError(
                "unsupported_version",
                f"this kernel speaks protocol {', '.join(map(str, PROTOCOL_VERSIONS))}; the "
                f"sidebar speaks {', '.join(map(str, offered)) or 'none'}: install matching "
                "versions of wheelnext-jupyter in the kernel and the server",
            )
        self.protocol = common[-1]
        return {
            "protocol": self.protocol,
            "server": {"name": "wheelnext-jupyter", "version": _package_version()},
            "methods": sorted(METHODS),
            "capabilities": {
                "events_target": EVENTS_TARGET,
                "report_mime_type": REPORT_MIME_TYPE,
                # True when this handler runs on a subshell: the sidebar is served while a
                # cell runs.
                "concurrent": threading.current_thread() is not threading.main_thread(),
                "magic": _magic_available(),
            },
            "python": sys.executable,
        }

    def _detect(self, params: Mapping[str, Any], _id: Any) -> Message:
        from wheelnext_jupyter.detection import detect

        return hardware_json(detect(refresh=_flag(params, "refresh")))

    def _command(self, params: Mapping[str, Any], _id: Any) -> Message:
        args = install_arguments(params)
        return {"args": args, "line": wninstall_line(args)}

    def _plan(self, params: Mapping[str, Any], request_id: Any) -> Message:
        from wheelnext_jupyter.engine import plan
        from wheelnext_jupyter.report import build_report

        args = install_arguments(params)
        request = _install_request(args)
        self.event(request_id, "progress", {"phase": "resolve"})
        report = build_report(plan(request))
        return {"args": args, "line": wninstall_line(args), "report": report}

    def _explain(self, params: Mapping[str, Any], request_id: Any) -> Message:
        from wheelnext_jupyter.engine import explain_package

        package = params.get("package")
        if not isinstance(package, str) or not package.strip():
            raise RpcError("bad_params", "'package' must name one package, e.g. 'torch==2.9.0'")
        args = [package.strip(), *install_arguments({**params, "requirements": ["x"]})[1:]]
        request = _install_request(args)
        self.event(request_id, "progress", {"phase": "explain"})
        return explanation_json(explain_package(request))

    def _history(self, params: Mapping[str, Any], _id: Any) -> Message:
        return {"installs": install_history()}

    def _installed(self, params: Mapping[str, Any], _id: Any) -> Message:
        from wheelnext_jupyter.install.target import current_target
        from wheelnext_jupyter.resolve.installed import installed_distributions

        target = current_target()
        found = installed_distributions([target.scheme.purelib, target.scheme.platlib])
        return {
            "python": str(target.python),
            "distributions": [
                {
                    "name": str(dist.name),
                    "version": str(dist.version),
                    "variant_label": dist.variant_label,
                    "installer": dist.installer,
                }
                for dist in sorted(found.values(), key=lambda d: d.name)
            ],
        }

    # -- dispatch -----------------------------------------------------------------------------

    def event(self, request_id: Any, name: str, data: Message) -> None:
        """A progress event for a request (sent from the handler's thread, before the reply)."""
        self._send({"v": self.protocol or 1, "id": request_id, "event": name, "data": data})

    def handle(self, message: Any) -> None:
        """Answer one request; every request gets exactly one reply, errors included."""
        request_id = message.get("id") if isinstance(message, dict) else None
        try:
            result = self._dispatch(message)
        except RpcError as exc:
            self._reply_error(request_id, exc.code, str(exc))
        except Exception as exc:
            self._reply_error(request_id, *_classify(exc))
        else:
            self._send({"v": self.protocol or 1, "id": request_id, "ok": True, "result": result})

    def _dispatch(self, message: Any) -> Message:
        if not isinstance(message, dict):
            raise RpcError("bad_request", "a request is a JSON object")
        version = message.get("v")
        if version not in PROTOCOL_VERSIONS:
            raise RpcError(
                "unsupported_version",
                f"protocol version {version!r} is not spoken here "
                f"(supported: {', '.join(map(str, PROTOCOL_VERSIONS))}); upgrade "
                "wheelnext-jupyter in this kernel",
            )
        method = message.get("method")
        if not isinstance(method, str) or method not in METHODS:
            raise RpcError(
                "unknown_method",
                f"unknown method {method!r}; this kernel answers {', '.join(sorted(METHODS))}",
            )
        if method != "hello" and self.protocol is None:
            raise RpcError("no_hello", "send 'hello' first to agree on the protocol version")
        params = message.get("params", {})
        if not isinstance(params, dict):
            raise RpcError("bad_params", "'params' must be a JSON object")
        handler: Callable[[RpcServer, Mapping[str, Any], Any], Message] = METHODS[method]
        return handler(self, params, message.get("id"))

    def _reply_error(self, request_id: Any, code: str, text: str) -> None:
        self._send(
            {
                "v": self.protocol or 1,
                "id": request_id,
                "ok": False,
                "error": {"code": code, "message": text},
            }
        )


#: The allow-list: the only names a request may call.
METHODS: dict[str, Callable[[RpcServer, Mapping[str, Any], Any], Message]] = {
    "hello": RpcServer._hello,
    "detect": RpcServer._detect,
    "command": RpcServer._command,
    "plan": RpcServer._plan,
    "explain": RpcServer._explain,
    "history": RpcServer._history,
    "installed": RpcServer._installed,
}


def _classify(exc: Exception) -> tuple[str, str]:
    """User errors carry their own message; anything else is named with where it happened."""
    from wheelnext_jupyter.cli import USER_ERRORS

    if isinstance(exc, USER_ERRORS):
        return "user_error", str(exc)
    where = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
    place = f" at {where[0].name}" if where else ""
    return "internal_error", f"{type(exc).__name__}{place}: {exc}"


def _magic_available() -> bool:
    try:
        import wheelnext_jupyter.magics  # noqa: F401
    except ImportError:
        return False
    return True


# -- kernel wiring --------------------------------------------------------------------------------


def _open(comm: Any, _open_msg: Any) -> None:
    server = RpcServer(comm.send)

    def on_msg(msg: Mapping[str, Any]) -> None:
        server.handle(msg.get("content", {}).get("data"))

    comm.on_msg(on_msg)


def register_target(manager: Any = None) -> bool:
    """Register the sidebar's comm target in this kernel; False outside a kernel. Idempotent."""
    if manager is None:
        try:
            from comm import get_comm_manager
        except ImportError:
            return False
        manager = get_comm_manager()
    if manager is None:
        return False
    manager.register_target(TARGET, _open)
    return True


_events_comm: Any = None
_events_lock = threading.Lock()


def publish_event(name: str, data: Mapping[str, Any]) -> None:
    """Push an event to the sidebar from any thread, on the kernel-opened events comm.

    Does nothing outside a kernel. The sidebar registers `EVENTS_TARGET`; where it is not
    loaded the frontend closes the comm and the events are dropped.
    """
    global _events_comm
    with _events_lock:
        # A comm the frontend closed (no sidebar then) is opened again: it may be there now.
        if _events_comm is None or getattr(_events_comm, "_closed", False):
            try:
                from comm import create_comm
            except ImportError:
                return
            try:
                _events_comm = create_comm(target_name=EVENTS_TARGET, data={"v": 1})
            except Exception:
                # Outside a kernel there is no one to tell.
                return
        _events_comm.send({"v": 1, "event": name, "data": dict(data)})
