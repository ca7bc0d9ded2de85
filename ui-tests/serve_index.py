"""Serve the sidebar tests' loopback variant index on 127.0.0.1 until stopped."""

from __future__ import annotations

import argparse
import signal
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.comm.loopback import build_index
from tests.support.index_server import IndexServer, LoopbackHTTPServer, _Handler


def _stop(signum: int, frame: object) -> None:
    raise SystemExit(0)  # unwinds, so the index directory is removed


def main() -> None:
    signal.signal(signal.SIGTERM, _stop)
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8899)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        index = IndexServer(build_index(Path(directory)))
        # A fixed port, so the browser tests can name the index (the test helper picks a free one).
        handler = type("Handler", (_Handler,), {"index": index})
        httpd = LoopbackHTTPServer(("127.0.0.1", args.port), handler)
        print(f"serving http://127.0.0.1:{args.port}/simple/", flush=True)
        httpd.serve_forever()


if __name__ == "__main__":
    main()
