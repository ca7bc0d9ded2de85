"""pip's hash-checking mode: `--hash` in requirements files, and `--require-hashes`."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.cli_runs import install_into
from tests.support.index_server import IndexServer, IndexTree
from tests.support.venvs import Venv
from tests.support.wheels import BuiltWheel

CUDA = {"nvidia": {"cuda_version_lower_bound": ["12.0"]}}
CUDA_PROFILE = {
    "format": "wheelnext-profile/1",
    "providers": {"nvidia": [{"name": "cuda_version_lower_bound", "values": ["12.9", "12.0"]}]},
    "host": {"markers": {"platform_system": "Linux", "platform_machine": "x86_64"}},
}
MISMATCH = "sha256:" + "0" * 64


class Stack:
    def __init__(self, tree: IndexTree) -> None:
        self.tree = tree
        self.app = tree.add_wheel("wjh-app", "1.0", requires_dist=["wjh-dep"])
        self.dep = tree.add_wheel("wjh-dep", "1.0")
        self.gpu_cuda = tree.add_wheel("wjh-gpu", "1.0", label="cu12", variant=CUDA)
        self.gpu_null = tree.add_wheel("wjh-gpu", "1.0", label="null", variant={})
        tree.add_variants_json("wjh-gpu", "1.0", {"cu12": CUDA, "null": {}})


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Stack:
    return Stack(IndexTree(tmp_path_factory.mktemp("index")))


@pytest.fixture(scope="module")
def index(stack: Stack) -> Iterator[IndexServer]:
    with IndexServer(stack.tree.root) as server:
        yield server


def sha256(wheel: BuiltWheel) -> str:
    return f"sha256:{wheel.sha256}"


def requirements(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "requirements.txt"
    path.write_text("".join(f"{line}\n" for line in lines))
    return path


def install(venv: Venv, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return install_into(venv, tmp_path, *args, profile=CUDA_PROFILE)


def from_index(index: IndexServer) -> tuple[str, str]:
    return ("--index-url", index.index_url)


def test_files_matching_their_hashes_install(stack, index, venv, tmp_path):
    listed = requirements(
        tmp_path,
        f"wjh-app==1.0 --hash={sha256(stack.app)}",
        f"wjh-dep==1.0 --hash={MISMATCH} --hash={sha256(stack.dep)}",
    )
    done = install(venv, tmp_path, *from_index(index), "-r", str(listed))
    assert done.returncode == 0, done.stderr
    assert venv.run("-c", "import wjh_app, wjh_dep").returncode == 0


def test_a_file_whose_published_hash_matches_none_is_passed_over_and_nothing_changes(
    stack, index, venv, tmp_path
):
    before, frozen = venv.listing(), venv.pip("freeze", "--all").stdout
    listed = requirements(
        tmp_path, f"wjh-app==1.0 --hash={sha256(stack.app)}", f"wjh-dep==1.0 --hash={MISMATCH}"
    )
    done = install(venv, tmp_path, *from_index(index), "-r", str(listed))
    assert done.returncode == 2
    assert (
        "1.0: no file of this version fits: its hash is not among the --hash values given for "
        "wjh-dep"
    ) in done.stderr
    assert done.stderr.rstrip().endswith(
        "The files the sources have match none of the --hash values given: write the hashes "
        "again for them (`pip-compile --generate-hashes`), or find out where a file changed."
    )
    assert venv.listing() == before
    assert venv.pip("freeze", "--all").stdout == frozen


def test_a_file_whose_hash_no_index_publishes_is_checked_once_it_has_arrived(stack, venv, tmp_path):
    # A find-links directory publishes no hashes: the resolver cannot tell, the content can.
    links = tmp_path / "links"
    links.mkdir()
    for wheel in (stack.app, stack.dep):
        shutil.copy(wheel.path, links)
    before, frozen = venv.listing(), venv.pip("freeze", "--all").stdout
    listed = requirements(
        tmp_path, f"wjh-app==1.0 --hash={sha256(stack.app)}", f"wjh-dep==1.0 --hash={MISMATCH}"
    )
    done = install(venv, tmp_path, "--no-index", "--find-links", str(links), "-r", str(listed))
    assert done.returncode == 2
    assert (
        f"{stack.dep.path.name} from {links} (sha256:{stack.dep.sha256}) matches none of the "
        "--hash values given for wjh-dep"
    ) in done.stderr
    assert "nothing was installed" in done.stderr
    assert venv.listing() == before
    assert venv.pip("freeze", "--all").stdout == frozen


def test_a_hash_of_another_algorithm_is_checked_against_the_files_content(stack, venv, tmp_path):
    links = tmp_path / "links"
    links.mkdir()
    shutil.copy(stack.dep.path, links)
    sha512 = hashlib.sha512(stack.dep.path.read_bytes()).hexdigest()
    listed = requirements(tmp_path, f"wjh-dep==1.0 --hash=sha512:{sha512}")
    done = install(venv, tmp_path, "--no-index", "--find-links", str(links), "-r", str(listed))
    assert done.returncode == 0, done.stderr
    assert venv.run("-c", "import wjh_dep").returncode == 0


def test_the_hashes_choose_among_a_versions_variant_wheels(stack, index, venv, tmp_path):
    # The CUDA build ranks first for this target, but only the null variant's hash is given.
    listed = requirements(tmp_path, f"wjh-gpu==1.0 --hash={sha256(stack.gpu_null)}")
    done = install(venv, tmp_path, *from_index(index), "-r", str(listed))
    assert done.returncode == 0, done.stderr
    assert "wjh_gpu-1.0-py3-none-any-null.whl" in done.stdout
    assert venv.run("-c", "import wjh_gpu; print(wjh_gpu.VARIANT)").stdout.strip() == "null"


def test_a_requirement_not_pinned_is_refused_before_any_request(stack, index, venv, tmp_path):
    listed = requirements(tmp_path, f"wjh-dep>=1 --hash={sha256(stack.dep)}")
    asked_before = len(index.requests)
    done = install(venv, tmp_path, *from_index(index), "-r", str(listed))
    assert done.returncode == 2
    assert (
        "hash-checking mode needs every requirement pinned with == (one version): wjh-dep>=1 "
        f"(-r {listed} (line 1))"
    ) in done.stderr
    assert len(index.requests) == asked_before


def test_a_dependency_without_a_hash_is_named_and_nothing_changes(stack, index, venv, tmp_path):
    before = venv.listing()
    listed = requirements(tmp_path, f"wjh-app==1.0 --hash={sha256(stack.app)}")
    done = install(venv, tmp_path, *from_index(index), "-r", str(listed))
    assert done.returncode == 2
    assert "none is given for wjh-dep (dependencies included)" in done.stderr
    assert venv.listing() == before


def test_require_hashes_on_the_command_line_refuses_requirements_without_hashes(
    index, venv, tmp_path
):
    before = venv.listing()
    done = install(venv, tmp_path, *from_index(index), "--require-hashes", "wjh-dep==1.0")
    assert done.returncode == 2
    assert "none is given for wjh-dep" in done.stderr
    assert venv.listing() == before


def test_require_hashes_in_a_file_turns_the_mode_on_for_the_command_line_too(index, venv, tmp_path):
    listed = requirements(tmp_path, "--require-hashes")
    done = install(venv, tmp_path, *from_index(index), "-r", str(listed), "wjh-dep")
    assert done.returncode == 2
    assert "pinned with == (one version): wjh-dep (command line)" in done.stderr
