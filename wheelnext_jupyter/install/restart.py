"""Does the running interpreter need a restart after an install?

Python keeps imported modules: after an upgrade, code already imported stays the old version until
the kernel restarts. A changed distribution needs a restart when one of its import names (old or
new) is in `sys.modules`; a newly added one does not, once the import caches are invalidated.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterable, Mapping
from types import ModuleType

from wheelnext_jupyter.install.transaction import InstallOutcome
from wheelnext_jupyter.install.uninstall import InstalledRecord, top_level_modules
from wheelnext_jupyter.record import Record


class RestartNeed(Record):
    """A changed distribution whose code this interpreter has already imported."""

    name: str
    #: The imported top-level modules that belong to it, sorted.
    modules: tuple[str, ...]


def restart_required(
    outcome: InstallOutcome,
    modules: Mapping[str, ModuleType | None] | None = None,
    *,
    shadowing: Iterable[str] = (),
) -> tuple[RestartNeed, ...]:
    """Invalidate import caches and list the changed distributions already imported.

    `modules` defaults to this interpreter's `sys.modules`; only meaningful when the install went
    into the environment of this interpreter. `shadowing` names installed distributions that
    took the place of one left where it was (a user-site install over the system's): changed
    as much as one that replaced its old files.
    """
    importlib.invalidate_caches()
    loaded = sys.modules if modules is None else modules
    names: dict[str, set[str]] = {}
    for removed in outcome.removed:
        names.setdefault(removed.name, set()).update(removed.top_level)
    for name in shadowing:
        names.setdefault(name, set())
    for installed in outcome.installed:
        record = InstalledRecord(
            installed.name, installed.name, str(installed.version), installed.dist_info
        )
        if installed.name in names:
            names[installed.name].update(top_level_modules(record))
    needs = [
        RestartNeed(name, tuple(sorted(_imported(top_level, loaded))))
        for name, top_level in sorted(names.items())
    ]
    return tuple(need for need in needs if need.modules)


def _imported(top_level: Iterable[str], loaded: Mapping[str, object]) -> set[str]:
    return {name for name in top_level if name in loaded}
