"""Hand the exact files of a plan, already downloaded and verified, to uv to write them.

uv is asked not to resolve, not to look at any index and not to read its own configuration:
`uv pip install --python <target> --no-deps --no-index --no-config --offline <files>`. It then
only unpacks and links. uv 0.13.9 evaluates variant wheels against the machine it runs on and
refuses local variant files (a plan made for another machine's profile could never pass), so
when uv refuses a plan that holds variant wheels, the built-in installer writes it instead and
the caller is told why.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from wheelnext_jupyter.index.redact import redact_text
from wheelnext_jupyter.install.errors import TransactionError
from wheelnext_jupyter.install.target import TargetEnvironment
from wheelnext_jupyter.install.transaction import InstallOutcome, RemovedDistribution
from wheelnext_jupyter.install.uninstall import find_installed, top_level_modules
from wheelnext_jupyter.install.wheelfile import VerifiedWheel
from wheelnext_jupyter.install.writer import InstalledDistribution

if TYPE_CHECKING:
    from wheelnext_jupyter.resolve.resolver import PlannedPackage

#: uv's switch for variant wheels (preview in 0.13).
PREVIEW_FEATURES = "wheel-variants"
_TIMEOUT = 1800


class UvBackendError(TransactionError):
    """uv is missing or failed; the message says what to do instead."""


class UvNotFound(UvBackendError):
    """`--installer uv` was asked for, but no uv executable can be found."""


@dataclass(frozen=True)
class UvOutcome:
    outcome: InstallOutcome
    #: Set when uv refused variant wheels and nothing was installed: the reason, for the user.
    refused_variants: str | None = None


def find_uv(environ: Mapping[str, str] | None = None) -> Path:
    """The uv executable: the `uv` package's, one next to this interpreter, or one on PATH."""
    environ = os.environ if environ is None else environ
    try:
        import uv  # type: ignore[import-not-found,unused-ignore]

        found = Path(uv.find_uv_bin())
        if found.is_file():
            return found
    except (ImportError, FileNotFoundError):
        pass
    beside = Path(sys.executable).parent / "uv"
    if beside.is_file() and os.access(beside, os.X_OK):
        return beside
    on_path = shutil.which("uv", path=environ.get("PATH"))
    if on_path is not None:
        return Path(on_path)
    raise UvNotFound(
        "--installer uv: uv is not installed (not importable, not next to "
        f"{sys.executable}, not on PATH); install it (pip install uv) or leave out "
        "--installer uv to use the built-in installer"
    )


def uv_command(
    uv: Path,
    target: TargetEnvironment,
    files: Sequence[Path],
    *,
    compile_bytecode: bool,
    break_system_packages: bool,
) -> list[str]:
    """The uv command line that installs exactly `files` into `target`, nothing else."""
    command = [
        str(uv),
        "pip",
        "install",
        "--python",
        str(target.python),
        "--no-deps",
        "--no-index",
        "--no-config",
        "--offline",
        # The plan decided what changes: files it lists are written even when the same
        # version is installed (a different variant, or --force-reinstall).
        "--reinstall",
    ]
    if compile_bytecode:
        command.append("--compile-bytecode")
    if break_system_packages:
        command.append("--break-system-packages")
    command += [str(path) for path in files]
    return command


def uv_environment(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment uv runs in: variant wheels enabled, no pip or uv index settings."""
    source = os.environ if base is None else base
    env = {k: v for k, v in source.items() if not k.startswith(("PIP_", "UV_INDEX", "UV_EXTRA"))}
    features = [f for f in env.get("UV_PREVIEW_FEATURES", "").split(",") if f]
    if PREVIEW_FEATURES not in features:
        features.append(PREVIEW_FEATURES)
    env["UV_PREVIEW_FEATURES"] = ",".join(features)
    return env


def install_with_uv(
    items: Sequence[tuple[PlannedPackage, VerifiedWheel]],
    target: TargetEnvironment,
    *,
    compile_bytecode: bool = False,
    break_system_packages: bool = False,
    uv: Path | None = None,
) -> UvOutcome:
    """Install the verified wheels with uv; raises `UvBackendError` when uv fails.

    When uv refuses a plan that holds variant wheels, nothing is installed and the outcome's
    `refused_variants` says why, so the caller can use the built-in installer.
    """
    executable = uv or find_uv()
    removed: list[RemovedDistribution] = []
    for package, wheel in items:
        old = find_installed(
            target, package.replaces.name if package.replaces is not None else wheel.name
        )
        if old is not None:
            removed.append(
                RemovedDistribution(old.name, old.version, frozenset(top_level_modules(old)))
            )
    command = uv_command(
        executable,
        target,
        [wheel.path for _, wheel in items],
        compile_bytecode=compile_bytecode,
        break_system_packages=break_system_packages,
    )
    try:
        completed = subprocess.run(
            command,
            capture_output=True,
            text=True,
            env=uv_environment(),
            timeout=_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise UvBackendError(f"could not run {executable}: {exc}") from None
    if completed.returncode != 0:
        reason = _reason(completed.stderr)
        if any(wheel.label is not None for _, wheel in items):
            return UvOutcome(
                InstallOutcome((), ()),
                refused_variants=(
                    f"uv refused the plan's variant wheels ({reason}); uv decides variants for "
                    "the machine it runs on and takes them only from an index, so the built-in "
                    "installer wrote the same files instead"
                ),
            )
        raise UvBackendError(
            f"uv could not install the plan (exit {completed.returncode}): {reason}; nothing "
            "was installed — leave out --installer uv to use the built-in installer"
        )
    installed: list[InstalledDistribution] = []
    for _, wheel in items:
        record = find_installed(target, wheel.name)
        if record is None:
            raise UvBackendError(
                f"uv reported success but {wheel.display_name} is not installed in "
                f"{target.prefix}; leave out --installer uv"
            )
        installed.append(
            InstalledDistribution(wheel.name, wheel.version, wheel.label, record.dist_info)
        )
    return UvOutcome(InstallOutcome(tuple(installed), tuple(removed)))


def _reason(stderr: str) -> str:
    """uv's explanation, one line, credentials redacted."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    useful = [line for line in lines if not line.startswith("Using Python")]
    text = " ".join(useful[:4]) or "no output"
    return redact_text(text)


__all__ = [
    "PREVIEW_FEATURES",
    "UvBackendError",
    "UvNotFound",
    "UvOutcome",
    "find_uv",
    "install_with_uv",
    "uv_command",
    "uv_environment",
]
