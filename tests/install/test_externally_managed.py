"""PEP 668: an externally managed environment is refused with the way out."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.wheels import build_wheel
from wheelnext_jupyter.install.externally_managed import ExternallyManagedEnvironment
from wheelnext_jupyter.install.target import (
    EnvironmentKind,
    InstallScheme,
    TargetEnvironment,
    current_target,
)
from wheelnext_jupyter.install.transaction import PlannedWheel, install_wheels
from wheelnext_jupyter.install.wheelfile import verify_wheel
from wheelnext_jupyter.record import replace

MARKER = "[externally-managed]\nError = Use apt install python3-xyz.\n"


def _system_target(
    root: Path, *, marker: bool, kind: EnvironmentKind = EnvironmentKind.SYSTEM
) -> TargetEnvironment:
    """A system-like environment laid out under `root` (its stdlib holds the marker)."""
    stdlib = root / "lib" / "python3"
    stdlib.mkdir(parents=True)
    if marker:
        (stdlib / "EXTERNALLY-MANAGED").write_text(MARKER)
    site = root / "site-packages"
    scheme = InstallScheme(site, site, root / "bin", root, root / "include")
    return replace(current_target(), kind=kind, stdlib=stdlib, scheme=scheme, is_current=False)


def _plan(tmp_path: Path) -> list[PlannedWheel]:
    return [PlannedWheel(verify_wheel(build_wheel(tmp_path / "w", "alpha", "1.0").path))]


def test_marked_system_environment_is_refused_with_its_explanation(tmp_path: Path) -> None:
    target = _system_target(tmp_path / "env", marker=True)
    with pytest.raises(ExternallyManagedEnvironment) as caught:
        install_wheels(_plan(tmp_path), target)
    message = str(caught.value)
    assert "Use apt install python3-xyz." in message
    assert "--break-system-packages" in message
    assert "virtual environment" in message
    assert not (tmp_path / "env" / "site-packages" / "alpha").exists()


def test_break_system_packages_installs_anyway(tmp_path: Path) -> None:
    target = _system_target(tmp_path / "env", marker=True)
    install_wheels(_plan(tmp_path), target, break_system_packages=True)
    assert (tmp_path / "env" / "site-packages" / "alpha" / "__init__.py").is_file()


def test_user_installs_are_refused_too(tmp_path: Path) -> None:
    target = _system_target(tmp_path / "env", marker=True, kind=EnvironmentKind.USER)
    with pytest.raises(ExternallyManagedEnvironment):
        install_wheels(_plan(tmp_path), target)


def test_marker_of_the_base_interpreter_does_not_apply_inside_a_venv(tmp_path: Path) -> None:
    target = _system_target(tmp_path / "env", marker=True, kind=EnvironmentKind.VENV)
    install_wheels(_plan(tmp_path), target)
    assert (tmp_path / "env" / "site-packages" / "alpha" / "__init__.py").is_file()


def test_unmarked_system_environment_is_allowed(tmp_path: Path) -> None:
    target = _system_target(tmp_path / "env", marker=False)
    install_wheels(_plan(tmp_path), target)
    assert (tmp_path / "env" / "site-packages" / "alpha" / "__init__.py").is_file()
