"""Hashing members while unpacking: two at a time with the SHA extensions vs one at a time.

    .venv/bin/python bench/bench_hash.py [--runs N] [--megabytes M]

Unpacks a zip of stored members (so nothing is inflated) with the native unpacker, once with the
processor's SHA extensions (members hashed two at a time, `_sha256.h`) and once through OpenSSL
(one member after the other, as on processors without them), taking turns, into a temporary
directory (on a memory file system where there is one: writing files is part of both). Prints
the median seconds of each and the SHA-256 speed of one message through `hashlib` for reference.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import shutil
import statistics
import sys
import tempfile
import time
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from wheelnext_jupyter.install import staging  # noqa: E402


def stored_zip(megabytes: int) -> tuple[bytes, list[tuple[str, int]]]:
    """Members from 1 KiB to 4 MiB (a wheel's mix of small modules and a few large libraries)."""
    members: list[tuple[str, int]] = []
    total, size = 0, 1024
    while total < megabytes << 20:
        members.append((f"pkg/m{len(members)}.bin", size))
        total += size
        size = size * 2 if size < 4 << 20 else 1024
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as zipped:
        for name, length in members:
            zipped.writestr(name, os.urandom(length))
    return buffer.getvalue(), members


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--megabytes", type=int, default=256)
    args = parser.parse_args()
    native = staging._native
    if native is None:
        raise SystemExit("the native unpacker is not built (see `make venv`)")
    if not native.use_sha_extensions(True):
        raise SystemExit("this processor has no SHA extensions: both ways are the same")
    data, members = stored_zip(args.megabytes)
    with zipfile.ZipFile(io.BytesIO(data)) as zipped:
        infos = zipped.infolist()
    scratch = Path("/dev/shm") if Path("/dev/shm").is_dir() else None
    work = Path(tempfile.mkdtemp(prefix="wheelnext-hash-", dir=scratch))
    seconds: dict[str, list[float]] = {"two at a time": [], "one at a time": []}
    try:
        for run in range(args.runs):
            for label, extensions in (("two at a time", True), ("one at a time", False)):
                native.use_sha_extensions(extensions)
                out = work / f"{run}-{int(extensions)}"
                jobs = [
                    (
                        i.header_offset,
                        i.compress_size,
                        0,
                        i.file_size,
                        os.fsencode(out / i.filename),
                        False,
                        -1,
                    )
                    for i in infos
                ]
                start = time.perf_counter()
                native.unpack(data, jobs, None)
                seconds[label].append(time.perf_counter() - start)
                shutil.rmtree(out)
    finally:
        native.use_sha_extensions(True)
        shutil.rmtree(work, ignore_errors=True)
    size = sum(length for _, length in members)
    print(f"{len(members)} stored members, {size / 1e6:.0f} MB, median of {args.runs} runs:")
    for label, values in seconds.items():
        print(f"  {label:14} {statistics.median(values):6.3f} s")
    block = os.urandom(64 << 20)
    start = time.perf_counter()
    hashlib.sha256(block).digest()
    print(
        f"hashlib sha256, one message: {len(block) / (time.perf_counter() - start) / 1e9:.2f} GB/s"
    )


if __name__ == "__main__":
    main()
