"""The demo notebook runs top to bottom on a CPU-only machine against the demo index.

The notebook is executed by nbclient in a kernel of this project's environment, with the
variables `wheelnext-jupyter demo` sets; its installs go into the throw-away `.demo-env` it makes
in its own (temporary) directory. Expected choices are the ones the demo's metadata implies:
no GPU here → the null (CPU) build; the CUDA 12.9 Ampere profile → cu129; `--variant` → mkl;
first-index keeps the private 1.0.0, best-match takes the public impostor 99.0.0.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from collections.abc import Iterator
from typing import Any

import nbformat
import pytest

from wheelnext_jupyter.demo.command import copy_notebook, demo_environment
from wheelnext_jupyter.demo.index_builder import build_demo_index
from wheelnext_jupyter.demo.server import DemoServer

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        importlib.util.find_spec("wheelnext_jupyter.magics") is None,
        reason="the %wninstall magics (wheelnext_jupyter.magics) are not available yet",
    ),
]

KERNEL = "wheelnext-demo-test"


def _cell_text(cell: Any) -> str:
    parts = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            parts.append(output["text"])
        elif "data" in output:
            parts.append(output["data"].get("text/plain", ""))
    return "".join(parts)


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    from nbclient import NotebookClient

    root = tmp_path_factory.mktemp("demo")
    build_demo_index(root)
    notebook_path = copy_notebook(root)
    kernels = tmp_path_factory.mktemp("jupyter") / "kernels" / KERNEL
    kernels.mkdir(parents=True)
    (kernels / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "wheelnext demo test",
                "language": "python",
            }
        )
    )
    saved = dict(os.environ)
    with DemoServer(root) as server:
        try:
            # The kernel inherits this process's environment, as it inherits the launcher's.
            for key in [k for k in os.environ if k.startswith("PIP_")]:
                del os.environ[key]
            os.environ["JUPYTER_PATH"] = str(kernels.parent.parent)
            os.environ.update(demo_environment(server.url))
            notebook = nbformat.read(notebook_path, as_version=4)
            client = NotebookClient(
                notebook,
                timeout=300,
                kernel_name=KERNEL,
                resources={"metadata": {"path": str(root)}},
            )
            client.execute()
        finally:
            os.environ.clear()
            os.environ.update(saved)
    yield {cell.source: _cell_text(cell) for cell in notebook.cells if cell.cell_type == "code"}


def _output_of(executed: dict[str, str], source_start: str, occurrence: int = 0) -> str:
    matches = [text for source, text in executed.items() if source.startswith(source_start)]
    assert matches, f"no cell starts with {source_start!r}"
    return matches[occurrence]


def test_this_cpu_only_machine_gets_the_cpu_build(executed: dict[str, str]) -> None:
    out = _output_of(executed, "run_in_demo_env(\n")
    assert "wn-demo-accel 1.0.0: CPU build (the null variant) (variant null)" in out


def test_the_remote_gpu_profile_gets_the_cuda_12_9_build(executed: dict[str, str]) -> None:
    out = _output_of(executed, "%wninstall --dry-run --profile profiles/cuda12.9-ampere.json")
    assert "wn-demo-accel 1.0.0 variant cu129" in out


def test_the_report_is_read_back_with_its_decision(executed: dict[str, str]) -> None:
    out = _output_of(executed, "report = json.loads")
    assert "variant: cu129" in out
    assert "rejected  wn_demo_accel-1.0.0-py3-none-any-cu130.whl" in out


def test_a_named_variant_is_installed_and_imported(executed: dict[str, str]) -> None:
    out = _output_of(executed, 'run_in_demo_env("import wn_demo_blas')
    assert out.strip() == "wn-demo-blas 1.0.0: MKL build (variant mkl)"


def test_default_extra_brings_its_dependency(executed: dict[str, str]) -> None:
    out = _output_of(executed, 'run_in_demo_env("import wn_demo_plot')
    assert "wn-demo-helper 1.0.0" in out


def test_first_index_keeps_the_private_package(executed: dict[str, str]) -> None:
    out = _output_of(executed, "get_ipython().run_line_magic(", 0)
    assert "wn-demo-internal 1.0.0 from private" in out
    assert "99.0.0" not in out


def test_best_match_would_take_the_impostor(executed: dict[str, str]) -> None:
    out = _output_of(executed, "get_ipython().run_line_magic(", 1)
    assert "wn-demo-internal 99.0.0" in out
