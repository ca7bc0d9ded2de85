"""The magics' arguments, help and errors, in an in-process IPython shell."""

from __future__ import annotations

import pytest
from IPython.testing.globalipapp import start_ipython

from wheelnext_jupyter.cli import build_parser
from wheelnext_jupyter.magics import WninstallError, install_parser

#: Every option `wheelnext-jupyter install` documents (DESIGN.md, "Contracts"), with an argument.
CONTRACT = [
    ["-r", "reqs.txt"],
    ["-c", "cons.txt"],
    ["-U"],
    ["--pre"],
    ["--no-deps"],
    ["--dry-run"],
    ["--index-url", "https://example.invalid/simple/"],
    ["--extra-index-url", "https://example.invalid/extra/"],
    ["--find-links", "/wheels"],
    ["--report", "-"],
    ["--python", "/usr/bin/python3"],
    ["--index", "https://example.invalid/a/"],
    ["--index-strategy", "best-match"],
    ["--pin", "torch=a"],
    ["--profile", "p.json"],
    ["--variant", "torch=cu12"],
    ["--exclude-variant", "torch=cpu"],
    ["--no-variants"],
    ["--enable-provider", "nvidia"],
    ["--trust-provider", "plugin==1.0"],
    ["--lock", "pylock.toml"],
    ["--installer", "uv"],
    ["--compile"],
]


@pytest.fixture(scope="module")
def shell():
    return start_ipython()


@pytest.mark.parametrize("words", CONTRACT, ids=lambda words: words[0])
def test_magic_accepts_every_install_option(words: list[str]) -> None:
    install_parser().parse_args([*words, "pkg"])


def test_ui_is_a_magic_only_flag() -> None:
    assert install_parser().parse_args(["--ui"]).ui is True
    with pytest.raises(SystemExit):
        build_parser().parse_args(["install", "--ui"])


def test_a_bad_option_raises_instead_of_exiting_the_kernel() -> None:
    with pytest.raises(WninstallError, match="--no-such-option"):
        install_parser().parse_args(["--no-such-option"])


def test_traceback_is_the_message_only() -> None:
    error = WninstallError("cannot reach corp\nfix: check the URL")
    assert error._render_traceback_() == ["WninstallError: cannot reach corp", "fix: check the URL"]


def test_load_ext_registers_three_line_magics_that_skip_variable_expansion(shell) -> None:
    shell.run_line_magic("load_ext", "wheelnext_jupyter")
    for name in ("wninstall", "wndetect", "wnexplain"):
        magic = shell.find_line_magic(name)
        assert magic is not None
        assert magic._ipython_magic_no_var_expand is True


def test_question_mark_help_is_the_install_commands_usage(shell) -> None:
    shell.run_line_magic("load_ext", "wheelnext_jupyter")
    text = shell.object_inspect_text("%wninstall")
    assert "usage: %wninstall" in text
    assert "--index-strategy" in text and "--ui" in text
