"""Cost of `detect()`: cold (fresh interpreter, imports included, start-up excluded) and warm,
beside `archspec.cpu.host()` and py-cpuinfo's `get_cpu_info()` measured the same way.

    python bench/bench_detect.py [--runs N] [--slow-runs N] [--repeats N]

Cold: each run starts a new interpreter; the clock starts inside it, after the interpreter is up,
and covers `import` + `detect()` + every namespace + the host facts. Two settings:

- bare: nothing imported beforehand;
- kernel: the standard-library modules an IPython kernel has already imported (`KERNEL_PRELOAD`)
  are imported before the clock starts, so the figure is what a first `%wninstall` pays.

`detect()` is measured with archspec's match already in the on-disk CPU cache (every kernel after
the first on a machine) and with an empty cache directory (the first kernel ever). Runs of the
different subjects are interleaved so that load from other work spreads over all of them. Warm: the
same call repeated in one process, answered from the per-process cache. Targets on a CPU-only host:
cold < 30 ms, warm < 1 ms.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

#: Imported before the clock starts in the "kernel" setting (all imported by IPython/ipykernel).
KERNEL_PRELOAD = (
    "json",
    "re",
    "typing",
    "dataclasses",
    "enum",
    "inspect",
    "logging",
    "subprocess",
    "pathlib",
    "ctypes",
    "threading",
)

SUBJECTS = {
    "detect()": (
        "from wheelnext_jupyter.detection import detect\nd = detect()\nd.supported\nd.host_json()"
    ),
    "archspec.cpu.host()": "import archspec.cpu\narchspec.cpu.host()",
    "py-cpuinfo get_cpu_info()": "import cpuinfo\ncpuinfo.get_cpu_info()",
}

CHILD = """
import time
{preload}
t0 = time.perf_counter()
{body}
print((time.perf_counter() - t0) * 1000)
"""

CACHE_DIR_VARIABLE = "WHEELNEXT_JUPYTER_CACHE_DIR"


def run_child(body: str, preload: str, environ: dict[str, str]) -> float:
    done = subprocess.run(
        [sys.executable, "-c", CHILD.format(preload=preload, body=body)],
        cwd=REPO,
        env=environ,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(done.stdout.strip().splitlines()[-1])


def cold(runs: int, slow_runs: int, with_py_cpuinfo: bool) -> dict[str, dict[str, list[float]]]:
    """Cold times in ms per setting and subject, runs interleaved."""
    base = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    settings = {"bare": "", "kernel": "import " + ", ".join(KERNEL_PRELOAD)}
    results: dict[str, dict[str, list[float]]] = {s: {} for s in settings}
    with tempfile.TemporaryDirectory() as scratch:
        warm_cache = dict(base, **{CACHE_DIR_VARIABLE: str(Path(scratch, "warm"))})
        # One discarded run writes bytecode and fills the CPU match cache.
        run_child(SUBJECTS["detect()"], "", warm_cache)
        for index in range(runs):
            for setting, preload in settings.items():
                empty = dict(
                    base, **{CACHE_DIR_VARIABLE: str(Path(scratch, f"empty-{setting}-{index}"))}
                )
                jobs = [
                    ("detect(), CPU match cached", SUBJECTS["detect()"], warm_cache),
                    ("detect(), first run (empty cache)", SUBJECTS["detect()"], empty),
                    ("archspec.cpu.host()", SUBJECTS["archspec.cpu.host()"], base),
                ]
                if with_py_cpuinfo and index < slow_runs:
                    jobs.append(
                        ("py-cpuinfo get_cpu_info()", SUBJECTS["py-cpuinfo get_cpu_info()"], base)
                    )
                for name, body, environ in jobs:
                    results[setting].setdefault(name, []).append(run_child(body, preload, environ))
    return results


def warm(repeats: int) -> float:
    from wheelnext_jupyter.detection import detect

    first = detect()
    _ = first.supported
    first.host_json()
    t0 = time.perf_counter()
    for _ in range(repeats):
        found = detect()
        _ = found.supported
        found.host_json()
    return (time.perf_counter() - t0) / repeats * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="fresh interpreters per figure")
    parser.add_argument("--slow-runs", type=int, default=3, help="fresh interpreters, py-cpuinfo")
    parser.add_argument("--repeats", type=int, default=2000, help="calls for the warm figure")
    args = parser.parse_args()
    with_py_cpuinfo = importlib.util.find_spec("cpuinfo") is not None
    results = cold(args.runs, args.slow_runs, with_py_cpuinfo)
    summary: dict[str, object] = {
        "python": sys.version.split()[0],
        "runs": args.runs,
        "kernel_preload": list(KERNEL_PRELOAD),
        "py_cpuinfo": "measured" if with_py_cpuinfo else "not installed",
    }
    for setting, subjects in results.items():
        reference = statistics.median(subjects["detect(), CPU match cached"])
        print(f"\ncold, {setting} interpreter (median / min / max ms, ratio to detect())")
        table: dict[str, object] = {}
        for name, times in subjects.items():
            median = statistics.median(times)
            print(
                f"  {name:36} {median:9.2f} {min(times):9.2f} {max(times):9.2f}"
                f"   {median / reference:6.2f}x"
            )
            table[name] = {
                "median_ms": round(median, 2),
                "min_ms": round(min(times), 2),
                "max_ms": round(max(times), 2),
                "runs": len(times),
            }
        summary[f"cold_{setting}"] = table
    warm_ms = warm(args.repeats)
    print(f"\nwarm detect() per call: {warm_ms:.4f} ms ({args.repeats} calls)")
    summary["warm_per_call_ms"] = round(warm_ms, 4)
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
