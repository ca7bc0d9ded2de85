"""Resolution-only time for a large real graph: jupyterlab's dependency closure, ours vs pip vs uv.

The mirror is built once (`pip download --only-binary=:all: jupyterlab`, through this machine's
own pip configuration, into `~/.cache/wheelnext-bench/jupyterlab/wheels/`); each wheel's METADATA
is written beside it as the PEP 658 `<wheel>.metadata` file, and the tree is served on 127.0.0.1
by the tests' `IndexServer` (JSON pages with `core-metadata`, file hashes computed once). Only
metadata files are fetched by any of the three tools; no wheel is downloaded.

Every command resolves `jupyterlab` for a bare virtual environment of this Python (nothing
installed), with the machine's pip/uv configuration shut out:

* ours (CLI): `python -m wheelnext_jupyter install --dry-run --python BARE --index-url URL
  --profile EMPTY jupyterlab` — cold (empty cache directory) and warm (the same cache again, a new
  process);
* ours (in process): `plan()` called twice in one process, as a notebook kernel would (the second
  call reuses the in-memory HTTP cache) — import time excluded;
* pip: `pip --python BARE install --dry-run --ignore-installed --report FILE` — cold
  (`--no-cache-dir`) and warm (a primed `--cache-dir`);
* uv: `uv pip compile --python BARE` — cold (empty `--cache-dir`) and warm (the same one again).

Medians of `--runs` runs (default 5); the resolved name==version sets of the three are compared.

Run: .venv/bin/python bench/bench_resolve.py [--runs N] [--mirror DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from packaging.utils import canonicalize_name, parse_wheel_filename  # noqa: E402

from tests.peers.peer_runners import find_uv, isolated_env, parse_compile_output  # noqa: E402
from tests.support.index_server import IndexServer  # noqa: E402

DEFAULT_MIRROR = Path.home() / ".cache" / "wheelnext-bench" / "jupyterlab"
REQUIREMENT = "jupyterlab"
EMPTY_PROFILE = {"format": "wheelnext-profile/1", "providers": {}, "host": {}}


# -- the mirror ----------------------------------------------------------------------------------


def download_wheels(wheels: Path, requirement: str) -> None:
    """Fetch the closure once, through this machine's pip configuration (its configured index)."""
    wheels.mkdir(parents=True, exist_ok=True)
    print(f"downloading the {requirement} closure into {wheels} (once)…", flush=True)
    command = [sys.executable, "-m", "pip", "download", "--only-binary=:all:", "-q"]
    subprocess.run([*command, "-d", str(wheels), requirement], check=True)


def build_index(wheels: Path, root: Path) -> int:
    """One directory per project with its wheels (symlinked) and their `.metadata` files."""
    count = 0
    for wheel in sorted(wheels.glob("*.whl")):
        name = canonicalize_name(parse_wheel_filename(wheel.name)[0])
        project = root / name
        project.mkdir(parents=True, exist_ok=True)
        link = project / wheel.name
        if not link.exists():
            link.symlink_to(wheel.resolve())
        metadata = project / (wheel.name + ".metadata")
        if not metadata.exists():
            with zipfile.ZipFile(wheel) as archive:
                member = next(
                    n
                    for n in archive.namelist()
                    if n.count("/") == 1 and n.endswith(".dist-info/METADATA")
                )
                metadata.write_bytes(archive.read(member))
        count += 1
    return count


# -- the commands --------------------------------------------------------------------------------


def clean_env(cache: Path, config: Path) -> dict[str, str]:
    env = isolated_env(prefixes=("PIP_", "UV_", "WHEELNEXT_"))
    env["WHEELNEXT_JUPYTER_CACHE_DIR"] = str(cache)
    env["XDG_CONFIG_HOME"] = str(config)
    return env


def timed(command: Sequence[str], env: dict[str, str], stdin: str | None = None) -> float:
    start = time.perf_counter()
    result = subprocess.run(
        command, input=stdin, capture_output=True, text=True, env=env, check=False
    )
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        tail = "\n".join(result.stderr.strip().splitlines()[-8:])
        raise SystemExit(f"failed ({result.returncode}): {' '.join(command)}\n{tail}")
    return elapsed


def ours_command(index_url: str, bare: Path, profile: Path, report: Path | None) -> list[str]:
    command = [sys.executable, "-m", "wheelnext_jupyter", "install", "--dry-run"]
    command += ["--python", str(bare), "--index-url", index_url, "--profile", str(profile)]
    if report is not None:
        command += ["--report", str(report)]
    return [*command, REQUIREMENT]


def pip_command(index_url: str, bare: Path, cache: Path | None, report: Path | None) -> list[str]:
    command = [sys.executable, "-m", "pip", "--python", str(bare), "install", "--dry-run"]
    command += ["--ignore-installed", "--quiet", "--index-url", index_url]
    command += ["--cache-dir", str(cache)] if cache is not None else ["--no-cache-dir"]
    if report is not None:
        command += ["--report", str(report)]
    return [*command, REQUIREMENT]


def uv_command(uv: Path, index_url: str, bare: Path, cache: Path) -> list[str]:
    command = [str(uv), "pip", "compile", "-", "--no-config", "--no-header", "--no-annotate"]
    command += ["--quiet", "--cache-dir", str(cache), "--index-url", index_url]
    return [*command, "--python", str(bare)]


_IN_PROCESS = """
import json, sys, time
t0 = time.perf_counter()
from wheelnext_jupyter.detection import detect
from wheelnext_jupyter.engine import InstallRequest, plan
from wheelnext_jupyter.index.config import IndexOptions
from wheelnext_jupyter.providers.profile import TargetProfile
t1 = time.perf_counter()
request = InstallRequest(requirements=[sys.argv[2]], index=IndexOptions(index_url=sys.argv[1]),
                         python=sys.argv[3])
detection = detect(profile=TargetProfile(providers={}))
times = []
for _ in range(2):
    start = time.perf_counter()
    result = plan(request, detection=detection)
    times.append(time.perf_counter() - start)
print(json.dumps({"import": t1 - t0, "first": times[0], "second": times[1],
                  "packages": len(result.plan.packages)}))
"""


def ours_in_process(index_url: str, bare: Path, env: dict[str, str]) -> dict[str, float]:
    result = subprocess.run(
        [sys.executable, "-c", _IN_PROCESS, index_url, REQUIREMENT, str(bare)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        cwd=REPO,
    )
    data: dict[str, float] = json.loads(result.stdout)
    return data


# -- what each resolved ----------------------------------------------------------------------------


def report_versions(report: Path) -> dict[str, str]:
    data = json.loads(report.read_text())
    return {
        canonicalize_name(item["metadata"]["name"]): str(item["metadata"]["version"])
        for item in data["install"]
    }


def compare(results: dict[str, dict[str, str]]) -> list[str]:
    lines = []
    names = list(results)
    base_name, base = names[0], results[names[0]]
    for other in names[1:]:
        theirs = results[other]
        if theirs == base:
            lines.append(f"  {other} resolved the same {len(base)} packages as {base_name}")
            continue
        for name in sorted(set(base) | set(theirs)):
            if base.get(name) != theirs.get(name):
                lines.append(f"  {name}: {base_name} {base.get(name)}, {other} {theirs.get(name)}")
    return lines


# -- main ------------------------------------------------------------------------------------------


def median_of(runs: int, once: Callable[[], float]) -> tuple[float, list[float]]:
    values = [once() for _ in range(runs)]
    return statistics.median(values), values


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--mirror", type=Path, default=DEFAULT_MIRROR)
    args = parser.parse_args(argv)
    runs: int = args.runs

    wheels = args.mirror / "wheels"
    if not any(wheels.glob("*.whl")):
        download_wheels(wheels, REQUIREMENT)
    uv = find_uv()

    with tempfile.TemporaryDirectory(prefix="bench-resolve-") as scratch_name:
        scratch = Path(scratch_name)
        count = build_index(wheels, scratch / "index")
        bare = scratch / "bare"
        subprocess.run(
            [sys.executable, "-m", "venv", "--without-pip", str(bare)],
            check=True,
            env=isolated_env(),
        )
        bare_python = bare / "bin" / "python"
        profile = scratch / "profile.json"
        profile.write_text(json.dumps(EMPTY_PROFILE))
        config = scratch / "config"
        config.mkdir()
        counter = iter(range(1_000_000))

        def fresh(prefix: str) -> Path:
            path = scratch / f"{prefix}-{next(counter)}"
            path.mkdir()
            return path

        with IndexServer(scratch / "index", mode="json", immutable_files=True) as server:
            url = server.index_url
            print(f"mirror: {count} wheels with metadata files, served at {url}")
            print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, {runs} runs each\n")

            # What each tool resolves (once, untimed).
            resolved: dict[str, dict[str, str]] = {}
            report = scratch / "ours.json"
            timed(ours_command(url, bare_python, profile, report), clean_env(fresh("c"), config))
            resolved["ours"] = report_versions(report)
            report = scratch / "pip.json"
            timed(pip_command(url, bare_python, None, report), clean_env(fresh("c"), config))
            resolved["pip"] = report_versions(report)
            if uv is not None:
                out = subprocess.run(
                    uv_command(uv, url, bare_python, fresh("uv")),
                    input=REQUIREMENT + "\n",
                    capture_output=True,
                    text=True,
                    env=clean_env(fresh("c"), config),
                    check=True,
                )
                resolved["uv"] = dict(parse_compile_output(out.stdout).packages)

            figures: dict[str, tuple[float, list[float]]] = {}

            def ours_cold() -> float:
                env = clean_env(fresh("ours"), config)
                return timed(ours_command(url, bare_python, profile, None), env)

            warm_cache = fresh("ours-warm")
            timed(ours_command(url, bare_python, profile, None), clean_env(warm_cache, config))

            def ours_warm() -> float:
                env = clean_env(warm_cache, config)
                return timed(ours_command(url, bare_python, profile, None), env)

            def pip_cold() -> float:
                env = clean_env(fresh("c"), config)
                return timed(pip_command(url, bare_python, None, None), env)

            pip_cache = fresh("pip-warm")
            timed(pip_command(url, bare_python, pip_cache, None), clean_env(fresh("c"), config))

            def pip_warm() -> float:
                env = clean_env(fresh("c"), config)
                return timed(pip_command(url, bare_python, pip_cache, None), env)

            figures["ours, cold (CLI)"] = median_of(runs, ours_cold)
            figures["ours, warm (CLI)"] = median_of(runs, ours_warm)
            in_process = [
                ours_in_process(url, bare_python, clean_env(fresh("ours-ip"), config))
                for _ in range(runs)
            ]
            figures["ours, in process, 1st plan()"] = (
                statistics.median(r["first"] for r in in_process),
                [r["first"] for r in in_process],
            )
            figures["ours, in process, 2nd plan()"] = (
                statistics.median(r["second"] for r in in_process),
                [r["second"] for r in in_process],
            )
            figures["pip, cold"] = median_of(runs, pip_cold)
            figures["pip, warm"] = median_of(runs, pip_warm)
            if uv is not None:
                uv_path = uv

                def uv_cold() -> float:
                    env = clean_env(fresh("c"), config)
                    command = uv_command(uv_path, url, bare_python, fresh("uv"))
                    return timed(command, env, stdin=REQUIREMENT + "\n")

                uv_cache = fresh("uv-warm")
                timed(
                    uv_command(uv_path, url, bare_python, uv_cache),
                    clean_env(fresh("c"), config),
                    stdin=REQUIREMENT + "\n",
                )

                def uv_warm() -> float:
                    env = clean_env(fresh("c"), config)
                    command = uv_command(uv_path, url, bare_python, uv_cache)
                    return timed(command, env, stdin=REQUIREMENT + "\n")

                figures["uv, cold"] = median_of(runs, uv_cold)
                figures["uv, warm"] = median_of(runs, uv_warm)

    print(f"{'command':32} {'median':>8}   runs (s)")
    for label, (median, values) in figures.items():
        shown = " / ".join(f"{v:.2f}" for v in values)
        print(f"{label:32} {median:7.2f}s   {shown}")
    import_time = statistics.median(r["import"] for r in in_process)
    print(f"\n(ours in process: importing the engine took {import_time:.2f}s, not counted)")

    print("\nratios (ours / peer, same temperature):")
    pairs = [("cold (CLI)", "cold"), ("warm (CLI)", "warm")]
    for ours_label, peer_label in pairs:
        mine = figures[f"ours, {ours_label}"][0]
        for peer in ("pip", "uv"):
            key = f"{peer}, {peer_label}"
            if key in figures:
                print(f"  ours {ours_label:11} / {key:10} = {mine / figures[key][0]:.2f}")

    print("\nresolved sets:")
    print(f"  ours resolved {len(resolved['ours'])} packages")
    for line in compare(resolved):
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
