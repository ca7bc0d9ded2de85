"""CPU detection cost: ours vs `archspec.cpu.host()` vs py-cpuinfo, cold and warm.

Cold = a fresh interpreter imports the module and detects once; the clock starts after the
interpreter is up (inside the child), so interpreter start-up is excluded. The child first imports
the standard-library modules every Jupyter kernel has already loaded (`KERNEL_STDLIB`), so the
figure is what the first detection costs inside a running kernel. Warm = repeated calls in
this process with caches cleared, median reported.

Run: .venv/bin/python bench/bench_detect_cpu.py [--cold-runs N] [--warm-runs N]
py-cpuinfo is optional (`pip install py-cpuinfo`); without it that column is skipped.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

COLD_SNIPPETS = {
    "ours: detect_cpu": ("from wheelnext_jupyter.host.cpu import detect_cpu\ndetect_cpu()"),
    "ours: detect_cpu + match_target": (
        "from wheelnext_jupyter.host.cpu import detect_cpu, match_target\n"
        "match_target(detect_cpu())"
    ),
    "ours: x86_64+aarch64 providers": (
        "from wheelnext_jupyter.host.cpu import detect_cpu\n"
        "from wheelnext_jupyter.providers.builtin.x86_64 import X8664Provider\n"
        "from wheelnext_jupyter.providers.builtin.aarch64 import AArch64Provider\n"
        "info = detect_cpu()\n"
        "X8664Provider.from_host(info, {}).get_supported_configs()\n"
        "AArch64Provider.from_host(info, {}).get_supported_configs()"
    ),
    "archspec.cpu.host()": "import archspec.cpu\narchspec.cpu.host()",
    "py-cpuinfo get_cpu_info()": "import cpuinfo\ncpuinfo.get_cpu_info()",
}

#: Standard-library modules an IPython kernel has imported before any user code runs.
KERNEL_STDLIB = "re, platform, dataclasses, functools, pathlib, typing, json, subprocess, warnings"

CHILD = """
import time
import {stdlib}
t0 = time.perf_counter()
{body}
print(time.perf_counter() - t0)
"""


def has_py_cpuinfo() -> bool:
    return importlib.util.find_spec("cpuinfo") is not None


def cold(snippet: str, runs: int) -> float:
    # Installed packages have compiled bytecode; let the first (discarded) run write ours too.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    times = []
    for _ in range(runs + 1):
        out = subprocess.run(
            [sys.executable, "-c", CHILD.format(body=snippet, stdlib=KERNEL_STDLIB)],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        times.append(float(out.stdout.strip().splitlines()[-1]))
    return statistics.median(times[1:])


def warm(func: Callable[[], object], runs: int) -> float:
    func()  # imports and first-touch costs are not part of the warm figure
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        func()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def warm_functions(py_cpuinfo: bool) -> dict[str, tuple[Callable[[], object], bool]]:
    import archspec.cpu

    from wheelnext_jupyter.host.cpu import detect_cpu, match_target

    def ours_match() -> object:
        match_target.cache_clear()
        return match_target(detect_cpu())

    def archspec_host() -> object:
        archspec.cpu.host.cache_clear()
        return archspec.cpu.host()

    funcs: dict[str, tuple[Callable[[], object], bool]] = {
        "ours: detect_cpu": (detect_cpu, False),
        "ours: detect_cpu + match_target": (ours_match, False),
        "archspec.cpu.host()": (archspec_host, False),
    }
    if py_cpuinfo:
        import cpuinfo

        funcs["py-cpuinfo get_cpu_info()"] = (cpuinfo.get_cpu_info, True)
    return funcs


def report(title: str, results: dict[str, float], base: str) -> None:
    print(f"\n{title}")
    for name, seconds in results.items():
        ratio = seconds / results[base]
        print(f"  {name:34} {seconds * 1000:10.3f} ms   {ratio:8.1f}x {base}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cold-runs", type=int, default=7)
    parser.add_argument("--warm-runs", type=int, default=200)
    parser.add_argument("--slow-runs", type=int, default=3, help="runs for py-cpuinfo")
    args = parser.parse_args()

    py_cpuinfo = has_py_cpuinfo()
    if not py_cpuinfo:
        print("py-cpuinfo is not installed: skipping it (pip install py-cpuinfo)")
    print(f"python {sys.version.split()[0]} on {sys.platform}; medians")

    cold_results = {}
    for name, snippet in COLD_SNIPPETS.items():
        if name.startswith("py-cpuinfo"):
            if not py_cpuinfo:
                continue
            cold_results[name] = cold(snippet, args.slow_runs)
        else:
            cold_results[name] = cold(snippet, args.cold_runs)
    report("cold (fresh interpreter, import + one detection)", cold_results, "ours: detect_cpu")

    warm_results = {}
    for name, (func, slow) in warm_functions(py_cpuinfo).items():
        warm_results[name] = warm(func, args.slow_runs if slow else args.warm_runs)
    report("warm (repeated in one process, caches cleared)", warm_results, "ours: detect_cpu")


if __name__ == "__main__":
    main()
