"""`wheelnext-jupyter demo`: options, `--index-only`, the notebook copy and the workspace."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import nbformat

from wheelnext_jupyter.demo.command import (
    NOTEBOOK,
    SIDEBAR_ID,
    add_demo_arguments,
    copy_notebook,
    demo_environment,
    workspace,
)


def _parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_demo_arguments(parser)
    return parser.parse_args(list(argv))


def test_options_and_their_defaults() -> None:
    args = _parse()
    assert (args.port, args.no_browser, args.index_only, args.dir) == (8765, False, False, None)
    args = _parse("--port", "0", "--no-browser", "--index-only", "--dir", "x")
    assert (args.port, args.no_browser, args.index_only, args.dir) == (0, True, True, "x")


def test_environment_names_both_indexes() -> None:
    assert demo_environment("http://127.0.0.1:9/") == {
        "WHEELNEXT_DEMO_INDEX": "http://127.0.0.1:9/private/simple/",
        "WHEELNEXT_DEMO_PUBLIC_INDEX": "http://127.0.0.1:9/public/simple/",
    }


def test_index_only_builds_serves_and_prints_the_url(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    command = [
        "-m",
        "wheelnext_jupyter.demo",
        "--index-only",
        "--port",
        "0",
        "--dir",
        str(tmp_path),
    ]
    process = subprocess.Popen(
        [sys.executable, *command],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        url = None
        for line in process.stdout:
            if line.startswith("  export WHEELNEXT_DEMO_INDEX="):
                url = line.strip().partition("=")[2]
                break
        assert url is not None and url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(url + "wn-demo-simd/") as response:
            assert b"wn_demo_simd-1.0.0-py3-none-any-x8664v4.whl" in response.read()
    finally:
        process.terminate()
        process.wait(timeout=30)
        if process.stdout is not None:
            process.stdout.close()
    assert (tmp_path / "private/simple/index.html").is_file()


def test_notebook_is_copied_once_and_a_changed_copy_is_kept(tmp_path: Path) -> None:
    path = copy_notebook(tmp_path)
    assert path == tmp_path / NOTEBOOK
    nbformat.validate(nbformat.read(path, as_version=4))
    path.write_text("changed")
    copy_notebook(tmp_path)
    assert path.read_text() == "changed"


def test_workspace_opens_the_sidebar_and_the_notebook() -> None:
    layout = workspace()["data"]["layout-restorer:data"]  # type: ignore[index]
    assert layout["right"]["current"] == SIDEBAR_ID
    assert layout["main"]["current"] == f"notebook:{NOTEBOOK}"


def test_binder_workspace_opens_the_notebook_its_start_script_builds() -> None:
    root = Path(__file__).resolve().parents[2] / "binder"
    assert json.loads((root / "workspace.json").read_text()) == workspace(
        "demo-run/wheelnext-demo.ipynb"
    )
    assert 'DEMO_DIR="${HOME}/demo-run"' in (root / "start").read_text()
