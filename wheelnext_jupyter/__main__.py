"""`python -m wheelnext_jupyter` is the command line."""

from wheelnext_jupyter.cli import main

raise SystemExit(main())
