"""The ipywidgets panel: Plan and Install against a loopback index, into a throw-away venv."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.index_server import IndexServer, IndexTree
from tests.support.venvs import Venv
from wheelnext_jupyter.engine import InstallRequest
from wheelnext_jupyter.widgets import WheelnextPanel

CUDA = {"nvidia": {"cuda_version_lower_bound": ["12.0"]}}
PROFILE = {
    "format": "wheelnext-profile/1",
    "providers": {"nvidia": [{"name": "cuda_version_lower_bound", "values": ["12.8", "12.0"]}]},
    "host": {},
}


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    tree = IndexTree(tmp_path_factory.mktemp("index"))
    tree.add_wheel("wjp-kernel", "1.0", label="cu12", variant=CUDA)
    tree.add_wheel("wjp-kernel", "1.0", label="null", variant={})
    tree.add_variants_json("wjp-kernel", "1.0", {"cu12": CUDA, "null": {}})
    with IndexServer(tree.root) as server:
        yield server


def make_panel(venv: Venv, index: IndexServer, tmp_path: Path) -> WheelnextPanel:
    profile = tmp_path / "profile.json"
    profile.write_text(json.dumps(PROFILE))
    panel = WheelnextPanel(
        InstallRequest(python=str(venv.python), profile=str(profile)), detect_host=False
    )
    panel.requirements.value = "wjp-kernel\n"
    panel.indexes.value = index.index_url
    return panel


def test_plan_button_shows_the_report_without_installing(venv, index, tmp_path) -> None:
    panel = make_panel(venv, index, tmp_path)
    panel.plan_button.click()
    assert panel.last_report is not None
    [item] = panel.last_report["install"]
    assert item["variant"]["label"] == "cu12"
    assert "Would install 1 package: wjp-kernel 1.0" in panel.report.value
    assert not list(venv.site_packages.glob("wjp_kernel*"))


def test_install_button_installs_the_chosen_variant(venv, index, tmp_path) -> None:
    panel = make_panel(venv, index, tmp_path)
    panel.install_button.click()
    assert "Installed 1 package: wjp-kernel 1.0" in panel.report.value
    assert venv.run("-c", "import wjp_kernel; print(wjp_kernel.VARIANT)").stdout.strip() == "cu12"


def test_a_failure_is_shown_in_the_panel_and_buttons_work_again(venv, index, tmp_path) -> None:
    panel = make_panel(venv, index, tmp_path)
    panel.requirements.value = "wjp-absent"
    panel.plan_button.click()
    assert "wjp-absent" in panel.report.value
    assert not panel.plan_button.disabled and not panel.install_button.disabled


def test_index_box_lines_become_indexes_in_priority_order(venv, index, tmp_path) -> None:
    panel = make_panel(venv, index, tmp_path)
    panel.indexes.value = "https://a.invalid/simple/\n\nhttps://b.invalid/simple/\n"
    request = panel.request()
    assert request.index.indexes == ["https://a.invalid/simple/", "https://b.invalid/simple/"]
    assert request.requirements == ["wjp-kernel"]
