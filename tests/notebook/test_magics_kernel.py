"""`%wninstall`, `%wndetect` and `%wnexplain` in a real kernel, against a loopback index.

One kernel serves the whole module (see `tests/notebook/kernels.py` for how it runs the python
of a throw-away venv that can import this project). The index asks for HTTP Basic credentials,
and the kernel's environment holds a token: neither may appear in any output.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.notebook.kernels import Kernel, kernel_env, kernel_venv
from tests.support.index_server import Fault, IndexServer, IndexTree
from tests.support.venvs import Venv

REPORT_MIME = "application/vnd.wheelnext.report+json"
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
PASSWORD = "s3cret-pass-8842"
TOKEN = "tok-77f1e0c2d5a94b3c"
BIG_WHEEL = "/files/wjn-big/wjn_big-1.0-py3-none-any.whl"

CUDA = {"nvidia": {"cuda_version_lower_bound": ["12.0"], "sm_arch": ["80_real", "86_real"]}}
ROCM = {"amd": {"gfx_arch": ["gfx942"]}}
CUDA_PROFILE = {
    "format": "wheelnext-profile/1",
    "providers": {
        "nvidia": [
            {"name": "cuda_version_lower_bound", "values": ["12.9", "12.0", "12"]},
            {"name": "sm_arch", "values": ["86_real", "80_real"], "multi_value": True},
        ]
    },
    "host": {},
}
CPU_PROFILE = {"format": "wheelnext-profile/1", "providers": {}, "host": {}}


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    tree = IndexTree(tmp_path_factory.mktemp("index"))
    tree.add_wheel("wjn-torch", "2.0", label="cu12", variant=CUDA)
    tree.add_wheel("wjn-torch", "2.0", label="rocm6", variant=ROCM)
    tree.add_wheel("wjn-torch", "2.0", label="null", variant={})
    tree.add_variants_json("wjn-torch", "2.0", {"cu12": CUDA, "rocm6": ROCM, "null": {}})
    tree.add_wheel("wjn-fresh", "1.0")
    tree.add_wheel("wjn-up", "1.0")
    tree.add_wheel("wjn-up", "2.0")
    tree.add_wheel("wjn-dry", "1.0")
    tree.add_wheel("wjn-big", "1.0", files={"wjn_big/data.bin": bytes(range(256)) * 8192})
    with IndexServer(tree.root, credentials=("alice", PASSWORD)) as server:
        yield server


@pytest.fixture(scope="module")
def profiles(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    directory = tmp_path_factory.mktemp("profiles")
    paths = {}
    for name, doc in (("cuda", CUDA_PROFILE), ("cpu", CPU_PROFILE)):
        paths[name] = directory / f"{name}.json"
        paths[name].write_text(json.dumps(doc))
    return paths


@pytest.fixture(scope="module")
def target(venv_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Venv:
    return kernel_venv(venv_template, tmp_path_factory.mktemp("kernel") / "venv")


@pytest.fixture(scope="module")
def kernel(target: Venv, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kernel]:
    work = tmp_path_factory.mktemp("kernel-work")
    env = kernel_env({"WNJ_TEST_API_TOKEN": TOKEN})
    session = Kernel(target.python, work / "kernels", env, cwd=work)
    try:
        yield session
    finally:
        session.shutdown()


@pytest.fixture(scope="module")
def loaded(kernel: Kernel) -> Kernel:
    kernel.execute("%load_ext wheelnext_jupyter")
    return kernel


def options(index: IndexServer, profile: Path) -> str:
    return f"--index-url {index.url_with_credentials()} --profile {profile}"


class TextOf(HTMLParser):
    """Visible text, and the text of every table row (cells joined by " | ")."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.text: list[str] = []
        self.rows: list[str] = []
        self._row: list[str] | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag == "tr":
            self._row = []
        elif tag == "td" and self._row is not None:
            self._row.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "tr" and self._row is not None:
            self.rows.append(" | ".join(cell.strip() for cell in self._row))
            self._row = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._row:
            self._row[-1] += data


def test_importing_the_package_in_a_kernel_registers_the_magics(kernel: Kernel) -> None:
    # Start from a kernel without the magics and without the package imported, whatever ran
    # before in this kernel.
    done = kernel.execute(
        "import sys\n"
        "line = get_ipython().magics_manager.magics['line']\n"
        "for name in ('wninstall', 'wndetect', 'wnexplain'):\n"
        "    line.pop(name, None)\n"
        "sys.modules.pop('wheelnext_jupyter', None)\n"
        "import wheelnext_jupyter\n"
        "print(sorted(n for n in line if n.startswith('wn')))"
    )
    assert done.error is None
    assert done.stdout.strip() == "['wndetect', 'wnexplain', 'wninstall']"


def test_help_lists_the_install_commands_options_and_ui(loaded: Kernel) -> None:
    done = loaded.execute("%wninstall --help")
    assert done.error is None
    for option in ("--index-strategy", "--pin", "--exclude-variant", "--dry-run", "--ui"):
        assert option in done.stdout


def test_wndetect_shows_the_profiles_namespaces_as_a_table(loaded, profiles) -> None:
    done = loaded.execute(f"%wndetect --profile {profiles['cuda']}")
    assert done.error is None
    [html] = loaded.history[-1].with_mime("text/html")
    assert (
        "nvidia | supported | cuda_version_lower_bound = 12.9, 12.0, 12; "
        f"sm_arch = 86_real, 80_real | profile {profiles['cuda']}"
    ) in TextOf(html).rows


def test_wndetect_without_a_profile_describes_this_machine(loaded) -> None:
    import platform

    done = loaded.execute("%wndetect")
    assert done.error is None
    [text] = done.with_mime("text/plain")
    assert text.startswith("CPU: ")
    [html] = done.with_mime("text/html")
    assert any(row.startswith("CPU | ") for row in TextOf(html).rows)
    machine = {"AMD64": "x86_64", "arm64": "aarch64"}.get(platform.machine(), platform.machine())
    assert any(row.startswith(f"{machine} | supported") for row in TextOf(html).rows)


def test_dry_run_reports_the_plan_and_installs_nothing(loaded, index, profiles, target) -> None:
    done = loaded.execute(f"%wninstall --dry-run {options(index, profiles['cpu'])} wjn-dry")
    assert done.error is None
    [report] = done.with_mime(REPORT_MIME)
    assert [item["metadata"]["name"] for item in report["install"]] == ["wjn-dry"]
    assert not list(target.site_packages.glob("wjn_dry*"))
    # Progress collapsed to one line, before the report.
    progress = done.bundles()[0]
    assert progress["text/plain"].startswith("Resolved: 1 package to install")


def test_a_dry_run_asked_for_a_lock_says_in_view_that_it_wrote_none(
    loaded, index, profiles, tmp_path
) -> None:
    lock = tmp_path / "pylock.toml"
    line = f"%wninstall --dry-run --lock {lock} {options(index, profiles['cpu'])} wjn-dry"
    done = loaded.execute(line)
    assert done.error is None
    assert done.bundles()[0]["text/plain"].startswith(
        "Resolved: 1 package to install; no lock file written: a dry run installs nothing"
    )
    assert not lock.exists()


def test_report_html_names_the_chosen_variant_its_source_and_why_others_lost(
    loaded, index, profiles
) -> None:
    done = loaded.execute(f"%wninstall --dry-run {options(index, profiles['cuda'])} wjn-torch")
    assert done.error is None
    [html] = done.with_mime("text/html")[-1:]
    page = TextOf(html)
    assert "Variant | cu12" in page.rows
    redacted = index.index_url.replace("http://", "http://alice:****@")
    assert f"From | {redacted}" in page.rows
    rocm = next(row for row in page.rows if row.startswith("rocm6 | incompatible | "))
    assert "namespace `amd` is not supported on this target" in rocm
    rejected_file = next(
        row for row in page.rows if row.startswith("wjn_torch-2.0-py3-none-any-rocm6.whl")
    )
    assert "| rejected | variant `rocm6`: namespace `amd` is not supported" in rejected_file
    assert any(row.startswith("null #2 | compatible") for row in page.rows)


def test_installed_package_imports_in_the_same_kernel_without_restart(
    loaded, index, profiles
) -> None:
    done = loaded.execute(f"%wninstall {options(index, profiles['cpu'])} wjn-fresh")
    assert done.error is None, done.error
    [report] = done.with_mime(REPORT_MIME)
    assert report["restart_required"] == []
    imported = loaded.execute("import wjn_fresh\nprint(wjn_fresh.__version__)")
    assert imported.error is None
    assert imported.stdout.strip() == "1.0"


def test_upgrading_an_imported_package_reports_restart_required(loaded, index, profiles) -> None:
    first = loaded.execute(f"%wninstall {options(index, profiles['cpu'])} wjn-up==1.0")
    assert first.error is None, first.error
    assert loaded.execute("import wjn_up").error is None
    done = loaded.execute(f"%wninstall -U {options(index, profiles['cpu'])} wjn-up")
    assert done.error is None, done.error
    [report] = done.with_mime(REPORT_MIME)
    assert report["restart_required"] == ["wjn-up"]
    [html] = done.with_mime("text/html")[-1:]
    assert "Restart required." in TextOf(html).text
    # A restart button (ipywidgets is importable in this kernel).
    assert done.with_mime(WIDGET_MIME)


def test_a_failure_raises_with_the_engines_message_and_a_short_traceback(
    loaded, index, profiles
) -> None:
    done = loaded.execute(f"%wninstall {options(index, profiles['cpu'])} wjn-missing")
    assert done.error is not None
    assert done.error["ename"] == "WninstallError"
    assert "wjn-missing" in done.error["evalue"]
    assert len(done.error["traceback"]) <= 5


def test_interrupting_the_kernel_stops_an_install_at_once_and_changes_nothing(
    loaded, index, profiles, target
) -> None:
    # The download stops half way and stays quiet for a minute; the client's read timeout is
    # 15 s, so an install still running 10 s after the interrupt did not stop at once.
    index.faults[BIG_WHEEL] = Fault("stall", delay=60)
    try:
        before, frozen = target.listing(), target.pip("freeze", "--all").stdout
        asked_before = len(index.requests)
        cell = loaded.start(f"%wninstall {options(index, profiles['cpu'])} wjn-big")
        deadline = time.monotonic() + 60
        while not any(r.path == BIG_WHEEL for r in index.requests[asked_before:]):
            assert time.monotonic() < deadline, "the wheel was never asked for"
            time.sleep(0.02)
        time.sleep(0.3)  # half the body arrives; the download then waits for the rest
        sent = time.monotonic()
        loaded.manager.interrupt_kernel()
        done = loaded.collect(cell, timeout=30)
    finally:
        index.faults.clear()
    assert time.monotonic() - sent < 10
    assert done.error is not None and done.error["ename"] == "KeyboardInterrupt"
    # One line, not the cell's source (its index URL holds the password).
    assert done.error["traceback"] == [
        "KeyboardInterrupt: interrupted: nothing was installed, the environment is as it was"
    ]
    assert target.listing() == before
    assert target.pip("freeze", "--all").stdout == frozen


def test_an_unexpected_error_shows_the_engines_frames_without_the_cell_or_credentials(
    loaded, index, profiles
) -> None:
    loaded.execute(
        "import wheelnext_jupyter.engine as engine\n"
        "real_plan = engine.plan\n"
        "def broken_plan(request, **options):\n"
        "    raise RuntimeError(f'cannot plan against {request.index.index_url}')\n"
        "engine.plan = broken_plan"
    )
    try:
        done = loaded.execute(f"%wninstall {options(index, profiles['cpu'])} wjn-fresh")
    finally:
        loaded.execute("engine.plan = real_plan")
    assert done.error is not None and done.error["ename"] == "RuntimeError"
    shown = "\n".join(done.error["traceback"])
    assert "broken_plan" in shown and "cannot plan against" in shown
    assert "run_line_magic" not in shown
    assert PASSWORD not in shown + done.error["evalue"]


def test_specifiers_are_not_variable_expanded(loaded, index, profiles) -> None:
    loaded.execute("x = 'expanded'")
    done = loaded.execute(f"%wninstall --dry-run {options(index, profiles['cpu'])} wjn-dry{{x}}")
    assert done.error is not None
    assert "wjn-dry{x}" in done.error["evalue"]


def test_wnexplain_shows_each_variants_verdict(loaded, index, profiles) -> None:
    done = loaded.execute(f"%wnexplain wjn-torch {options(index, profiles['cuda'])}")
    assert done.error is None, done.error
    [html] = done.with_mime("text/html")
    rows = TextOf(html).rows
    assert any(row.startswith("cu12 #1 | chosen") for row in rows)
    assert any(row.startswith("rocm6 | incompatible") for row in rows)


def test_no_output_ever_shows_the_index_password_or_an_environment_token(loaded) -> None:
    # Runs last: every cell this kernel ran, including failures and progress updates.
    seen = "".join(executed.everything() for executed in loaded.history)
    assert "127.0.0.1" in seen  # the outputs did name the index
    assert PASSWORD not in seen
    assert TOKEN not in seen
