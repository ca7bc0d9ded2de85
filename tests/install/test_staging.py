"""Wheels are unpacked and checked in a staging directory; the environment sees them only at commit."""

from __future__ import annotations

import csv
import io
import marshal
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.install.tampering import rewrite_wheel
from tests.support.venvs import REPO_ROOT, Venv, clean_env
from tests.support.wheels import build_wheel
from wheelnext_jupyter.install import staging
from wheelnext_jupyter.install.staging import StagingArea, staging_root
from wheelnext_jupyter.install.target import probe_target
from wheelnext_jupyter.install.transaction import PlannedWheel, install_wheels, recover, state_dir
from wheelnext_jupyter.install.wheelfile import RecordMismatch
from wheelnext_jupyter.install.writer import WriteOptions

NAMES = ["one", "two", "three"]


@pytest.fixture
def wheels(tmp_path: Path) -> list[Path]:
    return [
        build_wheel(
            tmp_path / "w", name, "1.0", console_scripts={f"{name}-cli": f"{name}:main"}
        ).path
        for name in NAMES
    ]


def _visible(venv: Venv) -> dict[str, bytes]:
    """The environment as importers and pip see it: our private state directory aside."""
    return {rel: data for rel, data in venv.listing().items() if ".wheelnext-jupyter" not in rel}


def test_a_bad_record_hash_found_while_staging_aborts_with_nothing_visible(
    venv: Venv, wheels: list[Path], tmp_path: Path
) -> None:
    before = venv.listing()
    wheels[1] = rewrite_wheel(
        wheels[1],
        tmp_path / "bad" / wheels[1].name,
        replace={"two/__init__.py": b"x = 1\n"},
        fix_record=False,
    )
    target = probe_target(venv.python)
    with StagingArea(target) as area:
        area.stage(wheels[0])
        with pytest.raises(RecordMismatch, match=r"two/__init__\.py has sha256=.*RECORD says"):
            area.stage(wheels[1])
    assert venv.listing() == before


def test_a_wrong_record_size_found_while_staging_is_refused(
    venv: Venv, wheels: list[Path], tmp_path: Path
) -> None:
    # RECORD keeps the right hash but claims one byte more than the member has.
    with zipfile.ZipFile(wheels[0]) as archive:
        record = archive.read("one-1.0.dist-info/RECORD").decode()
        content = archive.read("one/__init__.py")
    row = next(r for r in record.splitlines() if r.startswith("one/__init__.py,"))
    wrong = row.rsplit(",", 1)[0] + f",{len(content) + 1}"
    bad = rewrite_wheel(
        wheels[0],
        tmp_path / "bad" / wheels[0].name,
        replace={"one-1.0.dist-info/RECORD": record.replace(row, wrong).encode()},
        fix_record=False,
    )
    target = probe_target(venv.python)
    with StagingArea(target) as area, pytest.raises(RecordMismatch, match="RECORD says"):
        area.stage(bad)


@pytest.mark.parametrize("first", ["one-1.0.data/scripts/tool", "one/__init__.py"])
def test_of_two_members_unlike_record_the_one_record_lists_first_is_named(
    venv: Venv, tmp_path: Path, first: str
) -> None:
    # The script is unpacked on its own, the module by the native unpacker with the other
    # members: whichever RECORD lists first is the one reported.
    wheel = build_wheel(
        tmp_path / "w", "one", "1.0", files={"one-1.0.data/scripts/tool": "#!/bin/sh\necho hi\n"}
    ).path
    with zipfile.ZipFile(wheel) as archive:
        rows = archive.read("one-1.0.dist-info/RECORD").decode().splitlines()
    reordered = [r for r in rows if r.startswith(first + ",")] + [
        r for r in rows if not r.startswith(first + ",")
    ]
    bad = rewrite_wheel(
        wheel,
        tmp_path / "bad" / wheel.name,
        replace={
            "one/__init__.py": b"x = 1\n",
            "one-1.0.data/scripts/tool": b"#!/bin/sh\necho bye\n",
            "one-1.0.dist-info/RECORD": ("\n".join(reordered) + "\n").encode(),
        },
        fix_record=False,
    )
    target = probe_target(venv.python)
    with StagingArea(target) as area, pytest.raises(RecordMismatch) as caught:
        area.stage(bad)
    assert f"{first} has sha256=" in str(caught.value)


def test_staged_wheels_are_invisible_until_the_transaction_commits_them(
    venv: Venv, wheels: list[Path]
) -> None:
    before = _visible(venv)
    target = probe_target(venv.python)
    with StagingArea(target) as area:
        staged = [area.stage(path) for path in wheels]
        assert _visible(venv) == before
        # Staged on the target's own file system, under the private state directory.
        assert area.directory.is_relative_to(state_dir(target))
        install_wheels([PlannedWheel(s.wheel, staged=s) for s in staged], target)
    out = venv.run("-c", "import one, two, three; print('ok')")
    assert out.stdout.strip() == "ok"
    assert (venv.root / "bin" / "two-cli").exists()
    assert not staging_root(target).exists()


@pytest.mark.skipif(
    staging._native is None or not staging._native.INFLATES_WHOLE,
    reason="the native unpacker is not built, or built without libdeflate (nothing is kept)",
)
def test_closing_the_area_frees_the_inflating_buffers_kept_between_wheels(
    venv: Venv, tmp_path: Path
) -> None:
    assert staging._native is not None
    large = build_wheel(tmp_path / "w", "large", "1.0", files={"large/data.bin": bytes(3 << 20)})
    target = probe_target(venv.python)
    with StagingArea(target) as area:
        area.stage(large.path)
        assert staging._native.kept_buffers() != []
    assert staging._native.kept_buffers() == []


def test_staging_with_requested_false_writes_no_requested_file(
    venv: Venv, wheels: list[Path]
) -> None:
    target = probe_target(venv.python)
    with StagingArea(target) as area:
        staged = area.stage(wheels[0], WriteOptions(requested=False))
        install_wheels([PlannedWheel(staged.wheel, requested=False, staged=staged)], target)
    dist_info = venv.site_packages / "one-1.0.dist-info"
    assert (dist_info / "INSTALLER").read_text() == "wheelnext-jupyter\n"
    assert not (dist_info / "REQUESTED").exists()


def test_a_member_name_with_a_comma_is_quoted_in_record_and_pip_uninstalls_it(
    venv: Venv, tmp_path: Path
) -> None:
    built = build_wheel(tmp_path / "w", "quoted", "1.0", files={"quoted/a,b.txt": b"data"})
    target = probe_target(venv.python)
    with StagingArea(target) as area:
        staged = area.stage(built.path)
        install_wheels([PlannedWheel(staged.wheel, staged=staged)], target)
    record = (venv.site_packages / "quoted-1.0.dist-info" / "RECORD").read_text()
    assert '"quoted/a,b.txt",sha256=' in record
    rows = {row[0]: row for row in csv.reader(io.StringIO(record))}
    assert rows["quoted/a,b.txt"][2] == "4"
    venv.pip("uninstall", "-y", "quoted")
    assert not (venv.site_packages / "quoted").exists()


def test_bytecode_compiled_in_staging_names_the_installed_source(
    venv: Venv, wheels: list[Path]
) -> None:
    target = probe_target(venv.python)
    with StagingArea(target) as area:
        staged = area.stage(wheels[0], WriteOptions(compile_bytecode=True))
        install_wheels([PlannedWheel(staged.wheel, staged=staged)], target)
    source = venv.site_packages / "one" / "__init__.py"
    (pyc,) = (source.parent / "__pycache__").glob("__init__.*.pyc")
    # A pyc is a 16-byte header followed by the marshalled module code object.
    code = marshal.loads(pyc.read_bytes()[16:])
    assert code.co_filename == str(source)
    record = (venv.site_packages / "one-1.0.dist-info" / "RECORD").read_text()
    assert f"one/__pycache__/{pyc.name}," in record


_STAGE_AND_HANG = """
import sys, time
from pathlib import Path
from wheelnext_jupyter.install.staging import StagingArea
from wheelnext_jupyter.install.target import probe_target

python, *wheels = sys.argv[1:]
area = StagingArea(probe_target(Path(python)))
for wheel in wheels:
    area.stage(Path(wheel))
print("staged", area.directory, flush=True)
time.sleep(3600)
"""


def _stage_in_subprocess(venv: Venv, wheels: list[Path]) -> tuple[subprocess.Popen[str], Path]:
    process = subprocess.Popen(
        [sys.executable, "-c", _STAGE_AND_HANG, str(venv.python), *map(str, wheels)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=clean_env({"PYTHONPATH": str(REPO_ROOT)}),
    )
    assert process.stdout is not None
    word, directory = process.stdout.readline().split()
    assert word == "staged"
    return process, Path(directory)


def test_a_crash_after_staging_leaves_the_environment_untouched_and_is_cleaned_next_run(
    venv: Venv, wheels: list[Path]
) -> None:
    before = _visible(venv)
    process, directory = _stage_in_subprocess(venv, wheels)
    process.send_signal(signal.SIGKILL)
    process.communicate()
    assert directory.is_dir()
    assert _visible(venv) == before
    target = probe_target(venv.python)
    with StagingArea(target) as area:
        staged = [area.stage(path) for path in wheels]
        assert not directory.exists()
        install_wheels([PlannedWheel(s.wheel, staged=s) for s in staged], target)
    assert not staging_root(target).exists()


def test_recover_removes_a_dead_process_staging_directory(venv: Venv, wheels: list[Path]) -> None:
    before = venv.listing()
    process, directory = _stage_in_subprocess(venv, wheels)
    process.send_signal(signal.SIGKILL)
    process.communicate()
    assert recover(probe_target(venv.python)) == []
    assert not directory.exists()
    assert venv.listing() == before


def test_a_live_process_staging_directory_is_left_alone(venv: Venv, wheels: list[Path]) -> None:
    process, directory = _stage_in_subprocess(venv, wheels)
    try:
        recover(probe_target(venv.python))
        with StagingArea(probe_target(venv.python)):
            pass
        assert directory.is_dir()
    finally:
        process.send_signal(signal.SIGKILL)
        process.communicate()
