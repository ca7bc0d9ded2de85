"""Wheels start downloading while the resolver is still resolving, and the install takes them over."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.support.index_server import Fault, IndexServer, IndexTree
from tests.support.venvs import Venv
from tests.support.wheels import sha256_hex
from wheelnext_jupyter.engine import InstallRequest, Progress, install, plan
from wheelnext_jupyter.index.config import IndexOptions
from wheelnext_jupyter.index.errors import HashMismatch
from wheelnext_jupyter.install.download import WheelCache
from wheelnext_jupyter.paths import cache_dir

CPU_PROFILE = {"format": "wheelnext-profile/1", "providers": {}, "host": {}}


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> IndexTree:
    tree = IndexTree(tmp_path_factory.mktemp("index"))
    # Names of their own: the wheel cache is shared by the whole test session.
    tree.add_wheel("wjp-early-a", "1.0", requires_dist=["wjp-early-b"])
    tree.add_wheel("wjp-early-b", "1.0", requires_dist=["wjp-early-c"])
    tree.add_wheel("wjp-early-c", "1.0")
    for prefix in ("once", "dry", "bad"):
        tree.add_wheel(f"wjp-{prefix}-app", "1.0", requires_dist=[f"wjp-{prefix}-lib"])
        tree.add_wheel(f"wjp-{prefix}-lib", "1.0", files={"blob.bin": b"x" * 200_000})
    tree.add_wheel("wjp-cancel-app", "1.0")
    tree.add_wheel("wjp-late-app", "1.0")
    return tree


@pytest.fixture
def server(tree: IndexTree):
    with IndexServer(tree.root) as running:
        yield running


@pytest.fixture(scope="module")
def profile(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("profile") / "cpu.json"
    path.write_text(json.dumps(CPU_PROFILE))
    return str(path)


def _request(venv: Venv, server: IndexServer, profile: str, name: str) -> InstallRequest:
    return InstallRequest(
        requirements=[name],
        index=IndexOptions(index_url=server.index_url),
        python=str(venv.python),
        profile=profile,
    )


def _answered(server: IndexServer) -> list[str]:
    return [r.path for r in server.requests]


def _wheel(tree: IndexTree, name: str) -> Path:
    (path,) = (tree.root / name).glob("*.whl")
    return path


def test_a_pinned_wheel_downloads_while_the_resolver_waits_for_the_next_page(
    venv: Venv, server: IndexServer, tree: IndexTree, profile: str
) -> None:
    server.faults["/simple/wjp-early-c/"] = Fault("slow", delay=1.0)
    result = plan(_request(venv, server, profile, "wjp-early-a"), prefetch=True)
    result.close()
    answered = _answered(server)
    wheel = f"/files/wjp-early-a/{_wheel(tree, 'wjp-early-a').name}"
    # Requests are recorded when answered: the wheel came back while c's page was held.
    assert answered.index(wheel) < answered.index("/simple/wjp-early-c/")


def test_the_install_takes_over_prefetched_downloads_without_asking_again(
    venv: Venv, server: IndexServer, tree: IndexTree, profile: str
) -> None:
    events: list[Progress] = []
    result = plan(_request(venv, server, profile, "wjp-once-app"), prefetch=True)
    install(result, progress=events.append)
    wheels = [path for path in _answered(server) if path.endswith(".whl")]
    assert sorted(wheels) == sorted(set(wheels)) and len(wheels) == 2
    downloads = [e for e in events if e.phase == "download"]
    # Every byte is reported, whether it arrived before the install asked or after.
    assert downloads[-1].bytes_done == downloads[-1].bytes_total
    assert downloads[-1].files_done == 2
    assert venv.run("-c", "import wjp_once_app, wjp_once_lib").returncode == 0


def test_a_plan_without_prefetch_downloads_no_wheel(
    venv: Venv, server: IndexServer, profile: str
) -> None:
    result = plan(_request(venv, server, profile, "wjp-dry-app"))
    assert [p.name for p in result.plan.to_install] == ["wjp-dry-app", "wjp-dry-lib"]
    assert not [path for path in _answered(server) if path.endswith(".whl")]


def test_downloads_no_install_takes_over_are_cancelled_and_not_cached(
    venv: Venv, server: IndexServer, tree: IndexTree, profile: str
) -> None:
    wheel = _wheel(tree, "wjp-cancel-app")
    server.faults[f"/files/wjp-cancel-app/{wheel.name}"] = Fault("slow", delay=0.5, times=1)
    result = plan(_request(venv, server, profile, "wjp-cancel-app"), prefetch=True)
    started = time.monotonic()
    result.close()
    # Waits for the answer under way, not for anything after it.
    assert time.monotonic() - started < 5
    cache = WheelCache(cache_dir() / "wheels")
    assert cache.lookup(sha256_hex(wheel.read_bytes()), wheel.name) is None
    # A later install fetches it normally.
    done = install(plan(_request(venv, server, profile, "wjp-cancel-app"), prefetch=True))
    assert done.installed == ("wjp-cancel-app 1.0",)


def test_a_prefetched_file_with_a_wrong_hash_fails_the_install_with_nothing_written(
    venv: Venv, server: IndexServer, tree: IndexTree, profile: str
) -> None:
    lib = _wheel(tree, "wjp-bad-lib")
    server.faults[f"/files/wjp-bad-lib/{lib.name}"] = Fault("wrong-hash")
    before = venv.listing()
    result = plan(_request(venv, server, profile, "wjp-bad-app"), prefetch=True)
    with pytest.raises(HashMismatch, match=lib.name):
        install(result)
    assert venv.listing() == before


def test_a_plan_closed_before_its_install_still_installs(
    venv: Venv, server: IndexServer, tree: IndexTree, profile: str
) -> None:
    wheel = _wheel(tree, "wjp-late-app")
    server.faults[f"/files/wjp-late-app/{wheel.name}"] = Fault("slow", delay=0.5, times=1)
    result = plan(_request(venv, server, profile, "wjp-late-app"), prefetch=True)
    result.close()  # cancels the download under way
    done = install(result)
    assert done.installed == ("wjp-late-app 1.0",)
    assert venv.run("-c", "import wjp_late_app").returncode == 0
