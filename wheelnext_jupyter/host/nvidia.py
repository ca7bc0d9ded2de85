"""NVIDIA GPUs and driver: a cheap presence probe, then NVML (never CUDA itself).

The facts mirror what the `nvidia` provider plugin reads (driver version, CUDA driver version,
compute capabilities), plus names, memory, UUIDs and MIG mode for reports, and which GPUs
`CUDA_VISIBLE_DEVICES` leaves visible to this process (NVML itself ignores that variable).
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from wheelnext_jupyter.host.pci import read_text, under
from wheelnext_jupyter.record import Record, replace

# The NVML layer is imported only once a driver file is found: most hosts have no NVIDIA GPU.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from wheelnext_jupyter.host.nvml import NvmlApi

#: Files whose existence says an NVIDIA driver is installed (checked before touching NVML).
PRESENCE_PATHS = (
    "/proc/driver/nvidia/version",
    "/dev/nvidiactl",
    "/dev/nvidia0",
    "/dev/dxg",  # WSL 2: GPU paravirtualisation; NVML lives in /usr/lib/wsl/lib
)

STATUS_ABSENT = "absent"  # no sign of an NVIDIA driver; NVML was not loaded
STATUS_UNAVAILABLE = "unavailable"  # driver signs, but NVML could not be initialised
STATUS_ERROR = "error"  # NVML started but a call the plugin needs failed
STATUS_OK = "ok"

#: Compiled on first use (through `re`'s cache): only a host with the driver reads this file.
_KERNEL_MODULE_PATTERN = r"Kernel Module(?: for \S+)?\s+(\d+(?:\.\d+)+)"


class NvidiaGpu(Record):
    """One physical GPU as NVML enumerates it (index = NVML index, PCI bus order)."""

    index: int
    name: str | None = None
    uuid: str | None = None
    compute_capability: tuple[int, int] | None = None
    memory_total_bytes: int | None = None
    mig_enabled: bool | None = None
    mig_uuids: tuple[str, ...] = ()

    def to_json(self) -> dict[str, object]:
        cc = self.compute_capability
        return {
            "index": self.index,
            "name": self.name,
            "uuid": self.uuid,
            "compute_capability": f"{cc[0]}.{cc[1]}" if cc else None,
            "memory_total_bytes": self.memory_total_bytes,
            "mig_enabled": self.mig_enabled,
            "mig_devices": list(self.mig_uuids),
        }


class NvidiaInfo(Record):
    """What this machine says about NVIDIA GPUs. Absence and NVML failures are normal answers."""

    status: str = STATUS_ABSENT
    signals: tuple[str, ...] = ()
    error: str | None = None
    error_code: int | None = None
    kernel_module_version: str | None = None  # from /proc/driver/nvidia/version (a hint)
    driver_version: str | None = None  # NVML: kernel-mode driver, e.g. "550.144.03"
    cuda_driver_version: tuple[int, int] | None = None  # NVML: libcuda's CUDA version (UMD)
    cuda_driver_version_raw: int | None = None
    gpus: tuple[NvidiaGpu, ...] = ()
    cuda_visible_devices: str | None = None
    visible_indices: tuple[int, ...] = ()

    @property
    def ok(self) -> bool:
        return self.status == STATUS_OK

    @property
    def visible_gpus(self) -> tuple[NvidiaGpu, ...]:
        by_index = {gpu.index: gpu for gpu in self.gpus}
        return tuple(by_index[i] for i in self.visible_indices if i in by_index)

    def to_json(self) -> dict[str, object]:
        umd = self.cuda_driver_version
        return {
            "status": self.status,
            "signals": list(self.signals),
            "error": self.error,
            "kernel_module_version": self.kernel_module_version,
            "driver_version": self.driver_version,
            "cuda_driver_version": f"{umd[0]}.{umd[1]}" if umd else None,
            "gpus": [gpu.to_json() for gpu in self.gpus],
            "cuda_visible_devices": self.cuda_visible_devices,
            "visible_gpus": list(self.visible_indices),
        }


def decode_cuda_version(value: int) -> tuple[int, int]:
    """NVML's integer CUDA version (e.g. 12080) as (major, minor): 1000·major + 10·minor."""
    return (value // 1000, (value % 1000) // 10)


def _match_uuid(entry: str, gpus: Sequence[NvidiaGpu]) -> int | None:
    """Index of the one GPU whose UUID (or one of whose MIG UUIDs) starts with `entry`."""
    if entry.startswith("MIG-GPU-"):
        # Pre-R470 MIG syntax: MIG-GPU-<gpu uuid>/<gi>/<ci>; the parent GPU is what matters.
        entry = entry[len("MIG-") :].split("/", 1)[0]
    if entry.startswith("MIG-"):
        hits = [gpu.index for gpu in gpus if any(m.startswith(entry) for m in gpu.mig_uuids)]
    else:
        wanted = entry if entry.startswith("GPU-") else f"GPU-{entry}"
        hits = [gpu.index for gpu in gpus if gpu.uuid and gpu.uuid.startswith(wanted)]
    return hits[0] if len(hits) == 1 else None


def visible_gpu_indices(spec: str | None, gpus: Sequence[NvidiaGpu]) -> tuple[int, ...]:
    """The NVML indices of the GPUs CUDA would expose under `CUDA_VISIBLE_DEVICES=spec`.

    Unset ⇒ all. Entries are indices, GPU UUIDs (or unique prefixes, with or without `GPU-`)
    or MIG UUIDs; like CUDA, the first invalid entry ends the list and the empty string hides
    every GPU.
    """
    if spec is None:
        return tuple(gpu.index for gpu in gpus)
    indices: list[int] = []
    for raw in spec.split(","):
        entry = raw.strip()
        index: int | None
        if entry.isdigit():
            index = int(entry) if int(entry) < len(gpus) else None
            if index is not None:
                index = gpus[index].index
        elif entry:
            index = _match_uuid(entry, gpus)
        else:
            index = None
        if index is None:
            break
        if index not in indices:
            indices.append(index)
    return tuple(indices)


def presence_signals(root: Path) -> tuple[str, ...]:
    return tuple(path for path in PRESENCE_PATHS if under(root, path).exists())


def _kernel_module_version(root: Path) -> str | None:
    text = read_text(under(root, "/proc/driver/nvidia/version"))
    match = re.search(_KERNEL_MODULE_PATTERN, text) if text else None
    return match.group(1) if match else None


def _query_gpu(nvml: NvmlApi, index: int) -> NvidiaGpu:
    """One GPU's facts; only the handle is required, every other field may be unknown."""
    from wheelnext_jupyter.host.nvml import NvmlError

    handle = nvml.device_handle(index)
    name = uuid = None
    cc: tuple[int, int] | None = None
    memory: int | None = None
    mig_enabled: bool | None = None
    mig_uuids: tuple[str, ...] = ()
    with contextlib.suppress(NvmlError):
        # The plugin skips a device whose compute capability cannot be read.
        cc = nvml.device_cuda_compute_capability(handle)
    with contextlib.suppress(NvmlError):
        name = nvml.device_name(handle)
    with contextlib.suppress(NvmlError):
        uuid = nvml.device_uuid(handle)
    with contextlib.suppress(NvmlError):
        memory = nvml.device_memory_total(handle)
    with contextlib.suppress(NvmlError):
        mig_enabled = nvml.device_mig_mode(handle)[0] == 1
    if mig_enabled:
        with contextlib.suppress(NvmlError):
            mig_uuids = nvml.device_mig_uuids(handle)
    return NvidiaGpu(index, name, uuid, cc, memory, mig_enabled, mig_uuids)


def detect_nvidia(
    *,
    root: Path = Path("/"),
    environ: Mapping[str, str] | None = None,
    nvml: NvmlApi | None = None,
) -> NvidiaInfo:
    """Detect NVIDIA GPUs under `root`, querying NVML only when a driver is present.

    Follows the `nvidia` plugin's NVML sequence: driver version, CUDA driver version (v2, then
    v1), device count, then per device its handle and compute capability. A failure of any of
    the calls the plugin needs (except compute capability, which skips that device) gives
    status "error"; a missing library or driver gives "unavailable". Never raises.
    """
    env = os.environ if environ is None else environ
    visible_spec = env.get("CUDA_VISIBLE_DEVICES")
    signals = presence_signals(root)
    on_windows = sys.platform == "win32" and root == Path("/")
    if not signals and not on_windows:
        return NvidiaInfo(cuda_visible_devices=visible_spec)
    from wheelnext_jupyter.host.nvml import UNAVAILABLE_CODES, NvmlError, PynvmlApi

    kmod = _kernel_module_version(root)
    api: NvmlApi = nvml if nvml is not None else PynvmlApi()
    base = NvidiaInfo(
        signals=signals, kernel_module_version=kmod, cuda_visible_devices=visible_spec
    )
    try:
        api.init()
    except NvmlError as exc:
        status = STATUS_UNAVAILABLE if exc.code in UNAVAILABLE_CODES else STATUS_ERROR
        return replace(base, status=status, error=str(exc), error_code=exc.code)
    try:
        driver_version = api.system_driver_version()
        raw: int | None = None
        try:
            raw = api.system_cuda_driver_version_v2()
        except NvmlError:
            with contextlib.suppress(NvmlError):
                raw = api.system_cuda_driver_version()
        gpus = tuple(_query_gpu(api, index) for index in range(api.device_count()))
    except NvmlError as exc:
        return replace(base, status=STATUS_ERROR, error=str(exc), error_code=exc.code)
    finally:
        with contextlib.suppress(NvmlError):
            api.shutdown()
    return replace(
        base,
        status=STATUS_OK,
        driver_version=driver_version,
        cuda_driver_version=decode_cuda_version(raw) if raw is not None else None,
        cuda_driver_version_raw=raw,
        gpus=gpus,
        visible_indices=visible_gpu_indices(visible_spec, gpus),
    )
