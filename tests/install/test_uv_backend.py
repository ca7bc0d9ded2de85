"""`installer="uv"`: uv writes exactly the files we downloaded and verified, or we say why not."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from tests.support.index_server import IndexServer, IndexTree
from tests.support.venvs import Venv
from wheelnext_jupyter.engine import InstallRequest, install, plan
from wheelnext_jupyter.index.config import IndexOptions
from wheelnext_jupyter.install.uv_backend import (
    PREVIEW_FEATURES,
    UvBackendError,
    UvNotFound,
    find_uv,
    uv_command,
    uv_environment,
)

CUDA = {"nvidia": {"cuda_version_lower_bound": ["12.0"]}}
CUDA_PROFILE = {
    "format": "wheelnext-profile/1",
    "providers": {"nvidia": [{"name": "cuda_version_lower_bound", "values": ["12.9", "12.0"]}]},
    "host": {},
}
#: Files each installer writes about itself, not from the wheel.
INSTALLER_FILES = {"INSTALLER", "REQUESTED", "RECORD", "direct_url.json", "uv_cache.json"}


def uv_or_skip() -> Path:
    try:
        return find_uv()
    except UvNotFound:
        pytest.skip("uv is not installed")


@pytest.fixture(autouse=True)
def uv_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "uv-cache"))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    tree = IndexTree(tmp_path_factory.mktemp("index"))
    tree.add_wheel(
        "wju-app",
        "1.0",
        requires_dist=["wju-lib"],
        console_scripts={"wju-app": "wju_app:main"},
        files={"wju_app/data/table.txt": "1 2 3\n"},
    )
    tree.add_wheel("wju-lib", "2.0")
    tree.add_wheel("wju-gpu", "1.0", label="cu12", variant=CUDA)
    tree.add_variants_json("wju-gpu", "1.0", {"cu12": CUDA})
    with IndexServer(tree.root) as running:
        yield running


def request(venv: Venv, server: IndexServer, profile: Path, name: str) -> InstallRequest:
    return InstallRequest(
        requirements=[name],
        index=IndexOptions(index_url=server.index_url),
        python=str(venv.python),
        profile=str(profile),
    )


@pytest.fixture
def profile(tmp_path: Path) -> Path:
    path = tmp_path / "profile.json"
    path.write_text(json.dumps(CUDA_PROFILE))
    return path


def recorded_files(venv: Venv) -> set[str]:
    """Every path the RECORD files of the venv list, installer bookkeeping left out."""
    paths: set[str] = set()
    for record in venv.site_packages.glob("wju_*.dist-info/RECORD"):
        with record.open(newline="") as stream:
            for row in csv.reader(stream):
                if row and Path(row[0]).name not in INSTALLER_FILES and "__pycache__" not in row[0]:
                    paths.add(row[0])
    return paths


def test_uv_installs_the_same_files_as_the_built_in_installer(
    server, venv, venv_template, tmp_path, profile
):
    uv_or_skip()
    ours = venv
    theirs = Venv(tmp_path / "by-uv")
    shutil.copytree(venv_template, theirs.root, symlinks=True)
    install(plan(request(ours, server, profile, "wju-app")))
    done = install(plan(request(theirs, server, profile, "wju-app")), installer="uv")
    assert sorted(done.installed) == ["wju-app 1.0", "wju-lib 2.0"]
    assert (
        theirs.site_packages / "wju_app-1.0.dist-info" / "INSTALLER"
    ).read_text().strip() == "uv"
    assert recorded_files(theirs) == recorded_files(ours)
    assert len(recorded_files(ours)) > 4
    assert theirs.run("-c", "import wju_app, wju_lib").returncode == 0
    assert (theirs.root / "bin" / "wju-app").exists()


def test_uv_gets_the_verified_files_from_our_cache_not_an_index(server, venv, profile):
    uv_or_skip()
    result = plan(request(venv, server, profile, "wju-lib"))
    server.requests.clear()
    done = install(result, installer="uv")
    # At most our own download (none once cached); uv asks the index nothing (--no-index).
    assert {r.path for r in server.requests} <= {"/files/wju-lib/wju_lib-2.0-py3-none-any.whl"}
    assert done.wheels[0].path.name == "wju_lib-2.0-py3-none-any.whl"


def test_a_variant_plan_uv_refuses_is_written_by_the_built_in_installer(server, venv, profile):
    uv_or_skip()
    done = install(plan(request(venv, server, profile, "wju-gpu")), installer="uv")
    assert done.installed == ("wju-gpu 1.0",)
    assert any("uv refused" in warning for warning in done.warnings)
    installer = venv.site_packages / "wju_gpu-1.0.dist-info" / "INSTALLER"
    assert installer.read_text().strip() == "wheelnext-jupyter"


def test_a_failing_uv_is_an_error_that_names_the_way_out(server, venv, profile, tmp_path):
    from wheelnext_jupyter.install.uv_backend import install_with_uv
    from wheelnext_jupyter.install.wheelfile import verify_wheel

    broken = tmp_path / "uv"
    broken.write_text("#!/bin/sh\necho 'error: the disk is full' >&2\nexit 2\n")
    broken.chmod(0o755)
    result = plan(request(venv, server, profile, "wju-lib"))
    package = result.plan.to_install[0]
    wheel = next((server.root / "wju-lib").glob("*.whl"))
    with pytest.raises(UvBackendError) as caught:
        install_with_uv([(package, verify_wheel(wheel))], result.target, uv=broken)
    assert "the disk is full" in str(caught.value)
    assert "leave out --installer uv" in str(caught.value)


def test_the_uv_command_installs_only_the_given_files_offline(tmp_path):
    from wheelnext_jupyter.install.target import current_target

    target = current_target()
    files = [tmp_path / "a-1.0-py3-none-any.whl", tmp_path / "b-1.0-py3-none-any.whl"]
    command = uv_command(
        Path("/opt/uv"), target, files, compile_bytecode=True, break_system_packages=False
    )
    assert command[:3] == ["/opt/uv", "pip", "install"]
    assert command[command.index("--python") + 1] == str(target.python)
    for flag in ("--no-deps", "--no-index", "--no-config", "--offline", "--compile-bytecode"):
        assert flag in command
    assert "--break-system-packages" not in command
    assert command[-2:] == [str(f) for f in files]


def test_uv_runs_with_variant_wheels_enabled_and_without_pip_settings():
    env = uv_environment(
        {"PATH": "/bin", "PIP_FIND_LINKS": "/mirror", "UV_PREVIEW_FEATURES": "other"}
    )
    assert "PIP_FIND_LINKS" not in env
    assert env["UV_PREVIEW_FEATURES"].split(",") == ["other", PREVIEW_FEATURES]
