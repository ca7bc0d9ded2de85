"""A plan installs completely or not at all, survives a killed process, and serialises."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.install.helpers import install_into, plan_for
from tests.install.tampering import rewrite_wheel
from tests.support.venvs import Venv, clean_env
from tests.support.wheels import build_wheel
from wheelnext_jupyter.install import transaction
from wheelnext_jupyter.install.target import probe_target
from wheelnext_jupyter.install.transaction import (
    FileConflict,
    install_wheels,
    recover,
    remove_distributions,
    state_dir,
)
from wheelnext_jupyter.install.wheelfile import PathEscape, RecordMismatch

NAMES = ["one", "two", "three", "four", "five"]


def _build(directory: Path, version: str) -> list[Path]:
    return [
        build_wheel(directory, name, version, console_scripts={f"{name}-cli": f"{name}:main"}).path
        for name in NAMES
    ]


@pytest.fixture
def upgraded(venv: Venv, tmp_path: Path) -> list[Path]:
    """Version 1 of five packages installed; returns version 2's wheels."""
    install_into(venv.python, _build(tmp_path / "v1", "1.0"))
    return _build(tmp_path / "v2", "2.0")


def _freeze(venv: Venv) -> str:
    return venv.pip("freeze", "--all").stdout


def test_bad_hash_in_third_wheel_fails_verification_and_writes_nothing(
    venv: Venv, upgraded: list[Path], tmp_path: Path
) -> None:
    before, frozen = venv.listing(), _freeze(venv)
    third = upgraded[2]
    upgraded[2] = rewrite_wheel(
        third,
        tmp_path / "bad" / third.name,
        replace={"three/__init__.py": b"x = 1\n"},
        fix_record=False,
    )
    with pytest.raises(RecordMismatch):
        install_into(venv.python, upgraded)
    assert venv.listing() == before
    assert _freeze(venv) == frozen


def test_path_escape_in_third_wheel_fails_verification_and_writes_nothing(
    venv: Venv, upgraded: list[Path], tmp_path: Path
) -> None:
    before, frozen = venv.listing(), _freeze(venv)
    third = upgraded[2]
    upgraded[2] = rewrite_wheel(
        third, tmp_path / "bad" / third.name, add={"../../../escaped.txt": b"x"}
    )
    with pytest.raises(PathEscape):
        install_into(venv.python, upgraded)
    assert venv.listing() == before
    assert _freeze(venv) == frozen


def test_third_wheel_corrupted_after_verification_rolls_back_the_upgrade(
    venv: Venv, upgraded: list[Path], tmp_path: Path
) -> None:
    before, frozen = venv.listing(), _freeze(venv)
    target = probe_target(venv.python)
    plan = plan_for(upgraded, target)
    # The file changes between verification and writing: the writer's own check catches it.
    rewrite_wheel(
        upgraded[2], upgraded[2], replace={"three/__init__.py": b"x = 1\n"}, fix_record=False
    )
    with pytest.raises(RecordMismatch, match="changed since it was verified"):
        install_wheels(plan, target)
    assert venv.listing() == before
    assert _freeze(venv) == frozen


def test_failure_while_writing_third_wheel_restores_everything(
    venv: Venv, upgraded: list[Path]
) -> None:
    before, frozen = venv.listing(), _freeze(venv)
    # A directory where the third wheel has a file.
    (venv.site_packages / "three-2.0.dist-info" / "METADATA").mkdir(parents=True)
    before = venv.listing()
    with pytest.raises(FileConflict, match="is a directory where the wheel has a file"):
        install_into(venv.python, upgraded)
    assert venv.listing() == before
    assert _freeze(venv) == frozen


def test_exception_after_third_wheel_rolls_back(venv: Venv, upgraded: list[Path]) -> None:
    before, frozen = venv.listing(), _freeze(venv)

    def fail_at_three(position: int, _: object) -> None:
        if position == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        install_into(venv.python, upgraded, after_wheel=fail_at_three)
    assert venv.listing() == before
    assert _freeze(venv) == frozen


@pytest.mark.skipif(not hasattr(signal, "pthread_sigmask"), reason="signal masks are POSIX")
def test_ctrl_c_during_the_commit_is_not_taken_and_the_upgrade_completes(
    venv: Venv, upgraded: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    commit = transaction._Transaction.commit

    def interrupted_commit(self: transaction._Transaction) -> None:
        signal.raise_signal(signal.SIGINT)
        commit(self)

    monkeypatch.setattr(transaction._Transaction, "commit", interrupted_commit)
    try:
        install_into(venv.python, upgraded)
        time.sleep(0.01)  # a handler still due would run here
    except KeyboardInterrupt:
        pytest.fail("Ctrl-C was taken during the commit")
    listed = {d["name"]: d["version"] for d in json.loads(venv.pip("list", "--format=json").stdout)}
    assert [listed[name] for name in NAMES] == ["2.0"] * 5
    assert not (state_dir(probe_target(venv.python)) / "journal.jsonl").exists()


@pytest.mark.skipif(not hasattr(signal, "pthread_sigmask"), reason="signal masks are POSIX")
def test_ctrl_c_during_a_roll_back_waits_until_the_environment_is_restored(
    venv: Venv, upgraded: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    before, frozen = venv.listing(), _freeze(venv)
    roll_back = transaction._Transaction.roll_back

    def interrupted_roll_back(self: transaction._Transaction) -> None:
        signal.raise_signal(signal.SIGINT)
        time.sleep(0.01)  # would raise here if Ctrl-C were taken during the roll-back
        roll_back(self)

    def fail_at_three(position: int, _: object) -> None:
        if position == 3:
            raise ValueError("third")

    monkeypatch.setattr(transaction._Transaction, "roll_back", interrupted_roll_back)
    with pytest.raises(KeyboardInterrupt):
        install_into(venv.python, upgraded, after_wheel=fail_at_three)
    assert venv.listing() == before
    assert _freeze(venv) == frozen


_INSTALL_SCRIPT = """
import sys, time
from pathlib import Path
from tests.install.helpers import install_into

python, *wheels = sys.argv[1:]
stop_at = int(__import__("os").environ.get("STOP_AT", "0"))
started, go = Path(__import__("os").environ.get("STARTED", "/nonexistent")), Path(__import__("os").environ.get("GO", "/nonexistent"))

def hook(position, result):
    print("wrote", position, result.name, flush=True)
    if position == 1 and str(started) != "/nonexistent":
        started.touch()
        while not go.exists():
            time.sleep(0.05)
    if position == stop_at:
        time.sleep(3600)

outcome = install_into(Path(python), [Path(w) for w in wheels], after_wheel=hook)
print("recovered", len(outcome.recovered), flush=True)
"""


def _start(venv: Venv, wheels: list[Path], **env: str) -> subprocess.Popen[str]:
    from tests.support.venvs import REPO_ROOT

    return subprocess.Popen(
        [sys.executable, "-c", _INSTALL_SCRIPT, str(venv.python), *map(str, wheels)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=clean_env({"PYTHONPATH": str(REPO_ROOT), **env}),
    )


def test_killed_install_is_rolled_back_at_the_next_run(venv: Venv, upgraded: list[Path]) -> None:
    before, frozen = venv.listing(), _freeze(venv)
    process = _start(venv, upgraded, STOP_AT="2")
    assert process.stdout is not None
    assert process.stdout.readline().split() == ["wrote", "1", "one"]
    assert process.stdout.readline().split() == ["wrote", "2", "two"]
    process.send_signal(signal.SIGKILL)
    process.communicate()
    target = probe_target(venv.python)
    assert (state_dir(target) / "journal.jsonl").exists()
    messages = recover(target)
    assert len(messages) == 1
    assert messages[0].startswith("rolled back an interrupted install")
    assert venv.listing() == before
    assert _freeze(venv) == frozen


def test_next_install_recovers_a_killed_one_first(venv: Venv, upgraded: list[Path]) -> None:
    process = _start(venv, upgraded, STOP_AT="2")
    assert process.stdout is not None
    process.stdout.readline()
    process.stdout.readline()
    process.send_signal(signal.SIGKILL)
    process.communicate()
    outcome = install_into(venv.python, upgraded)
    assert len(outcome.recovered) == 1
    listed = {d["name"]: d["version"] for d in json.loads(venv.pip("list", "--format=json").stdout)}
    assert [listed[name] for name in NAMES] == ["2.0"] * 5
    assert venv.pip("check").returncode == 0


def test_concurrent_installs_into_one_environment_both_finish(venv: Venv, tmp_path: Path) -> None:
    first = [build_wheel(tmp_path / "a", n, "1.0").path for n in ("red", "green")]
    second = [build_wheel(tmp_path / "b", n, "1.0").path for n in ("blue", "green")]
    started, go = tmp_path / "started", tmp_path / "go"
    holder = _start(venv, first, STARTED=str(started), GO=str(go))
    while not started.exists():
        assert holder.poll() is None, holder.stderr.read() if holder.stderr else ""
    waiter = _start(venv, second)
    go.touch()
    _, err_a = holder.communicate(timeout=120)
    _, err_b = waiter.communicate(timeout=120)
    assert holder.returncode == 0, err_a
    assert waiter.returncode == 0, err_b
    listed = {d["name"] for d in json.loads(venv.pip("list", "--format=json").stdout)}
    assert {"red", "green", "blue"} <= listed
    assert len(list(venv.site_packages.glob("green-*.dist-info"))) == 1
    assert venv.pip("check").returncode == 0
    out = venv.run("-c", "import red, green, blue; print('ok')")
    assert out.stdout.strip() == "ok"


def test_remove_distributions_deletes_every_recorded_file(venv: Venv, tmp_path: Path) -> None:
    before = venv.listing()
    wheel = build_wheel(
        tmp_path, "alpha", "1.0", console_scripts={"alpha-hello": "alpha:main"}
    ).path
    install_into(venv.python, [wheel], compile_bytecode=True)
    removed = remove_distributions(["alpha"], probe_target(venv.python))
    assert [(r.name, r.version, set(r.top_level)) for r in removed] == [("alpha", "1.0", {"alpha"})]
    leftovers = {p for p in set(venv.listing()) - set(before) if ".wheelnext-jupyter" not in p}
    assert leftovers == set()


def test_a_file_where_the_wheel_has_a_directory_is_refused_with_nothing_installed(
    venv: Venv, tmp_path: Path
) -> None:
    install_into(venv.python, [build_wheel(tmp_path, "other", "1.0").path])
    (venv.site_packages / "solo").write_text("not a package")
    before = venv.listing()
    wheel = build_wheel(tmp_path, "solo", "1.0").path
    with pytest.raises(FileConflict, match="solo is a file where the wheel has a directory"):
        install_into(venv.python, [wheel])
    assert venv.listing() == before


def test_the_journal_lists_a_new_package_directory_not_each_of_its_files(
    venv: Venv, tmp_path: Path
) -> None:
    wheel = build_wheel(tmp_path, "solo", "1.0", files={"solo/sub/data.txt": b"x"}).path
    target = probe_target(venv.python)
    logged: list[dict[str, object]] = []

    def read_journal(position: int, _: object) -> None:
        journal = state_dir(target) / "journal.jsonl"
        logged.extend(json.loads(line) for line in journal.read_text().splitlines())

    install_into(venv.python, [wheel], after_wheel=read_journal)
    trees = [path for entry in logged if entry["op"] == "tree" for path in entry["paths"]]
    created = [path for entry in logged if entry["op"] == "create" for path in entry["paths"]]
    assert str(venv.site_packages / "solo") in trees
    assert str(venv.site_packages / "solo-1.0.dist-info") in trees
    assert not any(path.startswith(str(venv.site_packages / "solo")) for path in created)
    assert (venv.site_packages / "solo" / "sub" / "data.txt").read_bytes() == b"x"


def test_two_wheels_sharing_a_new_namespace_directory_both_install(
    venv: Venv, tmp_path: Path
) -> None:
    wheels = [
        build_wheel(
            tmp_path, name, "1.0", files={f"space/{name}/__init__.py": f"NAME = {name!r}\n"}
        ).path
        for name in ("left", "right")
    ]
    install_into(venv.python, wheels)
    code = "import space.left, space.right; print(space.left.NAME, space.right.NAME)"
    assert venv.run("-c", code).stdout.split() == ["left", "right"]
    assert venv.pip("check").returncode == 0
    venv.pip("uninstall", "-y", "left")
    assert venv.run("-c", "import space.right").returncode == 0
