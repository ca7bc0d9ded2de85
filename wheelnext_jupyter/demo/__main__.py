"""`python -m wheelnext_jupyter.demo`: the same as `wheelnext-jupyter demo`."""

from __future__ import annotations

import argparse
import sys

from wheelnext_jupyter.demo.command import add_demo_arguments, run_demo


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="wheelnext-jupyter demo",
        description="Build and serve the demo index, then open JupyterLab on the demo notebook.",
    )
    add_demo_arguments(parser)
    return run_demo(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
