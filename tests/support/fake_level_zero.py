"""A stand-in for the Level Zero loader, answering with recorded device properties."""

from __future__ import annotations

from dataclasses import dataclass, field

from wheelnext_jupyter.host.level_zero import LevelZeroDevice, LevelZeroError


def gmdid(architecture: int, release: int, revision: int) -> int:
    """The IP version integer the driver reports (bits 22–31, 14–21, 0–5)."""
    return (architecture << 22) | (release << 14) | revision


# zeDeviceGetProperties answers of real devices (vendor, PCI device id, name, IP version).
ARC_A770 = LevelZeroDevice(0x8086, 0x56A0, "Intel(R) Arc(TM) A770 Graphics", gmdid(12, 55, 8))
ARC_A380 = LevelZeroDevice(0x8086, 0x56A5, "Intel(R) Arc(TM) A380 Graphics", gmdid(12, 56, 5))
UHD_770 = LevelZeroDevice(0x8086, 0xA780, "Intel(R) UHD Graphics 770", gmdid(12, 2, 0))


@dataclass
class FakeLevelZero:
    answers: tuple[LevelZeroDevice, ...] = ()
    missing: bool = False
    calls: list[str] = field(default_factory=list)

    def devices(self) -> tuple[LevelZeroDevice, ...]:
        self.calls.append("devices")
        if self.missing:
            raise LevelZeroError("libze_loader.so.1 not found")
        return self.answers
