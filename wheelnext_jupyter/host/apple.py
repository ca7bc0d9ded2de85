"""Apple silicon facts (Darwin on arm64, or x86-64 Python under Rosetta). Facts only: Metal has
no variant namespace yet."""

from __future__ import annotations

import platform as _platform
from collections.abc import Callable

from wheelnext_jupyter.host.sysctl import sysctl_int, sysctl_string
from wheelnext_jupyter.record import Record

#: sysctls whose value is a C integer rather than a string.
INTEGER_SYSCTL_PREFIXES = ("hw.optional.", "sysctl.proc_translated")

Sysctl = Callable[[str], "str | int | None"]


class AppleInfo(Record):
    apple_silicon: bool = False
    rosetta: bool = False  # an x86-64 process translated on Apple silicon
    brand: str | None = None  # machdep.cpu.brand_string, e.g. "Apple M2 Pro"

    def to_json(self) -> dict[str, object]:
        return {"apple_silicon": self.apple_silicon, "rosetta": self.rosetta, "brand": self.brand}


def darwin_sysctl(name: str) -> str | int | None:
    """One sysctl value through libc (None off macOS or when the name is unknown)."""
    if name.startswith(INTEGER_SYSCTL_PREFIXES):
        return sysctl_int(name)
    return sysctl_string(name)


def detect_apple(
    *,
    system: str | None = None,
    machine: str | None = None,
    sysctl: Sysctl | None = None,
) -> AppleInfo:
    """Apple silicon when Darwin runs on arm64 or reports `sysctl.proc_translated` = 1."""
    if (system or _platform.system()) != "Darwin":
        return AppleInfo()
    read = sysctl or darwin_sysctl
    arch = machine or _platform.machine()
    rosetta = arch == "x86_64" and read("sysctl.proc_translated") == 1
    if arch != "arm64" and not rosetta:
        return AppleInfo()
    brand = read("machdep.cpu.brand_string")
    return AppleInfo(True, rosetta, brand if isinstance(brand, str) else None)
