"""wheelnext-jupyter: install the build of a package that fits the hardware the kernel runs on.

Public API: `detect()` (the machine's hardware and supported variant properties; see
`wheelnext_jupyter.detection`), `panel()` (the ipywidgets install panel) and the IPython
extension (`%load_ext wheelnext_jupyter`: `%wninstall`, `%wndetect`, `%wnexplain`). Importing the
package inside IPython registers the magics too.
"""

from __future__ import annotations

import sys

# `typing` costs milliseconds at start-up; mypy treats this name as the real constant.
TYPE_CHECKING = False

try:
    # Written at build time from package.json, the one place the version is kept.
    from wheelnext_jupyter._version import __version__
except ImportError:  # pragma: no cover - a source tree that was never built
    __version__ = "0+unknown"

__all__ = [
    "__version__",
    "detect",
    "load_ipython_extension",
    "panel",
    "unload_ipython_extension",
]

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell

    from wheelnext_jupyter.detection import detect
    from wheelnext_jupyter.widgets import panel


def __getattr__(name: str) -> object:
    # Imported on first use so that `import wheelnext_jupyter` stays cheap in a kernel.
    if name == "detect":
        from wheelnext_jupyter.detection import detect

        return detect
    if name == "panel":
        from wheelnext_jupyter.widgets import panel

        return panel
    raise AttributeError(f"module 'wheelnext_jupyter' has no attribute {name!r}")


def load_ipython_extension(ipython: InteractiveShell) -> None:
    """`%load_ext wheelnext_jupyter`: register `%wninstall`, `%wndetect` and `%wnexplain`, and
    the comm target the JupyterLab sidebar opens."""
    from wheelnext_jupyter import trust_store
    from wheelnext_jupyter.comm import register_target
    from wheelnext_jupyter.magics import register

    register(ipython)
    register_target()
    # Most installs from a notebook ask an https index: its trust store loads meanwhile.
    trust_store.load_ahead()


def unload_ipython_extension(ipython: InteractiveShell) -> None:
    from wheelnext_jupyter.magics import unregister

    unregister(ipython)


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    """Where JupyterLab finds the prebuilt sidebar (`jupyter labextension develop`)."""
    return [{"src": "labextension", "dest": "wheelnext-jupyter"}]


def _register_in_running_shell() -> None:
    # IPython has no entry points for magics: inside a kernel, `import wheelnext_jupyter` is
    # enough (as with ipywidgets). Only when IPython is already loaded, so the import stays cheap.
    ipython = sys.modules.get("IPython")
    get_ipython = getattr(ipython, "get_ipython", None)
    shell = get_ipython() if callable(get_ipython) else None
    if shell is not None and hasattr(shell, "magics_manager"):
        load_ipython_extension(shell)


_register_in_running_shell()
