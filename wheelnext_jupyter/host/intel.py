"""Intel GPUs: a PCI scan (cheap), then Level Zero for IP versions when its loader is installed."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from wheelnext_jupyter.host.pci import VENDOR_INTEL, PciFunction, scan_pci
from wheelnext_jupyter.record import Record

# Level Zero (ctypes) is imported only on a host with an Intel display controller.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from wheelnext_jupyter.host.level_zero import LevelZeroApi, LevelZeroDevice


class IntelGpu(Record):
    """One Intel GPU as Level Zero reports it."""

    name: str
    device_id: int
    ip_version: str  # "a.r.v", e.g. "12.55.8"

    def to_json(self) -> dict[str, object]:
        return {"name": self.name, "device_id": f"0x{self.device_id:04x}", "ip": self.ip_version}


class IntelInfo(Record):
    pci_gpus: tuple[PciFunction, ...] = ()
    level_zero: str = "not-queried"  # "not-queried" | "ok" | "unavailable"
    error: str | None = None
    gpus: tuple[IntelGpu, ...] = ()

    def to_json(self) -> dict[str, object]:
        return {
            "pci_gpus": [f.to_json() for f in self.pci_gpus],
            "level_zero": self.level_zero,
            "error": self.error,
            "gpus": [gpu.to_json() for gpu in self.gpus],
        }


def _intel_gpu(device: LevelZeroDevice) -> IntelGpu:
    from wheelnext_jupyter.host.level_zero import format_ip_version

    return IntelGpu(device.name, device.device_id, format_ip_version(device.ip_version))


def detect_intel(
    *,
    root: Path = Path("/"),
    environ: Mapping[str, str] | None = None,
    level_zero: LevelZeroApi | None = None,
) -> IntelInfo:
    """Intel display controllers from sysfs; Level Zero is loaded only when one exists."""
    del environ  # no variable changes detection; kept for the shared detector signature
    pci = tuple(f for f in scan_pci(root, vendor=VENDOR_INTEL) if f.is_display)
    if not pci:
        return IntelInfo()
    from wheelnext_jupyter.host.level_zero import CtypesLevelZero, LevelZeroError

    api = level_zero if level_zero is not None else CtypesLevelZero()
    try:
        devices = api.devices()
    except (LevelZeroError, OSError, AttributeError) as exc:
        # AttributeError: a loader too old to export the entry points we call.
        return IntelInfo(pci_gpus=pci, level_zero="unavailable", error=str(exc))
    gpus = tuple(_intel_gpu(d) for d in devices if d.vendor_id == VENDOR_INTEL)
    return IntelInfo(pci_gpus=pci, level_zero="ok", gpus=gpus)
