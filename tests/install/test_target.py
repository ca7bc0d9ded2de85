"""The target environment described in-process and through its own interpreter."""

from __future__ import annotations

import sys
import sysconfig
from pathlib import Path

import pytest
from packaging.tags import Tag

from tests.support.venvs import Venv
from wheelnext_jupyter.install.target import (
    EnvironmentKind,
    TargetError,
    current_target,
    probe_target,
)


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


def test_probing_something_that_is_not_python_fails_clearly(tmp_path: Path) -> None:
    fake = tmp_path / "python"
    fake.write_text("#!/bin/sh\necho not json\n")
    fake.chmod(0o755)
    with pytest.raises(TargetError, match="not JSON"):
        probe_target(fake)


def test_probing_a_missing_interpreter_fails_clearly(tmp_path: Path) -> None:
    with pytest.raises(TargetError, match="cannot run the target interpreter"):
        probe_target(tmp_path / "missing" / "python")
