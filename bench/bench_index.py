"""Index client cost: project pages + core metadata for 40 packages from a loopback index.

Builds a throw-away index of 40 projects (3 versions each, PEP 658 metadata files; every fifth
project also has variant wheels and a `*-variants.json`), serves it on 127.0.0.1, then measures:

* ours, cold: a fresh client and an empty cache directory — every page and the newest version's
  metadata file of each project fetched (concurrently);
* ours, warm (new process): a new client over the same cache directory (pages within max-age,
  metadata files immutable) — no request should be sent;
* ours, warm (same process): the same client again (in-memory cache);
* pip, cold / warm: `pip install --dry-run --ignore-installed` on the same 40 names against the same
  index with an isolated configuration (PIP_CONFIG_FILE=os.devnull), with an empty then a reused
  `--cache-dir`. pip's figure includes its interpreter start-up and resolution; ours is only the
  fetching, so the ratio is an upper bound of what the index layer costs relative to pip.

Run: .venv/bin/python bench/bench_index.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.support.index_server import IndexServer, IndexTree  # noqa: E402
from wheelnext_jupyter.index.http import HttpClient  # noqa: E402
from wheelnext_jupyter.index.priority import SourceSet  # noqa: E402
from wheelnext_jupyter.index.sources import IndexSource  # noqa: E402

COUNT = 40
VERSIONS = ("1.0", "1.1", "2.0")


def build_index(root: Path) -> list[str]:
    tree = IndexTree(root)
    names = [f"bench-pkg-{i:02d}" for i in range(COUNT)]
    for i, name in enumerate(names):
        for version in VERSIONS:
            tree.add_wheel(name, version, requires_python=">=3.8")
        if i % 5 == 0:
            cuda = {"nvidia": {"cuda_version_lower_bound": ["12.0"]}}
            tree.add_wheel(name, "2.0", label="cu12", variant=cuda)
            tree.add_variants_json(name, "2.0", {"cu12": cuda})
    return names


def ours(
    server: IndexServer, names: list[str], cache: Path, client: HttpClient | None = None
) -> float:
    own = client is None
    http = client or HttpClient(cache_dir=cache)
    start = time.perf_counter()
    sources = SourceSet([IndexSource(server.index_url, http, name="bench")])
    lookups = sources.find_many(names)
    newest = [max(lk.candidates, key=lambda c: c.version) for lk in lookups.values()]
    results = http.get_many(sources.core_metadata, newest)
    elapsed = time.perf_counter() - start
    errors = [r for r in results if isinstance(r, BaseException)]
    if errors:
        raise errors[0]
    if own:
        http.close()
    return elapsed


def pip(server: IndexServer, names: list[str], cache: Path) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env["PIP_CONFIG_FILE"] = os.devnull
    cmd = [
        sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet",
        "--disable-pip-version-check", "--index-url", server.index_url,
        "--cache-dir", str(cache), *names,
    ]  # fmt: skip
    start = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_text:
        tmp = Path(tmp_text)
        names = build_index(tmp / "index")
        figures: dict[str, list[float]] = {}
        requests_warm: list[int] = []
        with IndexServer(tmp / "index") as server:
            for run in range(args.runs):
                cache = tmp / f"ours-{run}"
                figures.setdefault("ours cold", []).append(ours(server, names, cache))
                before = len(server.requests)
                figures.setdefault("ours warm (new process)", []).append(ours(server, names, cache))
                requests_warm.append(len(server.requests) - before)
                with HttpClient(cache_dir=None) as client:
                    ours(server, names, cache, client)
                    figures.setdefault("ours warm (same process)", []).append(
                        ours(server, names, cache, client)
                    )
                pip_cache = tmp / f"pip-{run}"
                figures.setdefault("pip cold", []).append(pip(server, names, pip_cache))
                figures.setdefault("pip warm", []).append(pip(server, names, pip_cache))
                shutil.rmtree(pip_cache, ignore_errors=True)
    median = {label: statistics.median(values) for label, values in figures.items()}
    print(
        f"{COUNT} packages x {len(VERSIONS)} versions, loopback index, median of {args.runs} runs"
    )
    for label, value in median.items():
        print(f"  {label:28s} {value * 1000:9.1f} ms")
    print(f"  requests sent by 'ours warm (new process)': {requests_warm}")
    print(f"  pip cold / ours cold: {median['pip cold'] / median['ours cold']:.1f}x")
    print(f"  pip warm / ours warm (new process): "
          f"{median['pip warm'] / median['ours warm (new process)']:.1f}x")  # fmt: skip


if __name__ == "__main__":
    main()
