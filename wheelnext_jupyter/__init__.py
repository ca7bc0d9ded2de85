"""wheelnext-jupyter: install the build of a package that fits the hardware the kernel runs on.

Public API: `detect()` (the machine's hardware and supported variant properties; see
`wheelnext_jupyter.detection`).
"""

from __future__ import annotations

# `typing` costs milliseconds at start-up; mypy treats this name as the real constant.
TYPE_CHECKING = False

__version__ = "0.1.0"

__all__ = ["__version__", "detect"]

if TYPE_CHECKING:
    from wheelnext_jupyter.detection import detect


def __getattr__(name: str) -> object:
    # Imported on first use so that `import wheelnext_jupyter` stays cheap in a kernel.
    if name == "detect":
        from wheelnext_jupyter.detection import detect

        return detect
    raise AttributeError(f"module 'wheelnext_jupyter' has no attribute {name!r}")
