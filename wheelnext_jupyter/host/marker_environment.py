"""This interpreter's PEP 508 marker environment and `uname` facts, without importing `platform`.

`packaging.markers.default_environment()` answers the same, but importing packaging's marker
parser costs more than the rest of detection together, and `platform` alone costs several
milliseconds in a fresh interpreter. On CPython under Linux or macOS every value is a plain
`os.uname()` field or a piece of `sys.version`, read here exactly as `platform` reads them; any
other interpreter or system is answered by `platform` itself.
"""

from __future__ import annotations

import os
import re
import sys

#: Interpreters and systems where `platform.uname()` is `os.uname()` with "unknown" blanked and
#: `platform.python_version()` is the first word of `sys.version`.
_FAST_PLATFORMS = ("linux", "darwin")

#: CPython's `sys.version`: "3.11.7 (main, Dec  4 2023, 18:10:11) [GCC 11.4.0]". `platform` takes
#: the leading run of word characters, dots and plus signs before the parenthesis as the version.
_CPYTHON_VERSION = re.compile(r"([\w.+]+)\s*\(.*\)\s*\[", re.ASCII | re.DOTALL)


def uname() -> tuple[str, str, str, str]:
    """`(system, release, version, machine)` as `platform.system()`, `.release()`, `.version()`
    and `.machine()` return them."""
    if sys.platform in _FAST_PLATFORMS and hasattr(os, "uname"):
        fields = os.uname()
        if any(fields):
            # platform reports "unknown" as the empty string.
            system, release, version, machine = (
                "" if value == "unknown" else value
                for value in (fields.sysname, fields.release, fields.version, fields.machine)
            )
            return system, release, version, machine
    import platform

    return platform.system(), platform.release(), platform.version(), platform.machine()


def python_version() -> tuple[str, str]:
    """`(platform.python_version(), platform.python_implementation())`."""
    text = sys.version
    if sys.implementation.name == "cpython" and "IronPython" not in text and "PyPy" not in text:
        found = _CPYTHON_VERSION.match(text)
        if found is not None:
            parts = found.group(1).split(".")
            if len(parts) == 2:  # platform pads "3.14" to "3.14.0"
                parts.append("0")
            return ".".join(parts), "CPython"
    import platform

    return platform.python_version(), platform.python_implementation()


def _full_version(info: object) -> str:
    major, minor, micro = (getattr(info, name) for name in ("major", "minor", "micro"))
    version = f"{major}.{minor}.{micro}"
    kind = str(getattr(info, "releaselevel", "final"))
    if kind != "final":
        version += kind[0] + str(getattr(info, "serial", 0))
    return version


def marker_environment() -> dict[str, str]:
    """The PEP 508 environment: the same keys and values as packaging's `default_environment()`."""
    system, release, version, machine = uname()
    full_version, implementation = python_version()
    return {
        "implementation_name": sys.implementation.name,
        "implementation_version": _full_version(sys.implementation.version),
        "os_name": os.name,
        "platform_machine": machine,
        "platform_release": release,
        "platform_system": system,
        "platform_version": version,
        "python_full_version": full_version,
        "platform_python_implementation": implementation,
        "python_version": ".".join(full_version.split(".")[:2]),
        "sys_platform": sys.platform,
    }
