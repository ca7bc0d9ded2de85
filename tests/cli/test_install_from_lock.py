"""`install -r pylock.toml`: exactly the files a PEP 751 lock lists, checked by their hashes."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.cli_runs import install_into, listed
from tests.support.index_server import IndexServer, IndexTree
from tests.support.venvs import Venv
from tests.support.wheels import BuiltWheel
from wheelnext_jupyter.resolve.lock_file import is_lock_file

CUDA = {"nvidia": {"cuda_version_lower_bound": ["12.0"]}}
CUDA_PROFILE = {
    "format": "wheelnext-profile/1",
    "providers": {"nvidia": [{"name": "cuda_version_lower_bound", "values": ["12.9", "12.0"]}]},
    "host": {"markers": {"platform_system": "Linux", "platform_machine": "x86_64"}},
}
CPU_PROFILE = {"format": "wheelnext-profile/1", "providers": {}, "host": {}}


class Stack:
    def __init__(self, tree: IndexTree) -> None:
        self.tree = tree
        tree.add_wheel("wjk-gpu", "2.0", label="cu12", variant=CUDA, requires_dist=["wjk-dep"])
        tree.add_wheel("wjk-gpu", "2.0", label="null", variant={}, requires_dist=["wjk-dep"])
        tree.add_variants_json("wjk-gpu", "2.0", {"cu12": CUDA, "null": {}})
        self.dep = tree.add_wheel("wjk-dep", "1.0")
        # Newer than the locked version: a resolution would take it, a lock install must not.
        tree.add_wheel("wjk-dep", "1.1")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Stack:
    return Stack(IndexTree(tmp_path_factory.mktemp("index")))


@pytest.fixture(scope="module")
def index(stack: Stack) -> Iterator[IndexServer]:
    with IndexServer(stack.tree.root) as server:
        yield server


def install(venv: Venv, tmp_path: Path, *args: str, profile: dict = CUDA_PROFILE):
    return install_into(venv, tmp_path, *args, profile=profile)


def ours(venv: Venv) -> dict[str, tuple[str, str | None]]:
    return {name: row for name, row in listed(venv).items() if name.startswith("wjk")}


@pytest.fixture
def lock(index: IndexServer, venv_template: Path, tmp_path: Path) -> Path:
    """A lock written by an install of wjk-gpu 2.0 and wjk-dep 1.0 on a CUDA machine."""
    source = Venv(tmp_path / "locked-from")
    shutil.copytree(venv_template, source.root, symlinks=True)
    path = tmp_path / "pylock.toml"
    args = ("--index", f"local={index.index_url}", "wjk-gpu", "wjk-dep==1.0", "--lock", str(path))
    done = install(source, tmp_path, *args)
    assert done.returncode == 0, done.stderr
    return path


def write_lock(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "pylock.toml"
    path.write_text(text)
    return path


def test_a_lock_installs_the_same_files_and_variant_again(lock, venv, tmp_path):
    done = install(venv, tmp_path, "-r", str(lock))
    assert done.returncode == 0, done.stderr
    assert ours(venv) == {"wjk-gpu": ("2.0", "cu12"), "wjk-dep": ("1.0", None)}
    imported = venv.run("-c", "import wjk_gpu; print(wjk_gpu.VARIANT)")
    assert imported.stdout.strip() == "cu12"


def test_a_lock_for_a_machine_whose_variant_does_not_fit_installs_nothing(lock, venv, tmp_path):
    before = venv.listing()
    done = install(venv, tmp_path, "-r", str(lock), profile=CPU_PROFILE)
    assert done.returncode == 2
    assert "wjk-gpu==2.0" in done.stderr
    assert "variant `cu12`" in done.stderr
    assert venv.listing() == before


def test_a_tampered_hash_in_a_lock_installs_nothing(lock, venv, tmp_path):
    text = lock.read_text()
    digest = text.split('sha256 = "', 1)[1].split('"', 1)[0]
    lock.write_text(text.replace(digest, "0" * 64))
    before = venv.listing()
    done = install(venv, tmp_path, "-r", str(lock))
    assert done.returncode == 2
    assert "but the lock gives 000" in done.stderr
    assert "lock again from files you trust" in done.stderr
    assert venv.listing() == before


def test_a_lock_written_here_takes_its_files_from_their_urls_without_the_index(
    lock, index, venv, tmp_path
):
    asked = len(index.requests_for("/simple/wjk-gpu/"))
    done = install(venv, tmp_path, "-r", str(lock))
    assert done.returncode == 0, done.stderr
    # The variant comes from the metadata the lock inlines.
    assert ours(venv) == {"wjk-gpu": ("2.0", "cu12"), "wjk-dep": ("1.0", None)}
    assert len(index.requests_for("/simple/wjk-gpu/")) == asked


def test_a_lock_is_read_alone(lock, venv, tmp_path):
    done = install(venv, tmp_path, "-r", str(lock), "wjk-dep")
    assert done.returncode == 2
    assert f"a lock file lists everything to install: give {lock} alone" in done.stderr


def hand_lock(tmp_path: Path, wheel: BuiltWheel, path: str, more: str = "") -> Path:
    """A lock of `wheel` given by `path` (the wheel copied next to the lock), then `more`."""
    shutil.copy(wheel.path, tmp_path)
    entry = f'{{ name = "{wheel.path.name}", path = "{path}", hashes = {{ sha256 = "{wheel.sha256}" }} }}'
    return write_lock(
        tmp_path,
        f'lock-version = "1.0"\ncreated-by = "hand"\n\n[[packages]]\nname = "{wheel.name}"\n'
        f'version = "{wheel.version}"\nwheels = [{entry}]\n{more}',
    )


def test_a_wheel_given_by_a_path_next_to_the_lock_installs_without_an_index(stack, venv, tmp_path):
    path = hand_lock(tmp_path, stack.dep, f"./{stack.dep.path.name}")
    done = install(venv, tmp_path, "--no-index", "-r", str(path))
    assert done.returncode == 0, done.stderr
    assert ours(venv) == {"wjk-dep": ("1.0", None)}


def test_a_package_whose_marker_excludes_the_target_is_left_out(stack, venv, tmp_path):
    windows_only = (
        '\n[[packages]]\nname = "wjk-windows-only"\nversion = "1.0"\n'
        "marker = \"sys_platform == 'win32'\"\n"
        'wheels = [{ name = "wjk_windows_only-1.0-py3-none-any.whl", hashes = { sha256 = "'
        + "1" * 64
        + '" } }]\n'
    )
    path = hand_lock(tmp_path, stack.dep, stack.dep.path.name, windows_only)
    done = install(venv, tmp_path, "--no-index", "-r", str(path))
    assert done.returncode == 0, done.stderr
    assert ours(venv) == {"wjk-dep": ("1.0", None)}


LOCK_HEAD = 'lock-version = "1.0"\ncreated-by = "hand"\n'
PACKAGE = (
    '\n[[packages]]\nname = "wjk-dep"\nversion = "1.0"\n'
    'wheels = [{ name = "wjk_dep-1.0-py3-none-any.whl", hashes = { sha256 = "'
    + "1" * 64
    + '" } }]\n'
)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (
            'lock-version = "2.0"\n' + PACKAGE,
            "has lock-version '2.0'; this installer reads version 1 locks",
        ),
        (
            LOCK_HEAD + "environments = [\"sys_platform == 'win32'\"]\n" + PACKAGE,
            "is for other environments (sys_platform == 'win32'); lock again for this one",
        ),
        (
            LOCK_HEAD + 'requires-python = ">=3.99"\n' + PACKAGE,
            "requires Python >=3.99; the target runs Python",
        ),
        (
            LOCK_HEAD + '\n[[packages]]\nname = "wjk-src"\nversion = "1.0"\n'
            'sdist = { name = "wjk_src-1.0.tar.gz", hashes = { sha256 = "' + "1" * 64 + '" } }\n',
            "package wjk-src: only a sdist; only wheels are installed from a lock",
        ),
        (LOCK_HEAD, "lists no [[packages]]"),
        ("lock-version = ", "is not valid TOML"),
    ],
    ids=["version", "environments", "requires-python", "sdist", "empty", "not-toml"],
)
def test_a_lock_this_target_cannot_use_is_refused_naming_why(venv, tmp_path, text, says):
    path = write_lock(tmp_path, text)
    before = venv.listing()
    done = install(venv, tmp_path, "--no-index", "-r", str(path))
    assert done.returncode == 2
    assert f"lock file {path}" in done.stderr
    assert says in done.stderr
    assert venv.listing() == before


@pytest.mark.parametrize(
    ("name", "is_lock"),
    [
        ("pylock.toml", True),
        ("pylock.dev.toml", True),
        ("pylock.a.b.toml", False),
        ("requirements.txt", False),
        ("mylock.toml", False),
    ],
)
def test_lock_files_are_known_by_their_pep_751_names(name, is_lock):
    assert is_lock_file(Path("some") / name) is is_lock


def url_lock(tmp_path: Path, wheels: list[tuple[str, str, str]]) -> Path:
    """A lock of wjk-dep 1.0 whose wheels are (name, url, sha256)."""
    entries = ", ".join(
        f'{{ name = "{name}", url = "{url}", hashes = {{ sha256 = "{sha256}" }} }}'
        for name, url, sha256 in wheels
    )
    return write_lock(
        tmp_path,
        LOCK_HEAD + f'\n[[packages]]\nname = "wjk-dep"\nversion = "1.0"\nwheels = [{entries}]\n',
    )


def refused(venv: Venv, tmp_path: Path, lock: Path) -> str:
    """What an install of `lock` without an index says, once it has failed changing nothing."""
    before = venv.listing()
    done = install(venv, tmp_path, "--no-index", "-r", str(lock))
    assert done.returncode == 2
    assert venv.listing() == before
    return done.stderr


def served(index: IndexServer, wheel: BuiltWheel) -> str:
    return f"{index.url}/files/{wheel.name}/{wheel.path.name}"


def test_a_wheel_named_by_url_installs_without_an_index(stack, index, venv, tmp_path):
    dep = stack.dep
    path = url_lock(tmp_path, [(dep.path.name, served(index, dep), dep.sha256)])
    done = install(venv, tmp_path, "--no-index", "-r", str(path))
    assert done.returncode == 0, done.stderr
    assert ours(venv) == {"wjk-dep": ("1.0", None)}


def test_of_the_wheels_named_by_url_the_one_that_fits_the_target_is_taken(
    stack, index, venv, tmp_path
):
    dep = stack.dep
    other = "wjk_dep-1.0-cp39-cp39-win_amd64.whl"
    wheels = [
        (other, f"{index.url}/files/wjk-dep/{other}", "2" * 64),
        (dep.path.name, served(index, dep), dep.sha256),
    ]
    done = install(venv, tmp_path, "--no-index", "-r", str(url_lock(tmp_path, wheels)))
    assert done.returncode == 0, done.stderr
    assert ours(venv) == {"wjk-dep": ("1.0", None)}
    assert not index.requests_for(f"/files/wjk-dep/{other}")


def test_a_wheel_named_by_url_that_is_not_what_the_lock_hashed_installs_nothing(
    stack, index, venv, tmp_path
):
    dep = stack.dep
    path = url_lock(tmp_path, [(dep.path.name, served(index, dep), "3" * 64)])
    says = refused(venv, tmp_path, path)
    assert f"{dep.path.name} from lock file {path}" in says
    assert "but the lock gives 333" in says


def test_a_wheel_named_by_a_url_that_is_not_there_is_reported_with_the_way_out(
    stack, index, venv, tmp_path
):
    dep = stack.dep
    gone = f"{index.url}/files/wjk-dep/gone/{dep.path.name}"
    path = url_lock(tmp_path, [(dep.path.name, gone, dep.sha256)])
    says = refused(venv, tmp_path, path)
    assert f"lock file {path}: {gone} answered HTTP 404" in says
    assert "the lock names a file that is not there: lock again" in says
