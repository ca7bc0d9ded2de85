"""`python -m wheelnext_jupyter` is the command line."""

from wheelnext_jupyter.launch import main

raise SystemExit(main())
