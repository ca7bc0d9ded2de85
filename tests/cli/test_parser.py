"""The command line's parser, built whole or for the one command the arguments name."""

from __future__ import annotations

import contextlib
import io

import pytest

from wheelnext_jupyter import cli


@pytest.mark.parametrize(
    "words",
    [
        ["install", "--python", "/p/python", "-i", "http://127.0.0.1:1/simple/", "--dry-run", "x"],
        ["install", "-U", "--no-deps", "--lock", "pylock.toml", "numpy>=2", "rich"],
        ["explain", "torch", "--variants-json", "f.json", "--json"],
        ["demo", "--port", "0", "--no-browser"],
        ["list", "--json"],
        ["detect", "--json", "--refresh"],
    ],
    ids=lambda words: words[0],
)
def test_a_parser_for_one_command_reads_it_as_the_whole_parser_does(words: list[str]) -> None:
    whole = vars(cli.build_parser().parse_args(words))
    assert vars(cli.build_parser(words[0]).parse_args(words)) == whole


def test_a_parser_for_one_command_sets_up_no_other() -> None:
    parser = cli.build_parser("install")
    with contextlib.redirect_stderr(io.StringIO()), pytest.raises(SystemExit):
        parser.parse_args(["list"])


def test_a_mistyped_command_is_told_with_every_command_there_is() -> None:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), pytest.raises(SystemExit) as exited:
        cli.main(["instal", "x"])
    assert exited.value.code == 2
    assert all(repr(command) in err.getvalue() for command in cli.COMMANDS)


def test_help_without_a_command_lists_every_command() -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit):
        cli.main(["--help"])
    assert all(command in out.getvalue() for command in cli.COMMANDS)
