"""Cost of `detect()`: cold (fresh interpreter, imports included, start-up excluded) and warm.

    python bench/bench_detect.py [--runs N]

Cold: each run starts a new interpreter, which times `import` + `detect()` + every namespace +
the host facts; the interpreter's own start-up is outside the measurement. Warm: the same call
repeated in one process, answered from the per-process cache. Targets on a CPU-only host:
cold < 30 ms, warm < 1 ms.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

COLD = """
import time
t0 = time.perf_counter()
from wheelnext_jupyter.detection import detect
d = detect()
d.supported
d.host_json()
t1 = time.perf_counter()
print((t1 - t0) * 1000)
"""


def cold(runs: int) -> list[float]:
    return [
        float(
            subprocess.run(
                [sys.executable, "-c", COLD], capture_output=True, text=True, check=True
            ).stdout
        )
        for _ in range(runs)
    ]


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
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--runs", type=int, default=15, help="fresh interpreters for the cold figure"
    )
    parser.add_argument("--repeats", type=int, default=2000, help="calls for the warm figure")
    args = parser.parse_args()
    cold_ms = cold(args.runs)
    warm_ms = warm(args.repeats)
    result = {
        "cold_median_ms": round(statistics.median(cold_ms), 2),
        "cold_min_ms": round(min(cold_ms), 2),
        "cold_max_ms": round(max(cold_ms), 2),
        "warm_per_call_ms": round(warm_ms, 4),
        "runs": args.runs,
        "repeats": args.repeats,
        "python": sys.version.split()[0],
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
