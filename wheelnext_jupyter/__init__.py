"""wheelnext-jupyter: install the build of a package that fits the hardware the kernel runs on."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
