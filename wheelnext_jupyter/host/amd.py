"""AMD GPUs from the kernel's KFD topology (microseconds, no ROCm tools run) and ROCm's version file."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

from wheelnext_jupyter.host.pci import VENDOR_AMD, read_text, under
from wheelnext_jupyter.record import Record

KFD_NODES = "/sys/class/kfd/kfd/topology/nodes"
DEFAULT_ROCM_PATH = "/opt/rocm"


class AmdGpu(Record):
    """One KFD GPU node."""

    node: int
    gfx: str
    gfx_target_version: int
    device_id: int | None
    render_node: str | None

    def to_json(self) -> dict[str, object]:
        return {
            "node": self.node,
            "gfx": self.gfx,
            "device_id": f"0x{self.device_id:04x}" if self.device_id is not None else None,
            "render_node": self.render_node,
        }


class AmdInfo(Record):
    gpus: tuple[AmdGpu, ...] = ()
    rocm_version: tuple[int, int, int] | None = None
    rocm_version_file: str | None = None
    kernel_driver_version: str | None = None  # /sys/module/amdgpu/version (not emitted)

    @property
    def gfx_archs(self) -> list[str]:
        """Distinct gfx names, lexically sorted as the `amd` plugin sorts them."""
        return sorted({gpu.gfx for gpu in self.gpus})

    def to_json(self) -> dict[str, object]:
        rocm = self.rocm_version
        return {
            "gpus": [gpu.to_json() for gpu in self.gpus],
            "gfx_archs": self.gfx_archs,
            "rocm_version": ".".join(map(str, rocm)) if rocm else None,
            "rocm_version_file": self.rocm_version_file,
            "kernel_driver_version": self.kernel_driver_version,
        }


def gfx_name(target_version: int) -> str:
    """KFD's major·10000 + minor·100 + stepping as an LLVM target: 90010 → gfx90a."""
    major, rest = divmod(target_version, 10000)
    minor, stepping = divmod(rest, 100)
    return f"gfx{major}{minor:x}{stepping:x}"


def _properties(text: str) -> dict[str, int]:
    props: dict[str, int] = {}
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        if value.strip().lstrip("-").isdigit():
            props[key] = int(value)
    return props


def kfd_gpus(root: Path) -> tuple[AmdGpu, ...]:
    """GPU nodes (SIMDs present, AMD vendor id 4098) of the KFD topology under `root`."""
    base = under(root, KFD_NODES)
    try:
        nodes = sorted((p for p in base.iterdir() if p.name.isdigit()), key=lambda p: int(p.name))
    except OSError:
        return ()
    gpus: list[AmdGpu] = []
    for node in nodes:
        props = _properties(read_text(node / "properties") or "")
        target = props.get("gfx_target_version", 0)
        if props.get("simd_count", 0) <= 0 or target <= 0:
            continue  # CPU node
        if props.get("vendor_id", VENDOR_AMD) != VENDOR_AMD:
            continue
        minor = props.get("drm_render_minor")
        render = f"/dev/dri/renderD{minor}" if minor is not None and minor > 0 else None
        gpus.append(
            AmdGpu(int(node.name), gfx_name(target), target, props.get("device_id"), render)
        )
    return tuple(gpus)


def parse_rocm_version(text: str) -> tuple[int, int, int] | None:
    """`6.3.1-48` → (6, 3, 1); `6.4` → (6, 4, 0), split on dots and dashes as the plugin does."""
    parts = re.split(r"[.-]", text.strip())
    try:
        numbers = [int(part) for part in parts[:3]]
    except ValueError:
        return None
    if len(numbers) < 2:
        return None
    return (numbers[0], numbers[1], numbers[2] if len(numbers) > 2 else 0)


def detect_amd(*, root: Path = Path("/"), environ: Mapping[str, str] | None = None) -> AmdInfo:
    """AMD GPUs and the ROCm version; `ROCM_PATH`, when set, is the only place looked at."""
    env = os.environ if environ is None else environ
    gpus = kfd_gpus(root)
    version_file = f"{env.get('ROCM_PATH') or DEFAULT_ROCM_PATH}/.info/version"
    text = read_text(under(root, version_file))
    rocm = parse_rocm_version(text) if text else None
    kmd = read_text(under(root, "/sys/module/amdgpu/version"))
    return AmdInfo(
        gpus=gpus,
        rocm_version=rocm,
        rocm_version_file=version_file if rocm else None,
        kernel_driver_version=kmd.strip() or None if kmd else None,
    )
