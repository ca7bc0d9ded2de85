"""An index on the local disk, given as a `file:` URL as pip takes one: a directory's page is
its `index.html`, and a location that is not there holds no project (pip ignores it with a
warning) instead of failing every lookup."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name

from tests.cli.test_install import cli
from tests.support.index_server import IndexTree
from tests.support.venvs import Venv
from wheelnext_jupyter.demo.index_pages import PageFile, project_page
from wheelnext_jupyter.index.http import HttpClient

CPU_PROFILE = {"format": "wheelnext-profile/1", "providers": {}, "host": {}}


@pytest.fixture(scope="module")
def local_index(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A static PEP 503 index of two wheels (one needs the other), as a `file:` URL."""
    root = tmp_path_factory.mktemp("local-index")
    tree = IndexTree(root / "files")
    wheels = [
        tree.add_wheel("wjl-base", "1.0"),
        tree.add_wheel("wjl-app", "1.0", requires_dist=["wjl-base"]),
    ]
    for wheel in wheels:
        name = canonicalize_name(wheel.name)
        page = root / "simple" / name
        page.mkdir(parents=True)
        listed = PageFile(
            wheel.path.name,
            os.path.relpath(wheel.path, page),
            wheel.sha256,
            hashlib.sha256(wheel.metadata).hexdigest(),
        )
        (page / "index.html").write_text(project_page(name, [listed]), encoding="utf-8")
    return (root / "simple").as_uri() + "/"


def _install(venv: Venv, tmp_path: Path, *indexes: str) -> tuple[int, str]:
    profile = tmp_path / "cpu.json"
    profile.write_text(json.dumps(CPU_PROFILE))
    done = cli(
        "install", "--python", str(venv.python), "--profile", str(profile), *indexes, "wjl-app"
    )
    return done.returncode, done.stderr


def test_installs_from_a_local_index_given_as_a_file_url(
    local_index: str, venv: Venv, tmp_path: Path
) -> None:
    code, stderr = _install(venv, tmp_path, "--index-url", local_index)
    assert code == 0, stderr
    assert venv.run("-c", "import wjl_app, wjl_base").returncode == 0


def test_a_local_index_that_is_not_there_holds_nothing_and_the_next_one_serves(
    local_index: str, venv: Venv, tmp_path: Path
) -> None:
    # An extra index goes first: the missing one is asked before the one that has the wheels.
    missing = (tmp_path / "no-such-index" / "simple").as_uri() + "/"
    code, stderr = _install(
        venv, tmp_path, "--extra-index-url", missing, "--index-url", local_index
    )
    assert code == 0, stderr
    assert venv.run("-c", "import wjl_app").returncode == 0


def test_a_directory_url_answers_with_its_index_page_and_a_missing_one_with_404(
    local_index: str, tmp_path: Path
) -> None:
    with HttpClient() as client:
        page = client.get(local_index + "wjl-app/")
        missing = client.get((tmp_path / "nothing").as_uri() + "/")
    assert (page.status, page.content_type) == (200, "text/html")
    assert b"wjl_app-1.0-py3-none-any.whl" in page.body
    assert missing.status == 404


def test_a_percent_sign_in_a_directory_name_is_read_as_itself(tmp_path: Path) -> None:
    # `as_uri` writes "%" as "%25": decoded once, the name comes back as it is.
    page = tmp_path / "mirror%41" / "simple" / "wjl-app"
    page.mkdir(parents=True)
    (page / "index.html").write_text("<html></html>", encoding="utf-8")
    with HttpClient() as client:
        got = client.get(page.as_uri() + "/")
    assert (got.status, got.body) == (200, b"<html></html>")
