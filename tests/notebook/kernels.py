"""Real IPython kernels for the notebook tests.

How a kernel gets a throw-away environment that can still import this project: the kernel runs the
python of a fresh venv (a copy of the session's template venv), whose site-packages holds one
`.pth` file calling `site.addsitedir()` on the test runner's own site-packages. So the kernel
imports ipykernel, IPython, ipywidgets and (through the editable install's own `.pth`) this
project from the project venv, while `sys.prefix` — and so the default install target of
`%wninstall` — is the throw-away venv, whose site-packages comes first on `sys.path`. Nothing is
installed into the project venv, and a package installed by a cell is importable in that kernel.

The kernel's environment is `clean_env()` (no pip configuration from this machine, the session's
`WHEELNEXT_JUPYTER_CACHE_DIR`) plus what a test adds; no test reaches the network: every install
names the loopback index and a target profile.
"""

from __future__ import annotations

import json
import queue
import shutil
import sysconfig
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager

from tests.support.venvs import Venv, clean_env

KERNEL_NAME = "wheelnext-test"


def kernel_venv(template: Path, root: Path) -> Venv:
    """A copy of the template venv that also sees the project venv's packages (after its own)."""
    shutil.copytree(template, root, symlinks=True)
    venv = Venv(root)
    runner_site = sysconfig.get_paths()["purelib"]
    (venv.site_packages / "_wheelnext_test_runner.pth").write_text(
        f"import site; site.addsitedir({runner_site!r})\n"
    )
    return venv


def kernel_manager(python: Path, spec_dir: Path) -> KernelManager:
    """A manager for an ipykernel running `python`, from a kernelspec written into `spec_dir`."""
    directory = spec_dir / KERNEL_NAME
    directory.mkdir(parents=True, exist_ok=True)
    spec = {
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "wheelnext test",
        "language": "python",
    }
    (directory / "kernel.json").write_text(json.dumps(spec))
    specs = KernelSpecManager(kernel_dirs=[str(spec_dir)])
    return KernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=specs)


def kernel_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = clean_env(extra)
    # ipykernel and IPython write their profile and runtime files under these.
    env.pop("JUPYTER_PATH", None)
    return env


@dataclass
class Executed:
    """Everything one cell produced on iopub, in order, with display updates applied."""

    messages: list[dict[str, Any]] = field(default_factory=list)

    @property
    def error(self) -> dict[str, Any] | None:
        return next((m["content"] for m in self.messages if m["msg_type"] == "error"), None)

    @property
    def stdout(self) -> str:
        return "".join(
            m["content"]["text"]
            for m in self.messages
            if m["msg_type"] == "stream" and m["content"]["name"] == "stdout"
        )

    def bundles(self) -> list[dict[str, Any]]:
        """The data of every display output as it finally stands (updates replace by id)."""
        shown: list[dict[str, Any]] = []
        by_id: dict[str, int] = {}
        for message in self.messages:
            kind, content = message["msg_type"], message["content"]
            if kind in ("display_data", "execute_result"):
                display_id = content.get("transient", {}).get("display_id")
                if display_id is not None:
                    by_id[display_id] = len(shown)
                shown.append(content["data"])
            elif kind == "update_display_data":
                position = by_id.get(content["transient"]["display_id"])
                if position is not None:
                    shown[position] = content["data"]
        return shown

    def with_mime(self, mime: str) -> list[Any]:
        return [bundle[mime] for bundle in self.bundles() if mime in bundle]

    def everything(self) -> str:
        """Every byte of output, for "this never appears" checks (the echoed input aside)."""
        return json.dumps([m["content"] for m in self.messages if m["msg_type"] != "execute_input"])


class Kernel:
    """One running kernel and a blocking client."""

    def __init__(self, python: Path, spec_dir: Path, env: dict[str, str], cwd: Path) -> None:
        self.manager = kernel_manager(python, spec_dir)
        self.manager.start_kernel(env=env, cwd=str(cwd))
        self.client = self.manager.blocking_client()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=60)
        #: Every cell's output in this kernel, for checks over a whole session.
        self.history: list[Executed] = []
        self._cells: dict[str, str] = {}

    def execute(self, code: str, timeout: float = 120) -> Executed:
        return self.collect(self.start(code), timeout)

    def start(self, code: str) -> str:
        """Send a cell to run without waiting for it; its message id, for `collect`."""
        msg_id: str = self.client.execute(code, store_history=True)
        self._cells[msg_id] = code
        return msg_id

    def collect(self, msg_id: str, timeout: float = 120) -> Executed:
        """The output of a cell `start`ed, once it has finished."""
        executed = Executed()
        while True:
            try:
                message = self.client.get_iopub_msg(timeout=timeout)
            except queue.Empty:
                code = self._cells[msg_id]
                raise AssertionError(f"no reply within {timeout} s to {code!r}") from None
            if message["parent_header"].get("msg_id") != msg_id:
                continue
            if message["msg_type"] == "status" and message["content"]["execution_state"] == "idle":
                break
            executed.messages.append(message)
        self.client.get_shell_msg(timeout=timeout)
        self.history.append(executed)
        return executed

    def shutdown(self) -> None:
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)
