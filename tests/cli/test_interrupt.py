"""Ctrl-C during `wheelnext-jupyter install`: taken at once, and the environment as it was."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.index_server import Fault, IndexServer, IndexTree
from tests.support.venvs import Venv, clean_env

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a process is POSIX")

#: Far longer than the install needs: a command still running when it ends did not stop.
STALL = 60.0
#: Under the client's read timeout (15 s): a command that waited for the stalled download to
#: time out did not stop at once.
PROMPT = 10.0
WHEEL_PATH = "/files/wji-big/wji_big-1.0-py3-none-any.whl"
PAGE_PATH = "/simple/wji-small/"


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    tree = IndexTree(tmp_path_factory.mktemp("index"))
    tree.add_wheel("wji-app", "1.0", requires_dist=["wji-big", "wji-small"])
    tree.add_wheel("wji-small", "1.0")
    tree.add_wheel("wji-big", "1.0", files={"wji_big/data.bin": bytes(range(256)) * 8192})
    with IndexServer(tree.root) as server:
        yield server


@pytest.fixture(
    params=[(WHEEL_PATH, "stall"), (WHEEL_PATH, "silent"), (PAGE_PATH, "stall")],
    ids=["download-half-way", "download-unanswered", "page-half-way"],
)
def stalled(index: IndexServer, request: pytest.FixtureRequest) -> Iterator[str]:
    """A download, or a page the resolver reads, goes quiet for a minute: half way through its
    body, or before any answer. The path that does."""
    path, kind = request.param
    index.faults[path] = Fault(kind, delay=STALL)
    try:
        yield path
    finally:
        index.faults.clear()


def _start(venv: Venv, index: IndexServer, tmp_path: Path) -> subprocess.Popen[str]:
    profile = tmp_path / "profile.json"
    profile.write_text(json.dumps({"format": "wheelnext-profile/1", "providers": {}, "host": {}}))
    argv = [sys.executable, "-m", "wheelnext_jupyter", "install", "--python", str(venv.python)]
    argv += ["--index-url", index.index_url, "--profile", str(profile), "wji-app"]
    env = clean_env({"WHEELNEXT_JUPYTER_CACHE_DIR": str(tmp_path / "cache")})
    return subprocess.Popen(
        argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _wait_for_the_stall(
    index: IndexServer, path: str, process: subprocess.Popen[str], asked_before: int
) -> None:
    deadline = time.monotonic() + 60
    while not any(r.path == path for r in index.requests[asked_before:]):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, f"{path} was never asked for"
        time.sleep(0.02)
    time.sleep(0.3)  # the request is waiting now (for its answer, or the rest of its body)


def _blocks_interrupts(pid: int, tid: int) -> bool:
    for line in Path(f"/proc/{pid}/task/{tid}/status").read_text().splitlines():
        if line.startswith("SigBlk:"):
            return bool(int(line.split()[1], 16) & (1 << (signal.SIGINT - 1)))
    raise AssertionError("no SigBlk line")


def test_ctrl_c_during_a_stalled_request_stops_at_once_and_changes_nothing(
    venv: Venv, index: IndexServer, stalled: str, tmp_path: Path
) -> None:
    before, frozen = venv.listing(), venv.pip("freeze", "--all").stdout
    asked_before = len(index.requests)  # the server is shared: earlier tests asked too
    process = _start(venv, index, tmp_path)
    _wait_for_the_stall(index, stalled, process, asked_before)
    sent = time.monotonic()
    process.send_signal(signal.SIGINT)
    try:
        out, err = process.communicate(timeout=STALL / 2)
    except subprocess.TimeoutExpired:
        process.kill()
        pytest.fail(f"still running {STALL / 2:.0f} s after Ctrl-C: {process.communicate()}")
    assert time.monotonic() - sent < PROMPT
    assert process.returncode == 130, err
    assert "wheelnext-jupyter: interrupted: nothing was installed" in err
    assert "Traceback" not in err
    assert "Installed" not in out
    assert venv.listing() == before
    assert venv.pip("freeze", "--all").stdout == frozen


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads /proc")
def test_only_the_main_thread_takes_ctrl_c_while_an_install_runs(
    venv: Venv, index: IndexServer, tmp_path: Path
) -> None:
    index.faults[WHEEL_PATH] = Fault("stall", delay=STALL)
    asked_before = len(index.requests)
    process = _start(venv, index, tmp_path)
    try:
        _wait_for_the_stall(index, WHEEL_PATH, process, asked_before)
        threads = [int(t.name) for t in Path(f"/proc/{process.pid}/task").iterdir()]
        assert len(threads) > 1
        blocking = {tid: _blocks_interrupts(process.pid, tid) for tid in threads}
    finally:
        index.faults.clear()
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=STALL / 2)
    assert blocking.pop(process.pid) is False
    assert all(blocking.values()), blocking
