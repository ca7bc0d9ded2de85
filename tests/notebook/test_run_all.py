"""A failing `%wninstall` stops "Run all": a notebook executed with nbclient in a real kernel."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from tests.notebook.kernels import kernel_env, kernel_manager, kernel_venv
from tests.support.index_server import IndexServer, IndexTree


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    tree = IndexTree(tmp_path_factory.mktemp("index"))
    tree.add_wheel("wjr-present", "1.0")
    with IndexServer(tree.root) as server:
        yield server


def test_the_cell_after_a_failing_install_does_not_run(
    index: IndexServer, venv_template: Path, tmp_path: Path
) -> None:
    target = kernel_venv(venv_template, tmp_path / "venv")
    profile = tmp_path / "profile.json"
    profile.write_text('{"format": "wheelnext-profile/1", "providers": {}, "host": {}}')
    options = f"--index-url {index.index_url} --profile {profile}"
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell("%load_ext wheelnext_jupyter"),
        nbformat.v4.new_code_cell(f"%wninstall {options} wjr-absent"),
        nbformat.v4.new_code_cell("print('after the failure')"),
    ]
    manager = kernel_manager(target.python, tmp_path / "kernels")
    manager.start_kernel(env=kernel_env(), cwd=str(tmp_path))
    client = NotebookClient(notebook, km=manager, timeout=120)
    try:
        with pytest.raises(CellExecutionError) as failure:
            client.execute()
    finally:
        # The client does not own this manager, so its channels are ours to close.
        if client.kc is not None:
            client.kc.stop_channels()
        manager.shutdown_kernel(now=True)
    assert "WninstallError" in str(failure.value)
    assert "wjr-absent" in str(failure.value)
    load, install, after = notebook.cells
    assert load.execution_count == 1
    assert install.outputs[-1]["output_type"] == "error"
    assert after.execution_count is None
    assert after.outputs == []
    assert not list(target.site_packages.glob("wjr_*"))
