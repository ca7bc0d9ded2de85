"""Builders of recorded host trees (`/proc`, `/sys`, `/dev`) under a temporary root.

Device nodes become empty files: detection only checks that they exist. File contents are
copied from real machines (NVIDIA driver banner, KFD topology properties, PCI ids).
"""

from __future__ import annotations

from pathlib import Path

# /proc/driver/nvidia/version of a proprietary 550 driver and an open-module 570 driver.
NVIDIA_550_VERSION = (
    "NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.54.15  Tue Mar  5 22:23:56 UTC 2024\n"
    "GCC version:  gcc version 12.2.0 (Debian 12.2.0-14)\n"
)
NVIDIA_570_OPEN_VERSION = (
    "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  570.86.15  Release Build"
    "  (dvs-builder@U16-I3-B13-1-1)  Thu Jan 23 20:47:49 UTC 2025\n"
    "GCC version:  gcc version 13.3.0 (Ubuntu 13.3.0-6ubuntu2~24.04)\n"
)


def write(root: Path, path: str, text: str = "") -> Path:
    target = root / path.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    return target


def nvidia_driver(root: Path, *, gpus: int = 1, banner: str = NVIDIA_550_VERSION) -> None:
    """A loaded NVIDIA kernel driver: its /proc banner and device nodes."""
    write(root, "/proc/driver/nvidia/version", banner)
    write(root, "/dev/nvidiactl")
    for index in range(gpus):
        write(root, f"/dev/nvidia{index}")


def pci_function(root: Path, address: str, vendor: int, device: int, pci_class: int) -> None:
    """One `/sys/bus/pci/devices/<address>` entry, in the kernel's `0x%04x` / `0x%06x` format."""
    base = f"/sys/bus/pci/devices/{address}"
    write(root, f"{base}/vendor", f"0x{vendor:04x}\n")
    write(root, f"{base}/device", f"0x{device:04x}\n")
    write(root, f"{base}/class", f"0x{pci_class:06x}\n")


def kfd_node(root: Path, node: int, properties: str) -> None:
    write(root, f"/sys/class/kfd/kfd/topology/nodes/{node}/properties", properties)


def iommu_group(root: Path, group: int, address: str, vendor: int) -> None:
    """`/dev/vfio/<group>` plus the sysfs IOMMU group naming its PCI function's vendor."""
    write(root, f"/dev/vfio/{group}")
    write(root, f"/sys/kernel/iommu_groups/{group}/devices/{address}/vendor", f"0x{vendor:04x}\n")
