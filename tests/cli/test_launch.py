"""The entry point starts describing a `--python` target before it imports the engine."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.venvs import Venv
from wheelnext_jupyter import launch, pattern_cache, trust_store
from wheelnext_jupyter.install import staging
from wheelnext_jupyter.launch import _fetches_over_https, _option

WATCH = """
import gc, json, sys
from wheelnext_jupyter.install import probe_ahead

started = []
original = probe_ahead.start

def start(python):
    started.append([str(python), "wheelnext_jupyter.engine" in sys.modules])
    original(python)

probe_ahead.start = start
from wheelnext_jupyter.launch import main

status = main(sys.argv[1:])
left = [python for python, _ in started if probe_ahead.take(python) is not None]
frozen = gc.get_freeze_count()
print(json.dumps({"started": started, "status": status, "left": left, "frozen": frozen}))
"""


def _launch(*args: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", WATCH, *args], capture_output=True, text=True, check=False
    )
    assert done.stdout, done.stderr
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_the_target_is_probed_before_the_engine_is_imported_and_the_probe_is_used(
    venv: Venv,
) -> None:
    result = _launch("list", "--python", str(venv.python), "--json")
    del result["frozen"]
    assert result == {"started": [[str(venv.python), False]], "status": 0, "left": []}


def test_without_python_nothing_is_started() -> None:
    assert _launch("list", "--json")["started"] == []


def test_what_the_imports_made_is_kept_out_of_the_cycle_collectors_walks() -> None:
    # Modules, classes and functions: tens of thousands of objects, frozen rather than walked by
    # the next collection and every full one after it.
    assert _launch("list", "--json")["frozen"] > 10_000


def test_the_command_line_leaves_the_installer_unimported_until_it_installs() -> None:
    # The transaction and staging are imported at the first pinned wheel: imported with the
    # command line, they would delay its first request.
    installer = ("wheelnext_jupyter.install.transaction", "wheelnext_jupyter.install.staging")
    code = (
        "import sys, wheelnext_jupyter.cli\n"
        f"print([name for name in {installer!r} if name in sys.modules])"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_the_command_line_starts_without_what_its_first_request_does_not_need() -> None:
    # Each takes milliseconds to import before the first request: pip's configuration files and
    # externally managed environments (configparser), wheels and builds (zipfile, shutil,
    # tempfile). The installer imports some of them later, while downloads are under way.
    later = ("configparser", "zipfile", "shutil", "tempfile")
    code = f"import sys, wheelnext_jupyter.cli\nprint([n for n in {later!r} if n in sys.modules])"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_what_the_engine_makes_before_its_resolver_starts_imports_no_shutil() -> None:
    # The downloader and the unpacked cache are made between the first requests and the
    # resolver's start; shutil (with bz2 and lzma) comes with the staging area, on its own thread.
    installer = "wheelnext_jupyter.install"
    code = (
        "import sys, wheelnext_jupyter.cli\n"
        f"import {installer}.download, {installer}.prefetch, {installer}.unpacked_cache\n"
        f"import {installer}.cores, {installer}.externally_managed\n"
        "print('shutil' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


@pytest.mark.skipif(staging._native is None, reason="the native unpacker is not built")
def test_the_staging_area_imports_neither_zipfile_nor_isa_l_nor_uuid() -> None:
    # With the native unpacker, unpacking reads no member through zipfile and inflates none
    # through ISA-L (a member too large to inflate with the GIL held is rare), and the staging
    # directory's name needs no uuid: the staging modules are imported while the resolver runs.
    installer = "wheelnext_jupyter.install"
    code = (
        "import sys, wheelnext_jupyter.cli\n"
        f"import {installer}.staging, {installer}.transaction, {installer}.archive\n"
        "print([n for n in ('zipfile', 'isal', 'uuid') if n in sys.modules])"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_installing_from_an_index_imports_nothing_only_rare_cases_need() -> None:
    # `importlib.metadata` (egg-info distributions), `urllib.request` (proxies, local files)
    # and, on Linux, `platformdirs` take milliseconds each to import; an install without them
    # never imports them.
    rare = ("importlib.metadata", "urllib.request", "platformdirs")
    installer = "wheelnext_jupyter.install"
    code = (
        "import sys, wheelnext_jupyter.cli\n"
        f"import {installer}.download, {installer}.staging, {installer}.transaction\n"
        f"print([name for name in {rare!r} if name in sys.modules])"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["install", "--python", "/p/python", "x"], "/p/python"),
        (["install", "--python=/p/python", "x"], "/p/python"),
        (["install", "x", "--", "--python", "/p/python"], None),
        (["install", "--python"], None),
    ],
)
def test_the_python_option_is_read_as_the_parser_reads_it(
    args: list[str], expected: str | None
) -> None:
    assert _option(args, "--python") == expected


ENTRY = """
import atexit, sys
atexit.register(lambda: print("exit handler ran", file=sys.stderr))
sys.argv = ["wheelnext-jupyter", *sys.argv[1:]]
from wheelnext_jupyter.launch import main

main()
raise SystemExit("the process went on after the command")
"""


def test_as_the_process_entry_it_ends_the_process_with_the_commands_status_and_output(
    venv: Venv,
) -> None:
    # Piped, so the listing sits in a buffer until it is flushed.
    done = subprocess.run(
        [sys.executable, "-c", ENTRY, "list", "--python", str(venv.python), "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert isinstance(json.loads(done.stdout), list)
    assert done.stderr.splitlines()[-1] == "exit handler ran"


def test_as_the_process_entry_a_failed_command_keeps_its_status_and_message() -> None:
    done = subprocess.run(
        [sys.executable, "-c", ENTRY, "install", "--index-url", "ftp://nowhere/", "x"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert "wheelnext-jupyter: error:" in done.stderr
    assert done.stderr.splitlines()[-1] == "exit handler ran"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["install", "numpy"], True),  # the default index
        (["install", "-i", "http://127.0.0.1:8000/simple/", "numpy"], False),
        (["install", "--index-url=http://127.0.0.1:8000/simple/", "numpy"], False),
        (["install", "--index-url", "http://a/simple/", "--index", "b=https://b/", "x"], True),
        (["install", "--no-index", "-f", "./wheels", "numpy"], False),
        (["explain", "numpy"], True),
        (["explain", "--variants-json", "torch-variants.json"], False),
        (["list"], False),
        (["detect", "--json"], False),
        ([], False),
    ],
)
def test_the_trust_store_is_loaded_ahead_only_for_commands_likely_to_use_https(
    args: list[str], expected: bool
) -> None:
    assert _fetches_over_https(args) is expected


@pytest.mark.parametrize(
    ("args", "loads"),
    [
        (["install", "--help"], True),
        # The probe of the target runs on the other core meanwhile: the load would delay it.
        (["install", "--python", "/nonexistent/python", "--help"], False),
    ],
)
def test_an_install_starts_loading_the_trust_store_unless_a_target_is_probed(
    args: list[str], loads: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[bool] = []
    monkeypatch.setattr(trust_store, "load_ahead", lambda: started.append(True))
    with pytest.raises(SystemExit), contextlib.redirect_stdout(io.StringIO()):
        launch.main(args)
    assert started == ([True] if loads else [])


PATTERNS = """
import atexit, json, sys
from wheelnext_jupyter import pattern_cache

seen = {}
restore = pattern_cache.restore

def watched(path=None):
    keys = restore(path)
    seen["restored"] = len(keys)
    seen["location"] = pattern_cache.location()
    return keys

pattern_cache.restore = watched
atexit.register(lambda: print(json.dumps(seen)))
sys.argv = ["wheelnext-jupyter", *sys.argv[1:]]
from wheelnext_jupyter.launch import main

main()
"""


def _entry_point_run(prefix: Path, *, bytecode: bool = True) -> dict[str, object]:
    """`list --json` as the process's entry point, its bytecode (and patterns) under `prefix`."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    if not bytecode:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    command = [sys.executable, "-X", f"pycache_prefix={prefix}", "-c", PATTERNS, "list", "--json"]
    done = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    assert done.returncode == 0, done.stderr
    seen: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return seen


def test_the_entry_point_keeps_the_patterns_its_imports_compile_for_the_next_run(
    tmp_path: Path,
) -> None:
    first = _entry_point_run(tmp_path)
    location = Path(str(first["location"]))
    assert first["restored"] == 0
    assert location.is_relative_to(tmp_path)
    written = location.read_bytes()
    second = _entry_point_run(tmp_path)
    # Every pattern the imports compile came from the file, which is left as it was.
    assert second["restored"] > 50
    assert location.read_bytes() == written


def test_the_entry_point_writes_no_patterns_where_bytecode_is_not_written(
    tmp_path: Path,
) -> None:
    seen = _entry_point_run(tmp_path, bytecode=False)
    assert seen["restored"] == 0
    assert not Path(str(seen["location"])).exists()


def test_a_command_run_in_process_leaves_the_pattern_file_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A caller's own patterns are not the command line's to keep.
    calls: list[str] = []
    monkeypatch.setattr(pattern_cache, "restore", lambda path=None: calls.append("restore"))
    monkeypatch.setattr(pattern_cache, "save", lambda keys, path=None: calls.append("save"))
    with contextlib.redirect_stdout(io.StringIO()):
        assert launch.main(["list", "--json"]) == 0
    assert calls == []
