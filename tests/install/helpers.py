"""Install wheels into a test venv the way the engine will."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from wheelnext_jupyter.install.target import TargetEnvironment, probe_target
from wheelnext_jupyter.install.transaction import (
    AfterWheel,
    InstallOutcome,
    PlannedWheel,
    install_wheels,
)
from wheelnext_jupyter.install.wheelfile import verify_wheel
from wheelnext_jupyter.install.writer import direct_url_for_file


def plan_for(paths: Sequence[Path], target: TargetEnvironment) -> list[PlannedWheel]:
    planned = []
    for path in paths:
        verified = verify_wheel(path, target)
        planned.append(PlannedWheel(verified, direct_url=direct_url_for_file(verified)))
    return planned


def install_into(
    python: Path,
    paths: Sequence[Path],
    *,
    compile_bytecode: bool = False,
    after_wheel: AfterWheel | None = None,
) -> InstallOutcome:
    target = probe_target(python)
    return install_wheels(
        plan_for(paths, target), target, compile_bytecode=compile_bytecode, after_wheel=after_wheel
    )
