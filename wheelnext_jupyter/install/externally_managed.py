"""PEP 668: do not install into an environment another package manager owns.

The marker is `EXTERNALLY-MANAGED` in the interpreter's stdlib directory. It does not apply inside
a virtual environment (whose stdlib is the base interpreter's); it does apply to user installs.
"""

from __future__ import annotations

import locale
from pathlib import Path

from wheelnext_jupyter.install.target import TargetEnvironment

MARKER_NAME = "EXTERNALLY-MANAGED"


class ExternallyManagedEnvironment(RuntimeError):
    """The target environment is managed by the system; the message gives the ways out."""

    def __init__(self, target: TargetEnvironment, explanation: str) -> None:
        self.explanation = explanation
        super().__init__(
            f"the environment of {target.python} is externally managed (PEP 668): {explanation}\n"
            "Install into a virtual environment instead (python -m venv .venv, then use its "
            "python as the kernel or pass --python .venv/bin/python), or, if you accept the "
            "risk of breaking system packages, pass --break-system-packages."
        )


def marker_path(target: TargetEnvironment) -> Path | None:
    """The EXTERNALLY-MANAGED file that governs `target`, or None when there is none."""
    if target.is_venv:
        return None
    path = target.stdlib / MARKER_NAME
    return path if path.is_file() else None


def explanation(marker: Path) -> str:
    """The marker's `Error` text (localised `Error-<lang>` if present), or a generic one."""
    import configparser  # only for an environment that has the marker

    parser = configparser.ConfigParser(interpolation=None)
    generic = "the system's package manager owns it"
    try:
        parser.read(marker, encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError):
        return generic
    if not parser.has_section("externally-managed"):
        return generic
    section = parser["externally-managed"]
    lang = (locale.getlocale()[0] or "").strip()
    for key in (f"Error-{lang}", f"Error-{lang.split('_')[0]}", "Error"):
        if lang or key == "Error":
            text = section.get(key)
            if text:
                return text.strip()
    return generic


def check_externally_managed(target: TargetEnvironment, *, break_system_packages: bool) -> None:
    """Raise `ExternallyManagedEnvironment` unless installing into `target` is allowed."""
    if break_system_packages:
        return
    marker = marker_path(target)
    if marker is not None:
        raise ExternallyManagedEnvironment(target, explanation(marker))
