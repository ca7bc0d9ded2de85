"""pip and uv as packse scenario resolvers (resolution only, nothing is installed).

pip: `pip --python <interpreter> install --dry-run --ignore-installed --report FILE`. pip resolves
for the interpreter it runs under, so the runner picks an interpreter of the scenario's target
Python version (`find_interpreters`); `--python-version` is no substitute, because pip then
accepts wheels only and sdist-only scenarios would change meaning. Universal resolution and
required environments have no pip spelling (skipped).

uv: `uv pip compile --python-version V` (plus `--universal`, `--python-platform`,
`--prerelease allow`, `--no-binary`, `--no-build-package`). Required environments belong to
`uv lock` only (skipped).

Both run with the machine's configuration shut out: no config files, no `PIP_*` / `UV_*`
variables, no cache shared with anything else.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

from packaging.utils import canonicalize_name
from packaging.version import Version

from tests.peers.packse_runner import (
    Outcome,
    Resolved,
    Resolver,
    RunnerError,
    ScenarioRun,
    Unsatisfiable,
    Unsupported,
)

_TIMEOUT = 180


def isolated_env(*, prefixes: Iterable[str] = ("PIP_", "UV_")) -> dict[str, str]:
    """This process's environment without pip's and uv's settings and configuration files."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(tuple(prefixes))}
    env["PIP_CONFIG_FILE"] = os.devnull
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["PIP_NO_INPUT"] = "1"
    env["UV_NO_CONFIG"] = "1"
    env["UV_PYTHON_DOWNLOADS"] = "never"
    env.pop("PYTHONPATH", None)
    return env


def python_version_of(interpreter: Path) -> str | None:
    """The full version ("3.12.1") of an interpreter, or None when it does not run."""
    try:
        result = subprocess.run(
            [str(interpreter), "-c", "import platform; print(platform.python_version())"],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() or None


def find_interpreters(extra: Iterable[Path] = ()) -> dict[str, Path]:
    """Runnable CPython interpreters on this machine by full version ("3.12.1" → path).

    Looks at `extra`, this interpreter, `python3.N` on PATH and pyenv's version directories.
    """
    candidates: list[Path] = [*extra, Path(sys.executable)]
    for minor in range(8, 16):
        found = shutil.which(f"python3.{minor}")
        if found:
            candidates.append(Path(found))
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates += sorted(pyenv_root.glob("versions/3.*/bin/python3"))
    interpreters: dict[str, Path] = {}
    for candidate in candidates:
        version = python_version_of(candidate)
        if version and version not in interpreters:
            interpreters[version] = candidate
    return interpreters


def pick_interpreter(interpreters: Mapping[str, Path], wanted: str) -> Path:
    """The interpreter for target version `wanted` ("3.12" = any 3.12.x; "3.9.21" = exactly).

    Raises `Unsupported` when none matches: pip cannot resolve for a Python it does not run on.
    """
    want = Version(wanted)
    matches = []
    for version, path in interpreters.items():
        have = Version(version)
        if have.release[:2] != want.release[:2]:
            continue
        if len(want.release) > 2 and have.release[:3] != want.release[:3]:
            continue
        matches.append((have, path))
    if not matches:
        raise Unsupported(
            f"no Python {wanted} interpreter here (have {', '.join(sorted(interpreters))}); "
            "pip resolves only for the interpreter it runs on"
        )
    return max(matches)[1]


# --- pip ----------------------------------------------------------------------------------------

_PIP_NO_SOLUTION = re.compile(
    r"ResolutionImpossible|No matching distribution found|Could not find a version that satisfies"
    r"|requires a different Python"
)

_PLATFORMS = {
    # uv's --python-platform spelling → pip's --platform tag
    "x86_64-manylinux2014": "manylinux2014_x86_64",
    "x86_64-unknown-linux-gnu": "linux_x86_64",
    "aarch64-manylinux2014": "manylinux2014_aarch64",
}


def pip_command(
    run: ScenarioRun, interpreter: Path, report: Path, *, pip_python: Path | None = None
) -> list[str]:
    """The pip command line for one scenario run (pip from `pip_python`, default this Python)."""
    command = [
        str(pip_python or sys.executable),
        "-m",
        "pip",
        "--python",
        str(interpreter),
        "install",
        "--dry-run",
        "--ignore-installed",
        "--no-cache-dir",
        "--quiet",
        "--report",
        str(report),
        "--index-url",
        run.index_url,
    ]
    if run.prereleases:
        command.append("--pre")
    for project in run.no_binary:
        command += ["--no-binary", project]
    for project in run.no_build:
        command += ["--only-binary", project]
    if run.python_platform is not None:
        # pip accepts a foreign platform only for wheels: every scenario with a platform target
        # publishes wheels only, so `--only-binary=:all:` changes nothing there.
        if run.python_platform not in _PLATFORMS or run.no_binary:
            raise Unsupported(f"pip cannot target platform {run.python_platform!r} here")
        command += ["--platform", _PLATFORMS[run.python_platform], "--only-binary=:all:"]
    return [*command, *run.requirements]


def pip_resolver(interpreters: Mapping[str, Path], *, pip_python: Path | None = None) -> Resolver:
    """A resolver that asks pip (`pip_python -m pip`, default this Python's pip)."""

    def resolve(run: ScenarioRun) -> Outcome:
        if run.universal:
            raise Unsupported("pip has no universal (all-environments) resolution")
        if run.required_environments:
            raise Unsupported("pip has no required-environments option")
        interpreter = pick_interpreter(interpreters, run.python_version)
        with tempfile.TemporaryDirectory(prefix="packse-pip-") as scratch:
            report = Path(scratch) / "report.json"
            command = pip_command(run, interpreter, report, pip_python=pip_python)
            env = isolated_env()
            env["TMPDIR"] = scratch
            result = subprocess.run(
                command, capture_output=True, text=True, env=env, timeout=_TIMEOUT, check=False
            )
            if result.returncode != 0:
                if "This version of pip does not support python" in result.stderr:
                    raise Unsupported(
                        f"this pip does not run on Python {run.python_version} ({interpreter})"
                    )
                if _PIP_NO_SOLUTION.search(result.stderr):
                    return Unsatisfiable(result.stderr)
                raise RunnerError(_tail(result.stderr))
            data = json.loads(report.read_text())
        packages: dict[str, str] = {
            canonicalize_name(item["metadata"]["name"]): str(item["metadata"]["version"])
            for item in data["install"]
        }
        return Resolved(packages)

    return resolve


# --- uv -----------------------------------------------------------------------------------------

_UV_NO_SOLUTION = re.compile(r"No solution found|we can conclude|unsatisfiable")


def find_uv() -> Path | None:
    """The uv binary from the `uv` package in this environment, else on PATH."""
    try:
        import uv  # type: ignore[import-not-found, unused-ignore]

        return Path(uv.find_uv_bin())
    except (ImportError, FileNotFoundError):
        found = shutil.which("uv")
        return Path(found) if found else None


def uv_command(run: ScenarioRun, uv: Path, cache_dir: Path, *, python: Path) -> list[str]:
    command = [
        str(uv),
        "pip",
        "compile",
        "-",
        "--no-config",
        "--no-header",
        "--no-annotate",
        "--quiet",
        "--cache-dir",
        str(cache_dir),
        "--index-url",
        run.index_url,
        "--python",
        str(python),
        "--python-version",
        run.python_version,
    ]
    if run.prereleases:
        command += ["--prerelease", "allow"]
    for project in run.no_binary:
        command += ["--no-binary", project]
    for project in run.no_build:
        command += ["--only-binary", project]
    if run.python_platform is not None:
        command += ["--python-platform", run.python_platform]
    if run.universal:
        command.append("--universal")
    return command


def parse_compile_output(text: str) -> Resolved:
    """`name==version[ ; marker]` lines of `uv pip compile` → a `Resolved`."""
    versions: dict[str, list[str]] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", "-")):
            continue
        requirement = line.split(";", 1)[0].strip()
        name, sep, version = requirement.partition("==")
        if not sep:
            raise RunnerError(f"unexpected line in uv's output: {line!r}")
        name = canonicalize_name(name.split("[", 1)[0].strip())
        if version.strip() not in versions.setdefault(name, []):
            versions[name].append(version.strip())
    packages = {name: found[0] for name, found in versions.items()}
    forks = {name: tuple(found) for name, found in versions.items() if len(found) > 1}
    return Resolved(packages, forks)


def uv_resolver(uv: Path, *, python: Path | None = None, cache_dir: Path | None = None) -> Resolver:
    """A resolver that asks `uv pip compile` (sdists are built with `python`, default this one).

    `cache_dir` is shared by every run when given (project names differ between scenarios, so
    runs cannot see each other's pages); otherwise each run gets an empty one.
    """

    def resolve(run: ScenarioRun) -> Outcome:
        if run.required_environments:
            raise Unsupported("required environments apply to `uv lock`, not `uv pip compile`")
        with tempfile.TemporaryDirectory(prefix="packse-uv-") as scratch:
            cache = cache_dir or Path(scratch)
            command = uv_command(run, uv, cache, python=python or Path(sys.executable))
            result = subprocess.run(
                command,
                input="\n".join(run.requirements) + "\n",
                capture_output=True,
                text=True,
                env=isolated_env(),
                timeout=_TIMEOUT,
                check=False,
            )
        if result.returncode != 0:
            if _UV_NO_SOLUTION.search(result.stderr):
                return Unsatisfiable(result.stderr)
            raise RunnerError(_tail(result.stderr))
        return parse_compile_output(result.stdout)

    return resolve


def _tail(text: str, lines: int = 6) -> str:
    return " | ".join(text.strip().splitlines()[-lines:])
