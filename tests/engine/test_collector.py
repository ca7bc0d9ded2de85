"""The cycle collector is paused while the engine plans and installs, and only then."""

from __future__ import annotations

import gc
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.index_server import IndexServer, IndexTree
from tests.support.venvs import Venv
from wheelnext_jupyter import engine
from wheelnext_jupyter.collector import paused
from wheelnext_jupyter.engine import InstallRequest, Progress, install, plan
from wheelnext_jupyter.index.config import IndexOptions
from wheelnext_jupyter.resolve.resolver import Plan, ResolutionError


@pytest.fixture(autouse=True)
def collector_on() -> Iterator[None]:
    gc.enable()
    yield
    gc.enable()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    tree = IndexTree(tmp_path_factory.mktemp("index"))
    tree.add_wheel("wjg-app", "1.0", requires_dist=["wjg-lib"])
    tree.add_wheel("wjg-lib", "1.0")
    with IndexServer(tree.root) as running:
        yield running


def request(server: IndexServer, venv: Venv, tmp_path: Path, name: str) -> InstallRequest:
    profile = tmp_path / "cpu.json"
    profile.write_text(json.dumps({"format": "wheelnext-profile/1", "providers": {}, "host": {}}))
    return InstallRequest(
        requirements=[name],
        index=IndexOptions(index_url=server.index_url),
        python=str(venv.python),
        profile=str(profile),
    )


def test_a_pause_switches_the_collector_off_and_on_again() -> None:
    with paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_nested_pauses_switch_it_on_again_when_the_outermost_ends() -> None:
    with paused():
        with paused():
            pass
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_collector_switched_off_before_the_pause_stays_off() -> None:
    gc.disable()
    with paused():
        pass
    assert not gc.isenabled()


def test_overlapping_pauses_in_two_threads_switch_it_on_when_the_last_ends() -> None:
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    seen: list[bool] = []

    def second() -> None:
        first_in.wait(10)
        with paused():
            second_in.set()
            first_out.wait(10)
            seen.append(gc.isenabled())

    thread = threading.Thread(target=second)
    thread.start()
    with paused():
        first_in.set()
        second_in.wait(10)
    first_out.set()
    thread.join(10)
    assert seen == [False]
    assert gc.isenabled()


def test_a_plan_resolves_with_the_collector_paused_and_leaves_it_on(
    server: IndexServer, venv: Venv, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[bool] = []
    resolve = engine.resolve

    def watched(*args: Any, **kwargs: Any) -> Plan:
        seen.append(gc.isenabled())
        return resolve(*args, **kwargs)

    monkeypatch.setattr(engine, "resolve", watched)
    plan(request(server, venv, tmp_path, "wjg-app")).close()
    assert seen == [False]
    assert gc.isenabled()


def test_an_install_runs_with_the_collector_paused_and_leaves_it_on(
    server: IndexServer, venv: Venv, tmp_path: Path
) -> None:
    seen: set[bool] = set()

    def progress(event: Progress) -> None:
        seen.add(gc.isenabled())

    install(plan(request(server, venv, tmp_path, "wjg-app")), progress=progress)
    assert seen == {False}
    assert gc.isenabled()
    assert {"wjg_app", "wjg_lib"} <= {p.name.split("-")[0] for p in venv.site_packages.iterdir()}


def test_a_plan_that_fails_leaves_the_collector_on(
    server: IndexServer, venv: Venv, tmp_path: Path
) -> None:
    with pytest.raises(ResolutionError):
        plan(request(server, venv, tmp_path, "wjg-app>=2"))
    assert gc.isenabled()
