"""pip and uv over the 150 packse 0.3.59 resolver scenarios, on one loopback index.

Builds every scenario's packages into one index directory (real wheels and buildable sdists with
PEP 658 metadata files; see `tests/peers/packse_index.py`), serves it on 127.0.0.1, then resolves
each scenario with pip (`install --dry-run --report`, run under an interpreter of the scenario's
target Python) and with uv (`pip compile --python-version`), both isolated from this machine's
configuration. Prints pass / fail / skip counts and wall time per tool, every failure with its
reason, and the scenarios on which the two tools disagree.

uv comes from the `uv` package (`.venv/bin/pip install uv`) or PATH; pip is this interpreter's.

Run: .venv/bin/python bench/packse_baseline.py [--only pip|uv] [-k SUBSTRING] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.peers.packse_index import build_index
from tests.peers.packse_runner import Resolver, Verdict, run_scenario
from tests.peers.packse_scenarios import load_scenarios
from tests.peers.peer_runners import (
    find_interpreters,
    find_uv,
    pip_resolver,
    uv_resolver,
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("pip", "uv"), help="run one tool only")
    parser.add_argument("-k", dest="substring", help="only scenarios whose name contains this")
    parser.add_argument("--json", type=Path, help="write every verdict to this file")
    args = parser.parse_args()

    scenarios = load_scenarios()
    if args.substring:
        scenarios = [s for s in scenarios if args.substring in s.name]
    tools: dict[str, Resolver] = {}
    if args.only in (None, "pip"):
        interpreters = find_interpreters()
        print("pip interpreters:", ", ".join(sorted(interpreters)))
        tools["pip"] = pip_resolver(interpreters)
    if args.only in (None, "uv"):
        uv = find_uv()
        if uv is None:
            print("uv not found: .venv/bin/pip install uv", file=sys.stderr)
            return 2
        uv_cache = Path(tempfile.mkdtemp(prefix="packse-uv-cache-"))
        tools["uv"] = uv_resolver(uv, cache_dir=uv_cache)

    results: dict[str, dict[str, Verdict]] = {}
    with tempfile.TemporaryDirectory(prefix="packse-index-") as scratch:
        started = time.perf_counter()
        index = build_index(scenarios, Path(scratch) / "index")
        built = time.perf_counter() - started
        files = sum(1 for p in index.root.rglob("*") if p.is_file() and p.suffix != ".metadata")
        print(
            f"index: {len(scenarios)} scenarios, {len(index.projects)} projects, "
            f"{files} distribution files, built in {built:.1f} s"
        )
        with index.server() as server:
            for tool, resolver in tools.items():
                started = time.perf_counter()
                results[tool] = {
                    s.name: run_scenario(s, server.index_url, resolver) for s in scenarios
                }
                elapsed = time.perf_counter() - started
                counts = Counter(v.status for v in results[tool].values())
                print(
                    f"{tool}: {counts['pass']} pass / {counts['fail']} fail / "
                    f"{counts['skip']} skip ({elapsed:.1f} s)"
                )

    for tool, verdicts in results.items():
        print(f"\n{tool} failures:")
        for verdict in verdicts.values():
            if verdict.status == "fail":
                print(f"  {verdict.scenario}: {verdict.reason}")
        skips = Counter(v.reason for v in verdicts.values() if v.status == "skip")
        print(f"{tool} skips:")
        for reason, count in skips.most_common():
            print(f"  {count:3d} × {reason}")
    if len(results) == 2:
        print("\ndisagreements (pip vs uv, both ran):")
        for name in sorted(results["pip"]):
            a, b = results["pip"][name], results["uv"][name]
            if "skip" not in (a.status, b.status) and a.status != b.status:
                print(f"  {name}: pip {a.status}, uv {b.status} ({a.reason or b.reason})")
    if "uv" in tools:
        shutil.rmtree(uv_cache, ignore_errors=True)
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    tool: {n: {"status": v.status, "reason": v.reason} for n, v in vs.items()}
                    for tool, vs in results.items()
                },
                indent=1,
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
