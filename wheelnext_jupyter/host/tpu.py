"""Google Cloud TPUs: PCI functions of vendor 0x1ae0 with known TPU device ids decide.

`/dev/accel*` and `/dev/vfio/<N>` are supporting evidence only: NVIDIA drivers from 570 create
`/dev/accel/accel0`, and any device bound to vfio-pci (e.g. a BlueField NIC) makes a VFIO group.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

from wheelnext_jupyter.host.pci import VENDOR_GOOGLE, read_hex, scan_pci, under
from wheelnext_jupyter.record import Record, field

#: PCI device id → generation; 0x0027 is shared by v2 and v3.
TPU_DEVICE_IDS: dict[int, str | None] = {
    0x0027: None,  # v2 or v3
    0x0056: None,  # unnamed generation
    0x005E: "v4",
    0x0062: "v5p",
    0x0063: "v5e",
    0x006F: "v6e",
    0x0076: "tpu7x",
}
GENERATIONS = ("tpu7x", "v6e", "v5p", "v5e", "v4", "v3", "v2")

#: The TPU variables copied into facts: none of them carries a secret.
TPU_ENV_ALLOWLIST = (
    "TPU_ACCELERATOR_TYPE",
    "TPU_NAME",
    "TPU_WORKER_ID",
    "TPU_WORKER_HOSTNAMES",
    "TPU_CHIPS_PER_HOST_BOUNDS",
    "TPU_HOST_BOUNDS",
    "TPU_SKIP_MDS_QUERY",
    "TPU_VISIBLE_CHIPS",
    "PJRT_DEVICE",
    "COLAB_TPU_1VM",
)

#: Compiled on first use (through `re`'s cache): most hosts never set TPU_ACCELERATOR_TYPE.
_ACCELERATOR_TYPE_PATTERN = r"^(v\d+[a-z]*|tpu\d+[a-z]*)-\d+$"


def generation_from_accelerator_type(value: str) -> str | None:
    """`v5litepod-16` → v5e, `v4-8` → v4, `tpu7x-8` → tpu7x; None when not a TPU type."""
    text = value.strip().lower()
    if not text:
        return None
    match = re.match(_ACCELERATOR_TYPE_PATTERN, text)
    if not match:
        return None
    prefix = match.group(1)
    if prefix in ("v5litepod", "v5lite", "v5e"):
        return "v5e"
    return prefix if prefix in GENERATIONS else None


class TpuInfo(Record):
    present: bool = False
    generation: str | None = None
    generation_source: str | None = None  # "pci" | "env"
    chips: int = 0
    device_ids: tuple[str, ...] = ()
    accel_devices: tuple[str, ...] = ()
    vfio_groups: tuple[str, ...] = ()
    environment: Mapping[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def to_json(self) -> dict[str, object]:
        return {
            "present": self.present,
            "generation": self.generation,
            "generation_source": self.generation_source,
            "chips": self.chips,
            "device_ids": list(self.device_ids),
            "accel_devices": list(self.accel_devices),
            "vfio_groups": list(self.vfio_groups),
            "environment": dict(self.environment),
            "notes": list(self.notes),
        }


def _is_accel_name(name: str) -> bool:
    """`accel<digits>`, as the pattern `^accel\\d+$` matches it (a final newline allowed)."""
    number = name.removeprefix("accel").removesuffix("\n")
    return name.startswith("accel") and number.isdecimal()


def _accel_devices(root: Path) -> tuple[str, ...]:
    """`/dev/accelN` files of TPU v2–v4 (not the `/dev/accel/` directory NVIDIA creates)."""
    try:
        names = sorted(p.name for p in under(root, "/dev").iterdir() if _is_accel_name(p.name))
    except OSError:
        return ()
    return tuple(f"/dev/{name}" for name in names)


def _google_vfio_groups(root: Path) -> tuple[str, ...]:
    """`/dev/vfio/<N>` groups whose IOMMU group holds a Google PCI function."""
    try:
        groups = sorted(
            (p.name for p in under(root, "/dev/vfio").iterdir() if p.name.isdigit()), key=int
        )
    except OSError:
        return ()
    found: list[str] = []
    for group in groups:
        devices = under(root, f"/sys/kernel/iommu_groups/{group}/devices")
        try:
            vendors = {read_hex(d / "vendor") for d in devices.iterdir()}
        except OSError:
            continue
        if VENDOR_GOOGLE in vendors:
            found.append(f"/dev/vfio/{group}")
    return tuple(found)


def detect_tpu(*, root: Path = Path("/"), environ: Mapping[str, str] | None = None) -> TpuInfo:
    """TPU chips on this host, their generation and the TPU runtime's environment."""
    env = os.environ if environ is None else environ
    facts = {name: env[name] for name in TPU_ENV_ALLOWLIST if name in env}
    chips = [f for f in scan_pci(root, vendor=VENDOR_GOOGLE) if f.device in TPU_DEVICE_IDS]
    accel = _accel_devices(root)
    vfio = _google_vfio_groups(root)
    from_env = generation_from_accelerator_type(env.get("TPU_ACCELERATOR_TYPE", ""))
    notes: list[str] = []
    if not chips:
        if accel and not under(root, "/sys/bus/pci/devices").is_dir() and from_env:
            # No sysfs view of PCI (some sandboxes): trust the runtime's own variable.
            return TpuInfo(True, from_env, "env", len(accel), (), accel, vfio, facts)
        if accel or under(root, "/dev/accel").is_dir():
            notes.append("accel device nodes without a Google TPU PCI device: not a TPU")
        return TpuInfo(accel_devices=accel, vfio_groups=vfio, environment=facts, notes=tuple(notes))
    generations = {TPU_DEVICE_IDS[f.device] for f in chips}
    generation: str | None = None
    source: str | None = None
    if len(generations) == 1 and None not in generations:
        generation, source = generations.pop(), "pci"
    elif {f.device for f in chips} == {0x0027} and from_env in ("v2", "v3"):
        generation, source = from_env, "env"
    else:
        notes.append("TPU generation not known from the PCI ids: set TPU_ACCELERATOR_TYPE")
    return TpuInfo(
        present=True,
        generation=generation,
        generation_source=source,
        chips=len(chips),
        device_ids=tuple(f"0x{f.device:04x}" for f in chips),
        accel_devices=accel,
        vfio_groups=vfio,
        environment=facts,
        notes=tuple(notes),
    )
