"""`wheelnext-jupyter demo`: build the demo index, serve it on 127.0.0.1, open JupyterLab on it.

The JupyterLab server runs with `WHEELNEXT_DEMO_INDEX` (the private index) and
`WHEELNEXT_DEMO_PUBLIC_INDEX` set, so the notebook finds the index without editing, and with its
own workspace directory, so the sidebar and the notebook open without touching the user's
saved JupyterLab layout.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

# The catalog, index builder and server are imported where they are used: every command line
# (`install` too) builds this command's parser, and those modules take a noticeable time to load.

INDEX_VARIABLE = "WHEELNEXT_DEMO_INDEX"
PUBLIC_INDEX_VARIABLE = "WHEELNEXT_DEMO_PUBLIC_INDEX"
NOTEBOOK = "wheelnext-demo.ipynb"
WORKSPACE = "workspace.json"
#: The id of the sidebar panel in JupyterLab's right-hand area.
SIDEBAR_ID = "wheelnext-sidebar"
DEFAULT_PORT = 8765


def add_demo_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"port of the demo index on 127.0.0.1 (default {DEFAULT_PORT}; 0 picks a free one)",
    )
    parser.add_argument(
        "--no-browser", action="store_true", help="start JupyterLab without opening a browser"
    )
    parser.add_argument(
        "--index-only",
        action="store_true",
        help="only build and serve the demo index and print its URL (until Ctrl-C)",
    )
    parser.add_argument(
        "--dir",
        metavar="DIR",
        help="where to build the index and put the notebook (default: ./wheelnext-demo)",
    )


def default_directory() -> Path:
    return Path.cwd() / "wheelnext-demo"


def demo_environment(base_url: str) -> dict[str, str]:
    """The variables that tell the notebook where the demo indexes are."""
    from wheelnext_jupyter.demo.catalog import PRIVATE_INDEX, PUBLIC_INDEX
    from wheelnext_jupyter.demo.index_builder import index_url

    return {
        INDEX_VARIABLE: index_url(base_url, PRIVATE_INDEX),
        PUBLIC_INDEX_VARIABLE: index_url(base_url, PUBLIC_INDEX),
    }


def notebook_text() -> str:
    from importlib import resources

    return resources.files("wheelnext_jupyter.demo").joinpath(NOTEBOOK).read_text("utf-8")


def copy_notebook(directory: Path) -> Path:
    """Put the demo notebook into `directory`, keeping a copy the user has changed."""
    target = directory / NOTEBOOK
    if not target.exists():
        target.write_text(notebook_text(), encoding="utf-8")
    return target


def workspace(notebook: str = NOTEBOOK) -> dict[str, object]:
    """A JupyterLab workspace with the sidebar and the demo notebook open."""
    return {
        "data": {
            "layout-restorer:data": {
                "main": {
                    "dock": {
                        "type": "tab-area",
                        "currentIndex": 0,
                        "widgets": [f"notebook:{notebook}"],
                    },
                    "current": f"notebook:{notebook}",
                },
                "right": {"collapsed": False, "current": SIDEBAR_ID, "widgets": [SIDEBAR_ID]},
            },
            f"notebook:{notebook}": {"data": {"path": notebook, "factory": "Notebook"}},
        },
        "metadata": {"id": "default"},
    }


def _jupyter_lab_command(directory: Path, args: argparse.Namespace) -> list[str]:
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        f"--ServerApp.root_dir={directory}",
        f"--LabApp.default_url=/lab/tree/{NOTEBOOK}",
    ]
    if args.no_browser:
        command.append("--no-browser")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        # Containers often run as root; the demo serves only 127.0.0.1 and a throw-away folder.
        command.append("--allow-root")
    return command


def _lab_environment(directory: Path) -> dict[str, str]:
    """JupyterLab reads and saves its layout in the demo folder, not in the user's own."""
    return {"JUPYTERLAB_WORKSPACES_DIR": str(directory / ".workspaces")}


def _import_workspace(directory: Path) -> None:
    path = directory / WORKSPACE
    path.write_text(json.dumps(workspace(), indent=2) + "\n", encoding="utf-8")
    subprocess.run(
        [sys.executable, "-m", "jupyterlab.labapp", "workspaces", "import", str(path)],
        env={**os.environ, **_lab_environment(directory)},
        check=False,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def run_demo(args: argparse.Namespace) -> int:
    from wheelnext_jupyter.demo.index_builder import build_demo_index
    from wheelnext_jupyter.demo.server import DemoServer, DemoServerError

    directory = Path(args.dir) if args.dir else default_directory()
    directory = directory.expanduser().resolve()
    built = build_demo_index(directory)
    count = sum(len(wheels) for wheels in built.wheels.values())
    try:
        server = DemoServer(directory, port=args.port)
    except DemoServerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    env = demo_environment(server.url)
    print(f"Built {count} demo wheels in {directory}")
    print(f"Private (first-priority) index: {env[INDEX_VARIABLE]}")
    print(f"Public index (with an impostor): {env[PUBLIC_INDEX_VARIABLE]}")
    notebook = copy_notebook(directory)
    print(f"Demo notebook: {notebook}")
    if args.index_only:
        print("\nIn a shell, before starting Jupyter:")
        for name, value in env.items():
            print(f"  export {name}={value}")
        print("\nServing until Ctrl-C.", flush=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.stop()
        return 0
    import shutil  # not on every command line's start-up path

    if shutil.which("jupyter") is None and not _has_jupyterlab():
        server.stop()
        print(
            "error: JupyterLab is not installed in this environment; install it with "
            "`pip install 'wheelnext-jupyter[demo]'`, or run `wheelnext-jupyter demo --index-only`",
            file=sys.stderr,
        )
        return 1
    _import_workspace(directory)
    server.start()
    try:
        completed = subprocess.run(
            _jupyter_lab_command(directory, args),
            env={**os.environ, **env, **_lab_environment(directory)},
            check=False,
        )
    except KeyboardInterrupt:
        return 0
    finally:
        server.stop()
    return completed.returncode


def _has_jupyterlab() -> bool:
    import importlib.util

    return importlib.util.find_spec("jupyterlab") is not None
