"""PCI functions as Linux exposes them in sysfs: the cheap presence probe for accelerators."""

from __future__ import annotations

from pathlib import Path

from wheelnext_jupyter.record import Record

#: PCI vendor ids of the accelerator makers we look for.
VENDOR_NVIDIA = 0x10DE
VENDOR_AMD = 0x1002
VENDOR_INTEL = 0x8086
VENDOR_GOOGLE = 0x1AE0


class PciFunction(Record):
    """One PCI function (`/sys/bus/pci/devices/<address>`)."""

    address: str
    vendor: int
    device: int
    pci_class: int

    @property
    def is_display(self) -> bool:
        """Display controllers (VGA, 3D, other) have base class 0x03."""
        return (self.pci_class >> 16) == 0x03

    def to_json(self) -> dict[str, object]:
        return {
            "address": self.address,
            "vendor": f"0x{self.vendor:04x}",
            "device": f"0x{self.device:04x}",
            "class": f"0x{self.pci_class:06x}",
        }


def under(root: Path, path: str) -> Path:
    """`path` (absolute, as on the real machine) inside the tree rooted at `root`."""
    return root / path.lstrip("/")


def read_text(path: Path) -> str | None:
    """The file's text, or None when it is absent or unreadable (absence is a normal answer)."""
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except (OSError, ValueError):
        return None


def read_hex(path: Path) -> int | None:
    text = read_text(path)
    if text is None:
        return None
    try:
        return int(text.strip(), 16)
    except ValueError:
        return None


def scan_pci(root: Path = Path("/"), *, vendor: int | None = None) -> tuple[PciFunction, ...]:
    """Every PCI function under `root`'s sysfs (optionally of one vendor), sorted by address."""
    base = under(root, "/sys/bus/pci/devices")
    try:
        entries = sorted(base.iterdir(), key=lambda p: p.name)
    except OSError:
        return ()
    found: list[PciFunction] = []
    for entry in entries:
        found_vendor = read_hex(entry / "vendor")
        if found_vendor is None or (vendor is not None and found_vendor != vendor):
            continue
        device = read_hex(entry / "device")
        pci_class = read_hex(entry / "class")
        if device is None or pci_class is None:
            continue
        found.append(PciFunction(entry.name, found_vendor, device, pci_class))
    return tuple(found)
