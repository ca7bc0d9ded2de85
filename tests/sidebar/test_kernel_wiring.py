"""What the sidebar relies on from the kernel side: `%wninstall` records each install for the
History and restart notice, and `%wnexplain` takes exactly the command line's arguments."""

from __future__ import annotations

import platform
from collections.abc import Iterator

import pytest

from tests.comm.loopback import EXPECTED_ON_CPU, PACKAGE, build_index
from tests.support.index_server import IndexServer
from tests.support.venvs import Venv
from wheelnext_jupyter import comm, magics
from wheelnext_jupyter.cli import CommandError, build_parser, explain_request_from_args


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    with IndexServer(build_index(tmp_path_factory.mktemp("index"))) as running:
        yield running


@pytest.fixture(autouse=True)
def no_pip_configuration(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("PIP_CONFIG_FILE", "/dev/null")
    monkeypatch.delenv("PIP_FIND_LINKS", raising=False)
    comm.clear_history()
    yield
    comm.clear_history()


@pytest.mark.skipif(platform.machine() != "x86_64", reason="the index's CPU variant is x86_64")
def test_wninstall_records_the_install_with_its_command_line(
    server: IndexServer, venv: Venv
) -> None:
    line = f"{PACKAGE} --index loop={server.index_url} --python {venv.python}"
    magics.wninstall(line)
    [entry] = comm.install_history()
    assert entry["command"] == f"%wninstall {line}"
    [item] = entry["report"]["install"]
    assert item["metadata"]["name"] == PACKAGE
    assert item["variant"]["label"] == EXPECTED_ON_CPU


def test_wninstall_dry_run_is_not_recorded(server: IndexServer, venv: Venv) -> None:
    magics.wninstall(f"{PACKAGE} --index loop={server.index_url} --python {venv.python} --dry-run")
    assert comm.install_history() == []


def test_wnexplain_parses_like_the_command_lines_explain() -> None:
    words = ["torch==2.9.0", "--index", "a=http://x/simple/", "--variant", "cu12", "--json"]
    from_cli = vars(build_parser().parse_args(["explain", *words]))
    from_magic = vars(magics.explain_parser().parse_args(words))
    assert from_cli.pop("command") == "explain"
    assert from_magic == from_cli


def test_explain_request_scopes_bare_variant_labels_to_the_package() -> None:
    args = magics.explain_parser().parse_args(
        ["torch>=2.9", "--variant", "cu12", "--exclude-variant", "cpu"]
    )
    request = explain_request_from_args(args)
    assert request.requirements == ["torch>=2.9"]
    assert request.variants == ["torch=cu12"]
    assert request.exclude_variants == ["torch=cpu"]


def test_explain_request_rejects_what_is_not_a_requirement() -> None:
    args = magics.explain_parser().parse_args(["torch=="])
    with pytest.raises(CommandError, match="NAME==VERSION"):
        explain_request_from_args(args)


def test_recorded_commands_hide_index_credentials() -> None:
    comm.record_install(
        {"install": []}, command="%wninstall a --index https://alice:s3cret@example.test/simple/"
    )
    [entry] = comm.install_history()
    assert entry["command"] == "%wninstall a --index https://alice:****@example.test/simple/"
