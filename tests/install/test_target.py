"""The target environment described in-process and through its own interpreter."""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
import types
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.tags import Tag, sys_tags

from tests.peers.peer_runners import find_interpreters
from tests.support.venvs import Venv
from wheelnext_jupyter.install import _probe, probe_ahead
from wheelnext_jupyter.install import target as target_module
from wheelnext_jupyter.install.target import (
    EnvironmentKind,
    TargetError,
    current_target,
    derived_tags,
    probe_target,
)


def _fake_interpreter(tmp_path: Path, body: str) -> Path:
    """An executable `python` in `tmp_path` that runs the shell script `body`."""
    fake = tmp_path / "python"
    fake.write_text("#!/bin/sh\n" + body)
    fake.chmod(0o755)
    return fake


def test_current_target_uses_this_interpreters_scheme() -> None:
    target = current_target()
    assert target.python == Path(sys.executable)
    assert target.scheme.purelib == Path(sysconfig.get_paths()["purelib"])
    assert target.scheme.scripts == Path(sysconfig.get_paths()["scripts"])
    assert target.is_current


def test_probed_venv_is_described_by_its_own_interpreter(venv: Venv) -> None:
    target = probe_target(venv.python)
    assert target.kind is EnvironmentKind.VENV
    assert target.python == venv.python
    assert target.prefix == venv.root
    assert target.scheme.purelib == venv.site_packages
    assert target.scheme.scripts == venv.root / "bin"
    assert target.scheme.data == venv.root
    assert (
        target.scheme.headers
        == venv.root / "include" / "site" / f"python{sys.version_info[0]}.{sys.version_info[1]}"
    )
    assert Tag("py3", "none", "any") in target.supported_tags()
    assert target.markers["python_version"] == f"{sys.version_info[0]}.{sys.version_info[1]}"
    assert not target.is_current


def test_the_tags_of_this_interpreter_are_the_same_in_process_and_probed() -> None:
    # In process they are taken from `sys_tags` as they are; probed, written out and read back.
    assert current_target().tags == tuple(sys_tags())
    done = subprocess.run(
        probe_ahead.probe_command(sys.executable, tags=True),
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(done.stdout)["tags"] == [str(tag) for tag in sys_tags()]


def test_only_this_interpreters_own_executable_runs_this_binary(venv: Venv, tmp_path: Path) -> None:
    script = _fake_interpreter(tmp_path, "")
    assert probe_ahead.runs_this_binary(sys.executable)
    assert probe_ahead.runs_this_binary(venv.python)
    assert not probe_ahead.runs_this_binary(script)


@pytest.fixture
def asked(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether each probe run from now on was asked for tags, in order."""
    asked: list[bool] = []
    run_probe = probe_ahead.run_probe

    def recording(python: Path, *, tags: bool = True) -> subprocess.Popen[str]:
        asked.append(tags)
        return run_probe(python, tags=tags)

    monkeypatch.setattr(probe_ahead, "run_probe", recording)
    return asked


def test_a_venv_of_this_interpreter_gets_this_interpreters_tags_without_writing_them(
    venv: Venv, asked: list[bool]
) -> None:
    target = probe_target(venv.python)
    assert asked == [False]
    assert target.tags == tuple(sys_tags())
    assert target.prefix == venv.root and target.scheme.purelib == venv.site_packages


def test_a_target_whose_abi_differs_from_this_interpreters_is_asked_for_its_tags(
    venv: Venv, asked: list[bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The same binary always has the same ABI: a different one is what a changed file between
    # the two looks would give.
    monkeypatch.setattr(target_module, "_same_abi", lambda facts: False)
    target = probe_target(venv.python)
    assert asked == [False, True]
    assert target.tags == tuple(sys_tags())


def test_the_marker_environment_is_the_one_packaging_gives() -> None:
    assert _probe.marker_environment() == default_environment()
    assert probe_target(sys.executable).markers == default_environment()


def test_a_pre_release_interpreter_version_carries_its_level_and_serial() -> None:
    beta = types.SimpleNamespace(major=3, minor=15, micro=0, releaselevel="beta", serial=2)
    final = types.SimpleNamespace(major=3, minor=14, micro=1, releaselevel="final", serial=0)
    assert _probe._full_version(beta) == "3.15.0b2"  # type: ignore[arg-type]
    assert _probe._full_version(final) == "3.14.1"  # type: ignore[arg-type]


def test_the_probe_does_not_import_packagings_marker_parser() -> None:
    # It runs before every command line install that names a target: imports are its cost.
    script = (
        "import runpy, sys; runpy.run_path(sys.argv[1], run_name='__main__'); "
        "print('packaging.markers' in sys.modules, file=sys.stderr)"
    )
    done = subprocess.run(
        [sys.executable, "-E", "-c", script, _probe.__file__],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(done.stdout)["tags"]
    assert done.stderr.strip() == "False"


def test_a_probe_without_tags_imports_no_packaging() -> None:
    script = (
        "import runpy, sys; sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__'); "
        "print(any(name.startswith('packaging') for name in sys.modules), file=sys.stderr)"
    )
    done = subprocess.run(
        [sys.executable, "-E", "-c", script, _probe.__file__, "--no-tags"],
        capture_output=True,
        text=True,
        check=True,
    )
    facts = json.loads(done.stdout)
    assert facts["tags"] == []
    assert facts["soabi"] == sysconfig.get_config_var("SOABI")
    assert done.stderr.strip() == "False"


def test_compressed_tags_written_by_a_probe_are_expanded(tmp_path: Path) -> None:
    facts = _probe.describe()
    facts["tags"] = ["cp311-cp311-manylinux1_x86_64.manylinux2010_x86_64", "py3-none-any"]
    fake = _fake_interpreter(tmp_path, f"cat <<'EOF'\n{json.dumps(facts)}\nEOF\n")
    assert probe_target(fake).tags == (
        Tag("cp311", "cp311", "manylinux1_x86_64"),
        Tag("cp311", "cp311", "manylinux2010_x86_64"),
        Tag("py3", "none", "any"),
    )


def test_probing_something_that_is_not_python_fails_clearly(tmp_path: Path) -> None:
    fake = _fake_interpreter(tmp_path, "echo not json\n")
    with pytest.raises(TargetError, match="not JSON"):
        probe_target(fake)


def test_a_probe_printing_json_that_is_no_description_fails_clearly(tmp_path: Path) -> None:
    fake = _fake_interpreter(tmp_path, "echo '[1, 2]'\n")
    with pytest.raises(TargetError, match="JSON that is not its description"):
        probe_target(fake)


def test_a_description_without_tags_from_another_binary_is_asked_again(
    tmp_path: Path,
) -> None:
    facts = _probe.describe()
    without = dict(facts, tags=[])
    # The first run prints no tags (as a probe started for this interpreter's binary would),
    # every later one prints them.
    fake = _fake_interpreter(
        tmp_path,
        f"if [ -e {tmp_path}/asked ]; then cat <<'EOF'\n{json.dumps(facts)}\nEOF\n"
        f"else touch {tmp_path}/asked; cat <<'EOF'\n{json.dumps(without)}\nEOF\nfi\n",
    )
    assert probe_target(fake).tags == tuple(sys_tags())


def _probe_facts(python: Path, *path: Path) -> dict[str, object]:
    """What the probe prints when run in `python` with `path` added to its `sys.path`."""
    done = subprocess.run(
        [str(python), "-E", _probe.__file__, *map(str, path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    facts: dict[str, object] = json.loads(done.stdout)
    return facts


@pytest.fixture(scope="module")
def probed_interpreters() -> dict[str, dict[str, object]]:
    """The facts, tags asked for, of every interpreter on this machine the probe runs in (by
    version; Python 3.6 and older cannot run it)."""
    probed = {}
    for version, python in find_interpreters().items():
        if tuple(map(int, version.split(".")[:2])) < (3, 7):
            continue
        probed[version] = _probe_facts(python, Path(probe_ahead.probe_command(python)[-1]))
    return probed


def test_tags_derived_from_this_interpreters_facts_are_exactly_its_tags() -> None:
    assert derived_tags(_probe.describe(tags=False)) == tuple(sys_tags())


def test_tags_derived_from_other_interpreters_facts_are_exactly_theirs(
    probed_interpreters: dict[str, dict[str, object]],
) -> None:
    # Every interpreter on this machine that runs this packaging: what it gives, what is made
    # here from its facts.
    compared = []
    for version, facts in probed_interpreters.items():
        if "packaging_error" in facts or facts["executable"] == sys.executable:
            continue
        derived = derived_tags(facts)
        assert derived is not None, version
        assert [str(tag) for tag in derived] == facts["tags"], version
        compared.append(version)
    if not compared:
        pytest.skip("no other interpreter on this machine runs this packaging")


def test_a_probe_whose_packaging_does_not_compile_names_the_error(
    venv: Venv, tmp_path: Path
) -> None:
    # As this packaging in a Python older than it supports: its code is a syntax error there.
    broken = tmp_path / "broken" / "packaging"
    broken.mkdir(parents=True)
    (broken / "__init__.py").write_text("match = case :\n")
    facts = _probe_facts(venv.python, broken.parent)
    assert facts["tags"] == []
    assert str(facts["packaging_error"]).startswith("SyntaxError")
    assert derived_tags(facts) == tuple(sys_tags())


def test_a_target_that_cannot_run_this_packaging_gets_its_tags_made_here_asked_once(
    tmp_path: Path, asked: list[bool]
) -> None:
    facts = dict(_probe.describe(tags=False), packaging_error="SyntaxError: invalid syntax")
    fake = _fake_interpreter(tmp_path, f"cat <<'EOF'\n{json.dumps(facts)}\nEOF\n")
    assert probe_target(fake).tags == tuple(sys_tags())
    assert asked == [True]


def test_an_older_python_than_this_packaging_supports_is_described_with_its_tags(
    probed_interpreters: dict[str, dict[str, object]],
) -> None:
    older = [
        Path(str(facts["executable"]))
        for facts in probed_interpreters.values()
        if "packaging_error" in facts
    ]
    if not older:
        pytest.skip("no interpreter here that cannot run this packaging")
    for python in older:
        target = probe_target(python)
        version = f"{target.version[0]}{target.version[1]}"
        assert target.tags[0].interpreter == f"cp{version}"
        assert any(tag.interpreter == f"cp{version}" and tag.abi == "abi3" for tag in target.tags)
        assert Tag("py3", "none", "any") in target.supported_tags()


@pytest.mark.parametrize(
    ("changed", "value"),
    [("implementation", "pypy"), ("platform", "another-platform"), ("soabi", None)],
)
def test_a_target_whose_tags_cannot_be_made_here_says_to_install_packaging_into_it(
    tmp_path: Path, changed: str, value: object
) -> None:
    facts = dict(_probe.describe(tags=False), packaging_error="SyntaxError: invalid syntax")
    facts[changed] = value
    assert derived_tags(facts) is None
    fake = _fake_interpreter(tmp_path, f"cat <<'EOF'\n{json.dumps(facts)}\nEOF\n")
    with pytest.raises(TargetError, match=r"cannot run this installation's packaging") as raised:
        probe_target(fake)
    assert "-m pip install packaging" in str(raised.value)
    assert "SyntaxError: invalid syntax" in str(raised.value)


def test_probing_a_missing_interpreter_fails_clearly(tmp_path: Path) -> None:
    with pytest.raises(TargetError, match="cannot run the target interpreter"):
        probe_target(tmp_path / "missing" / "python")


def test_a_probe_started_ahead_is_taken_over_not_run_again(
    venv: Venv, monkeypatch: pytest.MonkeyPatch
) -> None:
    probe_ahead.start(venv.python)

    def no_second_run(python: object) -> None:
        raise AssertionError("the probe started ahead was not used")

    monkeypatch.setattr(probe_ahead, "run_probe", no_second_run)
    target = probe_target(venv.python)
    assert target.prefix == venv.root and target.kind is EnvironmentKind.VENV
    assert probe_ahead.take(venv.python) is None


def test_a_probe_started_ahead_for_a_missing_interpreter_fails_as_clearly(tmp_path: Path) -> None:
    missing = tmp_path / "missing" / "python"
    probe_ahead.start(missing)
    with pytest.raises(TargetError, match="cannot run the target interpreter"):
        probe_target(missing)


def test_a_probe_started_ahead_that_fails_is_reported_with_its_last_line(tmp_path: Path) -> None:
    fake = _fake_interpreter(tmp_path, "echo 'no such module' >&2\nexit 3\n")
    probe_ahead.start(fake)
    with pytest.raises(TargetError, match=r"exit 3\): no such module") as raised:
        probe_target(fake)
    assert str(raised.value).endswith("; pass --python the path of a Python 3 executable")


def _described(tmp_path: Path, *, in_venv: bool, user_site: bool, user: bool = False):
    """The target a probe with these facts describes (paths made up, the rest this Python's)."""
    facts = _probe.describe()
    facts.update(
        in_venv=in_venv,
        user_site_enabled=user_site,
        paths={**facts["paths"], "purelib": "/env/site", "platlib": "/env/site"},
        user_paths={**facts["paths"], "purelib": "/home/u/site", "platlib": "/home/u/site"},
    )
    fake = _fake_interpreter(tmp_path, f"cat <<'EOF'\n{json.dumps(facts)}\nEOF\n")
    return probe_target(fake, user=user)


@pytest.mark.parametrize(
    ("in_venv", "user_site", "user", "first", "after"),
    [
        (False, True, False, ["/home/u/site"], []),
        (False, False, False, [], []),
        (True, True, False, [], ["/home/u/site"]),
        (True, False, False, [], []),
        (False, True, True, [], ["/env/site"]),
        (True, True, True, ["/env/site"], []),
    ],
    ids=["plain", "plain-no-user-site", "venv-reading-it", "venv", "user", "user-in-venv"],
)
def test_the_site_directories_read_besides_the_schemes_are_in_the_paths_order(
    tmp_path: Path, in_venv: bool, user_site: bool, user: bool, first: list, after: list
) -> None:
    target = _described(tmp_path, in_venv=in_venv, user_site=user_site, user=user)
    assert target.reads_first == tuple(map(Path, first))
    assert target.reads_after == tuple(map(Path, after))
    own = (target.scheme.purelib, target.scheme.platlib)
    assert target.site_dirs == (*target.reads_first, *own, *target.reads_after)


def test_a_target_run_without_its_user_site_here_is_described_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The probe runs with -E, which hides PYTHONNOUSERSITE from it.
    monkeypatch.setenv("PYTHONNOUSERSITE", "1")
    target = _described(tmp_path, in_venv=False, user_site=True)
    assert target.reads_first == ()
    assert target.reads_after == ()


def test_user_installs_are_refused_for_a_target_run_without_its_user_site_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHONNOUSERSITE", "1")
    with pytest.raises(TargetError, match="does not read its user site as it is run"):
        _described(tmp_path, in_venv=False, user_site=True, user=True)


def test_an_empty_pythonnousersite_leaves_the_user_site_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As Python itself reads it: set to an empty string is not set.
    monkeypatch.setenv("PYTHONNOUSERSITE", "")
    target = _described(tmp_path, in_venv=False, user_site=True)
    assert target.reads_first == (Path("/home/u/site"),)


def test_a_plain_interpreter_probed_under_pythonnousersite_reads_no_user_site(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    base = getattr(sys, "_base_executable", sys.executable)
    reading = probe_target(base)
    if not reading.reads_first:
        pytest.skip("this interpreter does not read a user site")
    monkeypatch.setenv("PYTHONNOUSERSITE", "1")
    assert probe_target(base).reads_first == ()
