"""Install a realistic notebook stack from a loopback mirror: ours vs pip vs uv, cold and warm.

    .venv/bin/python bench/bench_install.py [--runs N] [--packages "pandas matplotlib ..."]
        [--tools wheelnext,kernel,uv,pip] [--bytecode off|on|both] [--churn]
        [--no-metadata-files | --default-index]

The mirror is built once with `pip download` into `~/.cache/wheelnext-bench/` (outside the
repository; wheels are never committed), with a PEP 658 `.metadata` file next to every wheel, and
served over the simple API on 127.0.0.1 by the test suite's index server (file hashes computed
once, as a real index stores them, not on every page request). Every run installs into
a fresh virtual environment (creation not timed). "cold" starts with empty caches (HTTP, wheel and
unpacked-wheel caches for us, `--no-cache-dir` for pip, a fresh `UV_CACHE_DIR` for uv); "warm"
reuses the cache of a previous run. Each is measured with bytecode compilation off and on. The
tools take turns within every run (interleaved, in reverse order every other run), so a noisy
machine slows all of them alike and none always runs first or last.
Prints the median wall-clock seconds and processor seconds (user and system time, a tool's
child processes included) and their ratios to uv, then each tool paired with uv's turn of the
same run: the median of those ratios and in how many runs the tool was faster. The pairs hold
when the machine's speed drifts between runs, which the medians alone do not show. On a machine with few cores a cold install is
bound by processor time: what one tool spends more, it waits for.

"kernel" is the notebook's case: `%wninstall ...` through the magic's own code path
(`magics.wninstall`) in a Python process of the fresh environment itself, as a kernel installs
into its own environment, with the extension and the engine loaded already (as after a first
`%wninstall`); this checkout and the benchmark's own environment are on its `PYTHONPATH` (not
site directories, so nothing counts as installed there). Only the magic's call is timed
(starting Python and importing are not), and so is only its processor time during the call;
its caches are as cold (or warm) as the command line's.

Nothing is deleted while the tools run: every install gets its own directories, removed at the
end — except where they are held in memory (`TMPDIR=/dev/shm`, a tmpfs). A run leaves about two
gigabytes there, and kept, they press on memory until every tool slows down, some more than
others (by the seventh run of one pass: uv and a kernel's install 60 % slower than in the first,
the command line 16 %), so there each run's directories are removed once every tool has had its
turn, untimed. `--churn` instead deletes the previous install's environment right before each
timed run.
That is its own benchmark: on a file system that checks recently freed inodes on every create
(ext4 without a journal, as on the machines this benchmark was first run on), creating files
within minutes of deleting thousands is several times slower, for every tool; it rewards tools
that create files from fewer threads at once.

`--no-metadata-files` serves the same mirror without announcing its metadata files, as many
private indexes and mirrors do: each tool then reads every wheel's metadata from the wheel.

`--default-index` installs over the network from the index pip installs from by default (its
configured `index-url`, else its built-in default, PyPI) instead of the mirror: every version on
the project pages, as users install. Every tool is given that index and nothing else from pip's
configuration. The network's speed varies from run to run: the pairs say more than the medians.
"""

from __future__ import annotations

import argparse
import compileall
import contextlib
import os
import resource
import shlex
import shutil
import site
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.support.index_server import IndexServer  # noqa: E402
from wheelnext_jupyter.index.redact import redact_url  # noqa: E402

PACKAGES = "pandas matplotlib scikit-learn httpx rich"
MIRROR = Path(os.environ.get("WHEELNEXT_BENCH_DIR", Path.home() / ".cache" / "wheelnext-bench"))
CPU_PROFILE = '{"format": "wheelnext-profile/1", "providers": {}, "host": {}}'


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_", "PYTHON"))}
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_DISABLE_PIP_VERSION_CHECK="1", **extra)
    return env


def build_mirror(packages: list[str]) -> Path:
    """Download the stack's wheels once (pip resolves it) and lay them out as an index tree."""
    downloads = MIRROR / "downloads"
    tree = MIRROR / "tree"
    stamp = MIRROR / ("stamp-" + "-".join(sorted(packages)))
    if stamp.exists():
        return tree
    downloads.mkdir(parents=True, exist_ok=True)
    # The machine's pip configuration (mirrors) is kept here: it is how this machine reaches PyPI.
    download = [sys.executable, "-m", "pip", "download", "--only-binary=:all:"]
    subprocess.run([*download, "-d", str(downloads), *packages], check=True)
    from packaging.utils import canonicalize_name, parse_wheel_filename

    shutil.rmtree(tree, ignore_errors=True)
    for wheel in downloads.glob("*.whl"):
        name = canonicalize_name(parse_wheel_filename(wheel.name)[0])
        directory = tree / name
        directory.mkdir(parents=True, exist_ok=True)
        shutil.copy2(wheel, directory / wheel.name)
        with zipfile.ZipFile(wheel) as archive:
            member = next(
                n
                for n in archive.namelist()
                if n.count("/") == 1 and n.endswith(".dist-info/METADATA")
            )
            (directory / (wheel.name + ".metadata")).write_bytes(archive.read(member))
    stamp.touch()
    return tree


def default_index() -> str:
    """The index `pip install` uses when given none: its configured one, else its default."""
    from wheelnext_jupyter.index.config import pip_default_index, read_pip_config

    return read_pip_config().index_url or pip_default_index()


def fresh_venv(root: Path, *, with_pip: bool) -> Path:
    shutil.rmtree(root, ignore_errors=True)
    args = [sys.executable, "-m", "venv", str(root)]
    if not with_pip:
        args.insert(3, "--without-pip")
    subprocess.run(args, check=True, env=clean_env())
    return root / "bin" / "python"


def timed(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall-clock seconds and processor seconds (user and system, the tool's own child
    processes included) of one install."""
    before = _children_cpu()
    start = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    used = _children_cpu() - before
    if done.returncode != 0:
        raise SystemExit(f"failed: {' '.join(command)}\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    # The kernel's case times itself (the magic's call only) and prints both figures last.
    if command[1:3] == ["-c", _IN_KERNEL]:
        wall, cpu = done.stdout.strip().splitlines()[-1].split()
        return float(wall), float(cpu)
    return elapsed, used


def in_memory(path: Path) -> bool:
    """Whether `path` is on a tmpfs (Linux: its mount in /proc/mounts; elsewhere False)."""
    try:
        mounts = Path("/proc/mounts").read_text().splitlines()
    except OSError:
        return False
    best, kind = "", ""
    resolved = str(path.resolve())
    for line in mounts:
        fields = line.split()
        if len(fields) < 3:
            continue
        point = fields[1].replace("\\040", " ")
        inside = resolved == point or resolved.startswith(point.rstrip("/") + "/")
        if inside and len(point) > len(best):
            best, kind = point, fields[2]
    return kind == "tmpfs"


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


#: `%wninstall LINE` as a kernel runs it, after the extension and the engine are loaded (and
#: Jupyter's `comm` package, which a kernel has loaded and the sidebar's events go through).
_IN_KERNEL = """
import resource, sys, time
import comm, IPython.core.interactiveshell
import wheelnext_jupyter.comm
from wheelnext_jupyter import cli, display, engine, magics, report
def cpu():
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime
start, used = time.perf_counter(), cpu()
magics.wninstall(sys.argv[1])
print(time.perf_counter() - start, cpu() - used)
"""


def uv_executable() -> str:
    found = shutil.which("uv") or str(Path(sys.executable).parent / "uv")
    return found


#: The tools compared, in the order they take turns.
TOOLS = ("wheelnext", "kernel", "uv", "pip")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--packages", default=PACKAGES)
    parser.add_argument("--tools", default=",".join(TOOLS), help="comma-separated subset")
    parser.add_argument("--bytecode", choices=("off", "on", "both"), default="both")
    parser.add_argument(
        "--churn", action="store_true", help="delete the previous environment before each run"
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--no-metadata-files",
        action="store_true",
        help="serve the mirror without announcing its metadata files, as many indexes do",
    )
    source.add_argument(
        "--default-index",
        action="store_true",
        help="install over the network from pip's default index instead of the mirror",
    )
    args = parser.parse_args()
    tools = args.tools.split(",")
    unknown = sorted(set(tools) - set(TOOLS))
    if unknown:
        parser.error(f"unknown tool(s) {', '.join(unknown)}; choose from {', '.join(TOOLS)}")
    modes = {"off": (False,), "on": (True,), "both": (False, True)}[args.bytecode]
    packages = args.packages.split()
    # Our own modules with current bytecode, as an installed copy has them: otherwise, where
    # the environment writes none (PYTHONDONTWRITEBYTECODE), every command-line run would
    # compile the modules changed since it was last written.
    compileall.compile_dir(REPO / "wheelnext_jupyter", quiet=1)
    # And, as after an installed copy's first run, the regular expressions its imports compile
    # (`wheelnext_jupyter.pattern_cache`), kept beside that bytecode.
    subprocess.run(
        [sys.executable, "-m", "wheelnext_jupyter", "list", "--json"],
        env=clean_env(),
        capture_output=True,
        check=True,
    )
    if args.default_index:
        remote = default_index()
        print(f"stack: {' '.join(packages)} — from {redact_url(remote)}, over the network")
    else:
        tree = build_mirror(packages)
        wheels = list(tree.glob("*/*.whl"))
        size = sum(w.stat().st_size for w in wheels)
        print(f"stack: {' '.join(packages)} — {len(wheels)} wheels, {size / 1e6:.0f} MB")
    if args.no_metadata_files:
        print("no metadata files announced: the wheels themselves give their metadata")
    work = Path(tempfile.mkdtemp(prefix="wheelnext-bench-"))
    tidy = not args.churn and in_memory(work)
    if args.churn:
        print("environments deleted before each run")
    elif tidy:
        print("held in memory (tmpfs): each run's directories removed after the run")
    else:
        print("nothing deleted between runs")
    profile = work / "cpu.json"
    profile.write_text(CPU_PROFILE)
    uv = uv_executable()
    #: (wall seconds, processor seconds) of each run, by tool, phase and bytecode mode.
    results: dict[str, list[tuple[float, float]]] = {}

    with contextlib.ExitStack() as stack:
        if args.default_index:
            index = remote
        else:
            server = IndexServer(
                tree, immutable_files=True, announce_metadata=not args.no_metadata_files
            )
            index = stack.enter_context(server).index_url

        def ours(cache: Path, compile_: bool) -> Callable[[Path], tuple[list[str], dict[str, str]]]:
            def command(python: Path) -> tuple[list[str], dict[str, str]]:
                argv = [sys.executable, "-m", "wheelnext_jupyter", "install", "--python"]
                argv += [str(python), "--index-url", index, "--profile", str(profile), *packages]
                if compile_:
                    argv.append("--compile")
                return argv, clean_env(WHEELNEXT_JUPYTER_CACHE_DIR=str(cache))

            return command

        def kernel(
            cache: Path, compile_: bool
        ) -> Callable[[Path], tuple[list[str], dict[str, str]]]:
            def command(python: Path) -> tuple[list[str], dict[str, str]]:
                words = ["--index-url", index, "--profile", str(profile), *packages]
                line = shlex.join([*words, *(["--compile"] if compile_ else [])])
                path = os.pathsep.join([str(REPO), *site.getsitepackages()])
                env = clean_env(WHEELNEXT_JUPYTER_CACHE_DIR=str(cache), PYTHONPATH=path)
                return [str(python), "-c", _IN_KERNEL, line], env

            return command

        def pip(
            cache: Path | None, compile_: bool
        ) -> Callable[[Path], tuple[list[str], dict[str, str]]]:
            def command(python: Path) -> tuple[list[str], dict[str, str]]:
                argv = [str(python), "-m", "pip", "install", "--index-url", index, *packages]
                argv += ["--compile"] if compile_ else ["--no-compile"]
                argv += ["--cache-dir", str(cache)] if cache else ["--no-cache-dir"]
                return argv, clean_env()

            return command

        def uv_cmd(
            cache: Path, compile_: bool
        ) -> Callable[[Path], tuple[list[str], dict[str, str]]]:
            def command(python: Path) -> tuple[list[str], dict[str, str]]:
                argv = [uv, "pip", "install", "--python", str(python), "--index-url", index]
                argv += ["--no-config", *packages]
                if compile_:
                    argv.append("--compile-bytecode")
                return argv, clean_env(UV_CACHE_DIR=str(cache))

            return command

        lineup = (
            ("wheelnext", ours, False),
            ("kernel", kernel, False),
            ("uv", uv_cmd, False),
            ("pip", pip, True),
        )
        previous: Path | None = None
        for run in range(args.runs):
            # Every other run takes the tools in reverse: none always goes first (right after the
            # last run's directories were removed) or last.
            order = lineup if run % 2 == 0 else lineup[::-1]
            for compile_ in modes:
                tag = "pyc" if compile_ else "no pyc"
                for tool, make, with_pip in order:
                    if tool not in tools:
                        continue
                    cache = work / f"run-{run}" / f"cache-{tool}-{int(compile_)}"
                    for phase in ("cold", "warm"):
                        slot = f"{tool}-{run}-{int(compile_)}-{phase}"
                        python = fresh_venv(work / f"run-{run}" / f"venv-{slot}", with_pip=with_pip)
                        if tool == "pip" and phase == "cold":
                            argv, env = pip(None, compile_)(python)
                            # Fill pip's cache untimed for the warm run.
                            prime = fresh_venv(work / f"run-{run}" / f"prime-{slot}", with_pip=True)
                            subprocess.run(
                                pip(cache, compile_)(prime)[0],
                                env=env,
                                capture_output=True,
                                check=True,
                            )
                        else:
                            argv, env = make(cache, compile_)(python)
                        if args.churn and previous is not None:
                            shutil.rmtree(previous, ignore_errors=True)
                        previous = python.parents[1]
                        seconds, cpu = timed(argv, env)
                        results.setdefault(f"{tool} {phase} {tag}", []).append((seconds, cpu))
                        print(
                            f"  {tool:9} {phase} {tag:6} {seconds:6.2f} s  processor {cpu:6.2f} s",
                            flush=True,
                        )
            if tidy:
                shutil.rmtree(work / f"run-{run}", ignore_errors=True)
                previous = None
    shutil.rmtree(work, ignore_errors=True)

    for title, column in (("seconds", 0), ("processor seconds", 1)):
        print(f"\nmedian {title} (ratio to uv in the same setting)")
        for phase in ("cold", "warm"):
            for tag in ("pyc" if m else "no pyc" for m in modes):
                uv_runs = results.get(f"uv {phase} {tag}")
                base = statistics.median(r[column] for r in uv_runs) if uv_runs else None
                row = []
                for tool in tools:
                    value = statistics.median(r[column] for r in results[f"{tool} {phase} {tag}"])
                    ratio = f" ({value / base:4.2f}x)" if base else ""
                    row.append(f"{tool} {value:6.2f} s{ratio}")
                print(f"  {phase} {tag:6}: " + "   ".join(row))

    print("\npaired with uv's turn in the same run (wall clock): median ratio, runs faster than uv")
    for phase in ("cold", "warm"):
        for tag in ("pyc" if m else "no pyc" for m in modes):
            uv_runs = results.get(f"uv {phase} {tag}")
            if not uv_runs:
                continue
            row = []
            for tool in tools:
                if tool == "uv":
                    continue
                ratios = [
                    ours[0] / theirs[0]
                    for ours, theirs in zip(results[f"{tool} {phase} {tag}"], uv_runs, strict=True)
                ]
                faster = sum(ratio < 1 for ratio in ratios)
                row.append(f"{tool} {statistics.median(ratios):4.2f}x, {faster}/{len(ratios)}")
            print(f"  {phase} {tag:6}: " + "   ".join(row))


if __name__ == "__main__":
    main()
