"""`install --user`: into the interpreter's user site, as `pip install --user` does."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.cli_runs import install_into, listed
from tests.support.index_server import IndexServer, IndexTree
from tests.support.venvs import Venv, clean_env

PROFILE = {"format": "wheelnext-profile/1", "providers": {}, "host": {}}


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    tree = IndexTree(tmp_path_factory.mktemp("index"))
    tree.add_wheel("wju-lib", "1.0")
    tree.add_wheel("wju-lib", "2.0", console_scripts={"wju-lib": "wju_lib:main"})
    with IndexServer(tree.root) as server:
        yield server


@pytest.fixture
def userbase(tmp_path: Path) -> Path:
    return tmp_path / "userbase"


@pytest.fixture
def seeing(tmp_path: Path) -> Venv:
    """A virtual environment that reads the user site (made with --system-site-packages)."""
    root = tmp_path / "seeing"
    subprocess.run(
        [sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(root)],
        check=True,
        env=clean_env(),
    )
    return Venv(root)


def env(userbase: Path) -> dict[str, str]:
    return {"PYTHONUSERBASE": str(userbase)}


def install(
    venv: Venv, index: IndexServer, tmp_path: Path, userbase: Path, *args: str
) -> subprocess.CompletedProcess[str]:
    words = ("--index-url", index.index_url, *args)
    return install_into(venv, tmp_path, *words, profile=PROFILE, env=env(userbase))


def ask(venv: Venv, userbase: Path, code: str) -> str:
    """What the environment's interpreter prints for `code`, with this user base."""
    done = subprocess.run(
        [str(venv.python), "-c", code],
        capture_output=True,
        text=True,
        env=clean_env(env(userbase)),
        check=True,
    )
    return done.stdout.strip()


def version_seen(venv: Venv, userbase: Path) -> tuple[str, Path]:
    """The version of wju-lib the environment's interpreter imports, and where from."""
    code = "import importlib.metadata as m, wju_lib; print(m.version('wju-lib'), wju_lib.__file__)"
    version, where = ask(venv, userbase, code).split()
    return version, Path(where)


def user_site(venv: Venv, userbase: Path) -> Path:
    return Path(ask(venv, userbase, "import site; print(site.getusersitepackages())"))


def test_user_installs_into_the_user_site_and_imports_from_there(index, seeing, tmp_path, userbase):
    before = seeing.listing()
    done = install(seeing, index, tmp_path, userbase, "--user", "wju-lib")
    assert done.returncode == 0, done.stderr
    version, where = version_seen(seeing, userbase)
    assert version == "2.0"
    assert where.is_relative_to(user_site(seeing, userbase))
    assert (userbase / "bin" / "wju-lib").is_file()
    assert seeing.listing() == before


def test_a_package_the_environment_has_is_kept_for_the_user(index, seeing, tmp_path, userbase):
    assert install(seeing, index, tmp_path, userbase, "wju-lib==2.0").returncode == 0
    done = install(seeing, index, tmp_path, userbase, "--user", "wju-lib")
    assert done.returncode == 0, done.stderr
    assert "keep      wju-lib 2.0 (already installed)" in done.stdout
    assert not userbase.exists()


def test_an_upgrade_for_the_user_of_what_the_environment_reads_first_is_refused(
    index, seeing, tmp_path, userbase
):
    # A virtual environment's own site-packages come before the user site on its path: a newer
    # copy in the user site would never be imported (pip refuses this too).
    assert install(seeing, index, tmp_path, userbase, "wju-lib==1.0").returncode == 0
    before = seeing.listing()
    done = install(seeing, index, tmp_path, userbase, "--user", "-U", "wju-lib")
    assert done.returncode == 2
    assert (
        f"wju-lib 1.0 in {seeing.site_packages} comes first on the interpreter's path, so "
        f"wju-lib 2.0 installed into {user_site(seeing, userbase)} would not be imported; "
        "install without --user"
    ) in done.stderr
    assert seeing.listing() == before
    assert not userbase.exists()


def test_user_into_an_environment_that_does_not_read_the_user_site_is_refused(
    index, venv, tmp_path, userbase
):
    before = venv.listing()
    done = install(venv, index, tmp_path, userbase, "--user", "wju-lib")
    assert done.returncode == 2
    assert (
        "the target interpreter does not read its user site inside a virtual environment, so "
        "what --user installed there would not import; install without --user"
    ) in done.stderr
    assert venv.listing() == before
    assert not userbase.exists()


def test_list_shows_what_the_interpreter_reads_and_list_user_the_user_sites_only(
    index, seeing, tmp_path, userbase
):
    assert install(seeing, index, tmp_path, userbase, "--user", "wju-lib").returncode == 0

    assert listed(seeing, "--user", env=env(userbase)) == {"wju-lib": ("2.0", None)}
    everything = listed(seeing, env=env(userbase))
    assert everything["wju-lib"] == ("2.0", None)
    assert "wju-lib" not in listed(seeing, env={"PYTHONUSERBASE": str(tmp_path / "elsewhere")})
