"""The command line's parser, built whole or for the one command the arguments name."""

from __future__ import annotations

import argparse
import contextlib
import io
import subprocess
import sys
from pathlib import Path

import pytest

import wheelnext_jupyter
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


def test_version_prints_the_packages_version() -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as exited:
        cli.main(["--version"])
    assert exited.value.code == 0
    assert out.getvalue() == f"wheelnext-jupyter {wheelnext_jupyter.__version__}\n"


def test_building_the_parser_imports_no_shutil() -> None:
    # argparse finds the terminal's width with shutil, which imports bz2 and lzma: milliseconds
    # at every start for a width only help uses.
    code = (
        "import sys, wheelnext_jupyter.cli as cli\n"
        "cli.build_parser('install').parse_args(['install', 'x'])\n"
        "print('shutil' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_help_is_wrapped_to_the_columns_the_environment_gives(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def widest(columns: int) -> int:
        monkeypatch.setenv("COLUMNS", str(columns))
        return max(len(line) for line in cli.build_parser("install").format_help().splitlines())

    assert widest(50) <= 50
    assert 50 < widest(120) <= 120


def test_help_is_wrapped_as_argparse_wraps_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "72")
    ours = cli.build_parser("install")
    plain = cli.build_parser("install")
    plain.formatter_class = argparse.HelpFormatter
    assert ours.format_help() == plain.format_help()


@pytest.mark.parametrize("command", cli.COMMANDS)
def test_the_reference_shows_each_commands_help_as_it_is(
    command: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # docs/reference/cli.md shows `--help` at 100 columns; an option added without it is missed.
    monkeypatch.setenv("COLUMNS", "100")
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit):
        cli.main([command, "--help"])
    reference = Path(__file__).parents[2] / "docs" / "reference" / "cli.md"
    text = reference.read_text(encoding="utf-8")
    start = text.index(f"```text\nusage: wheelnext-jupyter {command} ") + len("```text\n")
    assert text[start : text.index("```", start)] == out.getvalue()
