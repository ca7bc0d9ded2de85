"""A stand-in for NVML that answers like the real library, from recorded device answers.

The device records below are what NVML reports on real hardware (names, compute capability,
total memory in bytes, CUDA driver version integers); UUIDs follow NVML's format. A test picks
devices, may make any call fail with a real NVML return code, and can check which calls ran.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from wheelnext_jupyter.host.nvml import (
    NVML_ERROR_LIBRARY_NOT_FOUND,
    NVML_ERROR_NOT_FOUND,
    NVML_ERROR_NOT_SUPPORTED,
    NVML_ERROR_UNINITIALIZED,
    NvmlError,
)


@dataclass(frozen=True)
class FakeGpu:
    name: str
    compute_capability: tuple[int, int]
    memory_total: int
    uuid: str
    mig_mode: tuple[int, int] | None = None  # None: GPU without MIG (NVML: not supported)
    mig_uuids: tuple[str, ...] = ()


# Recorded answers of real GPUs (nvmlDeviceGetName / GetCudaComputeCapability / GetMemoryInfo).
TESLA_T4 = FakeGpu("Tesla T4", (7, 5), 16106127360, "GPU-2b6d8f3a-1c4e-4a1b-9d2e-6f0a7c3e5b11")
A100_40GB = FakeGpu(
    "NVIDIA A100-SXM4-40GB", (8, 0), 42949672960, "GPU-5e1c2a9d-7b3f-4d6e-8a0c-1f2e3d4c5b6a"
)
RTX_4090 = FakeGpu(
    "NVIDIA GeForce RTX 4090", (8, 9), 25757220864, "GPU-8932f937-d72c-4106-c12f-20bd9faed9f6"
)
H100_SXM = FakeGpu(
    "NVIDIA H100 80GB HBM3", (9, 0), 85520809984, "GPU-1f4a0b6e-3c2d-5e7f-9a8b-0c1d2e3f4a5b"
)
RTX_5090 = FakeGpu(
    "NVIDIA GeForce RTX 5090", (12, 0), 34190917632, "GPU-0d3c7e21-6a5b-4f98-b7e6-2d1c0b9a8f7e"
)
K80 = FakeGpu("Tesla K80", (3, 7), 12079136768, "GPU-9a8b7c6d-5e4f-3a2b-1c0d-e9f8a7b6c5d4")

# Driver 550.54.15 reports CUDA 12.4; 570.86.15 reports 12.8.
DRIVER_550 = ("550.54.15", 12040)
DRIVER_570 = ("570.86.15", 12080)


@dataclass
class FakeNvml:
    """`NvmlApi` over recorded answers. `failures` maps a method name to an NVML error code."""

    gpus: list[FakeGpu] = field(default_factory=list)
    driver: tuple[str, int] = DRIVER_550
    library_present: bool = True
    failures: dict[str, int] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    initialised: bool = False

    def _enter(self, name: str) -> None:
        self.calls.append(name)
        if name in self.failures:
            raise NvmlError(self.failures[name])
        if name not in ("init", "shutdown") and not self.initialised:
            raise NvmlError(NVML_ERROR_UNINITIALIZED)

    def _gpu(self, handle: object) -> FakeGpu:
        assert isinstance(handle, int), "handles come from device_handle()"
        return self.gpus[handle]

    def init(self) -> None:
        if not self.library_present:
            self.calls.append("init")
            raise NvmlError(NVML_ERROR_LIBRARY_NOT_FOUND)
        self._enter("init")
        self.initialised = True

    def shutdown(self) -> None:
        self._enter("shutdown")
        self.initialised = False

    def system_driver_version(self) -> str:
        self._enter("system_driver_version")
        return self.driver[0]

    def system_cuda_driver_version_v2(self) -> int:
        self._enter("system_cuda_driver_version_v2")
        return self.driver[1]

    def system_cuda_driver_version(self) -> int:
        self._enter("system_cuda_driver_version")
        return self.driver[1]

    def device_count(self) -> int:
        self._enter("device_count")
        return len(self.gpus)

    def device_handle(self, index: int) -> object:
        self._enter("device_handle")
        if not 0 <= index < len(self.gpus):
            raise NvmlError(NVML_ERROR_NOT_FOUND)
        return index

    def device_name(self, handle: object) -> str:
        self._enter("device_name")
        return self._gpu(handle).name

    def device_uuid(self, handle: object) -> str:
        self._enter("device_uuid")
        return self._gpu(handle).uuid

    def device_cuda_compute_capability(self, handle: object) -> tuple[int, int]:
        self._enter("device_cuda_compute_capability")
        return self._gpu(handle).compute_capability

    def device_memory_total(self, handle: object) -> int:
        self._enter("device_memory_total")
        return self._gpu(handle).memory_total

    def device_mig_mode(self, handle: object) -> tuple[int, int]:
        self._enter("device_mig_mode")
        mode = self._gpu(handle).mig_mode
        if mode is None:
            raise NvmlError(NVML_ERROR_NOT_SUPPORTED)
        return mode

    def device_mig_uuids(self, handle: object) -> tuple[str, ...]:
        self._enter("device_mig_uuids")
        return self._gpu(handle).mig_uuids
