"""`install --lock FILE`: a PEP 751 lock of what was installed, read back with a TOML parser."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib

from tests.support.index_server import IndexServer, IndexTree
from tests.support.venvs import Venv, clean_env

CUDA = {"nvidia": {"cuda_version_lower_bound": ["12.0"]}}
CUDA_PROFILE = {
    "format": "wheelnext-profile/1",
    "providers": {"nvidia": [{"name": "cuda_version_lower_bound", "values": ["12.9", "12.0"]}]},
    "host": {"markers": {"platform_system": "Linux", "platform_machine": "x86_64"}},
}
SCHEMA = "https://variants-schema.wheelnext.dev/peps/825/v0.1.1.json"


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> IndexTree:
    tree = IndexTree(tmp_path_factory.mktemp("index"))
    tree.add_wheel("wjl-gpu", "2.0", label="cu12", variant=CUDA, requires_dist=["wjl-dep"])
    tree.add_wheel("wjl-gpu", "2.0", label="null", variant={}, requires_dist=["wjl-dep"])
    tree.add_variants_json("wjl-gpu", "2.0", {"cu12": CUDA, "null": {}})
    tree.add_wheel("wjl-dep", "1.0")
    return tree


def run_install(venv: Venv, tmp_path: Path, index: str, *args: str):
    profile = tmp_path / "profile.json"
    profile.write_text(json.dumps(CUDA_PROFILE))
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "wheelnext_jupyter",
            "install",
            "--python",
            str(venv.python),
            "--index",
            index,
            "--profile",
            str(profile),
            *args,
        ],
        capture_output=True,
        text=True,
        env=clean_env(),
        check=False,
    )


def sha256_of(tree: IndexTree, project: str, filename: str) -> str:
    return hashlib.sha256((tree.root / project / filename).read_bytes()).hexdigest()


def test_lock_lists_each_installed_wheel_with_its_hash_and_index(tree, venv, tmp_path):
    lock_path = tmp_path / "pylock.toml"
    with IndexServer(tree.root) as server:
        done = run_install(
            venv, tmp_path, f"local={server.index_url}", "wjl-gpu", "--lock", str(lock_path)
        )
    assert done.returncode == 0, done.stderr
    lock = tomllib.loads(lock_path.read_text())
    assert lock["lock-version"] == "1.0"
    assert lock["created-by"] == "wheelnext-jupyter"
    packages = {p["name"]: p for p in lock["packages"]}
    assert sorted(packages) == ["wjl-dep", "wjl-gpu"]
    assert packages["wjl-gpu"]["version"] == "2.0"
    [gpu_wheel] = packages["wjl-gpu"]["wheels"]
    assert gpu_wheel["name"] == "wjl_gpu-2.0-py3-none-any-cu12.whl"
    assert gpu_wheel["hashes"] == {
        "sha256": sha256_of(tree, "wjl-gpu", "wjl_gpu-2.0-py3-none-any-cu12.whl")
    }
    [dep_wheel] = packages["wjl-dep"]["wheels"]
    assert dep_wheel["hashes"] == {"sha256": sha256_of(tree, "wjl-dep", dep_wheel["name"])}
    for package in packages.values():
        assert package["tool"]["wheelnext-jupyter"]["index"] == "local"


def test_lock_inlines_the_chosen_variant_with_its_schema(tree, venv, tmp_path):
    lock_path = tmp_path / "pylock.toml"
    with IndexServer(tree.root) as server:
        done = run_install(
            venv, tmp_path, f"local={server.index_url}", "wjl-gpu", "--lock", str(lock_path)
        )
    assert done.returncode == 0, done.stderr
    gpu = next(
        p for p in tomllib.loads(lock_path.read_text())["packages"] if p["name"] == "wjl-gpu"
    )
    assert gpu["variants-json"]["$schema"] == SCHEMA
    # Only the installed label's entry is kept (PEP 825 lets a lock drop the others).
    assert gpu["variants-json"]["variants"] == {"cu12": {"nvidia": CUDA["nvidia"]}}
    assert "variants-json" not in next(
        p for p in tomllib.loads(lock_path.read_text())["packages"] if p["name"] == "wjl-dep"
    )


def test_lock_carries_no_credentials(tree, venv, tmp_path):
    lock_path = tmp_path / "pylock.toml"
    secret = "lock-s3cret"
    with IndexServer(tree.root, credentials=("user", secret)) as server:
        done = run_install(
            venv,
            tmp_path,
            f"private={server.url_with_credentials('/simple/')}",
            "wjl-dep",
            "--lock",
            str(lock_path),
        )
    assert done.returncode == 0, done.stderr
    text = lock_path.read_text()
    assert secret not in text and "****" not in text
    assert secret not in done.stdout + done.stderr
    [package] = tomllib.loads(text)["packages"]
    assert package["index"].endswith("/simple/") and "@" not in package["index"]


def test_an_unwritable_lock_path_is_a_usage_error(tree, venv, tmp_path):
    with IndexServer(tree.root) as server:
        done = run_install(
            venv,
            tmp_path,
            f"local={server.index_url}",
            "wjl-dep",
            "--lock",
            str(tmp_path / "missing-dir" / "pylock.toml"),
        )
    assert done.returncode == 2
    assert "pylock.toml" in done.stderr


def test_an_install_that_writes_nothing_leaves_the_lock_file_alone_and_says_why(
    tree, venv, tmp_path
):
    lock = tmp_path / "pylock.toml"
    with IndexServer(tree.root) as server:
        index = f"local={server.index_url}"
        assert run_install(venv, tmp_path, index, "wjl-dep", "--lock", str(lock)).returncode == 0
        kept = lock.read_bytes()
        again = run_install(venv, tmp_path, index, "wjl-dep", "--lock", str(lock))
        dry = run_install(venv, tmp_path, index, "wjl-gpu", "--dry-run", "--lock", str(lock))
    assert again.returncode == 0, again.stderr
    assert (
        "note: no lock file written: nothing was installed, and a lock records what an install "
        "wrote (--force-reinstall installs, and locks, the packages again)"
    ) in again.stderr
    assert dry.returncode == 0, dry.stderr
    assert "note: no lock file written: a dry run installs nothing" in dry.stderr
    assert lock.read_bytes() == kept
