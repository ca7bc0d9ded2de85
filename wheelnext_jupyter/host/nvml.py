"""The few NVML calls NVIDIA detection needs, behind a small interface that tests can replace.

The real implementation wraps nvidia-ml-py (`pynvml`), imported only when NVML is actually
queried, so hosts without an NVIDIA driver never pay its import (about 30 ms).
NVML reads driver state only; unlike `cuInit` it creates no CUDA context in the kernel process.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from types import ModuleType

# NVML return codes (nvml.h) that detection tells apart.
NVML_ERROR_UNINITIALIZED = 1
NVML_ERROR_NOT_SUPPORTED = 3
NVML_ERROR_NO_PERMISSION = 4
NVML_ERROR_NOT_FOUND = 6
NVML_ERROR_DRIVER_NOT_LOADED = 9
NVML_ERROR_LIBRARY_NOT_FOUND = 12
NVML_ERROR_FUNCTION_NOT_FOUND = 13
NVML_ERROR_GPU_IS_LOST = 15
NVML_ERROR_LIB_RM_VERSION_MISMATCH = 18
NVML_ERROR_UNKNOWN = 999

#: NVML codes meaning "no usable driver here" rather than a fault while querying.
UNAVAILABLE_CODES = frozenset(
    {
        NVML_ERROR_LIBRARY_NOT_FOUND,
        NVML_ERROR_DRIVER_NOT_LOADED,
        NVML_ERROR_NO_PERMISSION,
        NVML_ERROR_LIB_RM_VERSION_MISMATCH,
    }
)

_EXPLANATIONS = {
    NVML_ERROR_UNINITIALIZED: "NVML was not initialised",
    NVML_ERROR_NOT_SUPPORTED: "not supported by this GPU or driver",
    NVML_ERROR_NO_PERMISSION: "no permission to query the GPU (device nodes not accessible)",
    NVML_ERROR_NOT_FOUND: "not found",
    NVML_ERROR_DRIVER_NOT_LOADED: "the NVIDIA kernel driver is not loaded",
    NVML_ERROR_LIBRARY_NOT_FOUND: (
        "libnvidia-ml.so.1 was not found (in containers, run with the NVIDIA container toolkit)"
    ),
    NVML_ERROR_FUNCTION_NOT_FOUND: "the driver is too old for this NVML function",
    NVML_ERROR_LIB_RM_VERSION_MISMATCH: (
        "the NVML library and the loaded kernel driver have different versions"
        " (reboot or reload the driver after an upgrade)"
    ),
}


class NvmlError(Exception):
    """An NVML call failed; `code` is NVML's return code."""

    def __init__(self, code: int, detail: str | None = None) -> None:
        self.code = code
        text = detail or _EXPLANATIONS.get(code, "NVML error")
        super().__init__(f"NVML error {code}: {text}")


class NvmlApi(Protocol):
    """The NVML calls used by detection; every method raises `NvmlError` on failure.

    Device handles are opaque: whatever `device_handle` returns is passed back unchanged.
    """

    def init(self) -> None: ...

    def shutdown(self) -> None: ...

    def system_driver_version(self) -> str: ...

    def system_cuda_driver_version_v2(self) -> int: ...

    def system_cuda_driver_version(self) -> int: ...

    def device_count(self) -> int: ...

    def device_handle(self, index: int) -> object: ...

    def device_name(self, handle: object) -> str: ...

    def device_uuid(self, handle: object) -> str: ...

    def device_cuda_compute_capability(self, handle: object) -> tuple[int, int]: ...

    def device_memory_total(self, handle: object) -> int: ...

    def device_mig_mode(self, handle: object) -> tuple[int, int]: ...

    def device_mig_uuids(self, handle: object) -> tuple[str, ...]: ...


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class PynvmlApi:
    """`NvmlApi` over nvidia-ml-py; the module is imported on the first `init()`."""

    def __init__(self) -> None:
        self._module: ModuleType | None = None

    def _nvml(self) -> Any:
        if self._module is None:
            try:
                import pynvml
            except ImportError as exc:
                raise NvmlError(
                    NVML_ERROR_LIBRARY_NOT_FOUND,
                    "the nvidia-ml-py package (module pynvml) is not installed",
                ) from exc
            self._module = pynvml
        return self._module

    def _call(self, name: str, *args: object) -> Any:
        nvml = self._nvml()
        try:
            return getattr(nvml, name)(*args)
        except nvml.NVMLError as exc:
            raise NvmlError(int(getattr(exc, "value", NVML_ERROR_UNKNOWN))) from exc

    def init(self) -> None:
        self._call("nvmlInit")

    def shutdown(self) -> None:
        self._call("nvmlShutdown")

    def system_driver_version(self) -> str:
        return _text(self._call("nvmlSystemGetDriverVersion"))

    def system_cuda_driver_version_v2(self) -> int:
        return int(self._call("nvmlSystemGetCudaDriverVersion_v2"))

    def system_cuda_driver_version(self) -> int:
        return int(self._call("nvmlSystemGetCudaDriverVersion"))

    def device_count(self) -> int:
        return int(self._call("nvmlDeviceGetCount"))

    def device_handle(self, index: int) -> object:
        return self._call("nvmlDeviceGetHandleByIndex", index)

    def device_name(self, handle: object) -> str:
        return _text(self._call("nvmlDeviceGetName", handle))

    def device_uuid(self, handle: object) -> str:
        return _text(self._call("nvmlDeviceGetUUID", handle))

    def device_cuda_compute_capability(self, handle: object) -> tuple[int, int]:
        major, minor = self._call("nvmlDeviceGetCudaComputeCapability", handle)
        return (int(major), int(minor))

    def device_memory_total(self, handle: object) -> int:
        return int(self._call("nvmlDeviceGetMemoryInfo", handle).total)

    def device_mig_mode(self, handle: object) -> tuple[int, int]:
        current, pending = self._call("nvmlDeviceGetMigMode", handle)
        return (int(current), int(pending))

    def device_mig_uuids(self, handle: object) -> tuple[str, ...]:
        uuids: list[str] = []
        for slot in range(int(self._call("nvmlDeviceGetMaxMigDeviceCount", handle))):
            try:
                mig = self._call("nvmlDeviceGetMigDeviceHandleByIndex", handle, slot)
            except NvmlError as exc:
                if exc.code == NVML_ERROR_NOT_FOUND:  # empty slot
                    continue
                raise
            uuids.append(self.device_uuid(mig))
        return tuple(uuids)
