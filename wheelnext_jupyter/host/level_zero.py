"""Intel GPU IP versions through the Level Zero loader, via ctypes (loaded only when asked).

The IP version (GMDID) identifies the GPU architecture exactly; it is what the `intel` provider
plugin reads. The loader is optional: without it Intel detection reports PCI facts only.
"""

from __future__ import annotations

import ctypes
import sys
from dataclasses import dataclass
from typing import Any, Protocol

ZE_RESULT_SUCCESS = 0
ZE_INIT_FLAG_GPU_ONLY = 1
ZE_INIT_DRIVER_TYPE_FLAG_GPU = 1
ZE_STRUCTURE_TYPE_DEVICE_PROPERTIES = 0x3
ZE_STRUCTURE_TYPE_INIT_DRIVER_TYPE_DESC = 0x00020021
ZE_STRUCTURE_TYPE_DEVICE_IP_VERSION_EXT = 0x1000F


class LevelZeroError(Exception):
    """The loader is missing or a Level Zero call failed."""


@dataclass(frozen=True)
class LevelZeroDevice:
    vendor_id: int
    device_id: int
    name: str
    ip_version: int


class LevelZeroApi(Protocol):
    def devices(self) -> tuple[LevelZeroDevice, ...]:
        """Every GPU device of every driver, in enumeration order; raises LevelZeroError."""
        ...


def format_ip_version(value: int) -> str:
    """GMDID bits 22–31 architecture, 14–21 release, 0–5 revision, as `a.r.v`."""
    return f"{value >> 22}.{(value >> 14) & 0xFF}.{value & 0x3F}"


class _InitDriverTypeDesc(ctypes.Structure):
    _fields_ = (("stype", ctypes.c_uint32), ("pNext", ctypes.c_void_p), ("flags", ctypes.c_uint32))


class _IpVersionExt(ctypes.Structure):
    _fields_ = (
        ("stype", ctypes.c_uint32),
        ("pNext", ctypes.c_void_p),
        ("ipVersion", ctypes.c_uint32),
    )


class _DeviceProperties(ctypes.Structure):
    # ze_device_properties_t (Level Zero 1.x), field for field.
    _fields_ = (
        ("stype", ctypes.c_uint32),
        ("pNext", ctypes.c_void_p),
        ("type", ctypes.c_uint32),
        ("vendorId", ctypes.c_uint32),
        ("deviceId", ctypes.c_uint32),
        ("flags", ctypes.c_uint32),
        ("subdeviceId", ctypes.c_uint32),
        ("coreClockRate", ctypes.c_uint32),
        ("maxMemAllocSize", ctypes.c_uint64),
        ("maxHardwareContexts", ctypes.c_uint32),
        ("maxCommandQueuePriority", ctypes.c_uint32),
        ("numThreadsPerEU", ctypes.c_uint32),
        ("physicalEUSimdWidth", ctypes.c_uint32),
        ("numEUsPerSubslice", ctypes.c_uint32),
        ("numSubslicesPerSlice", ctypes.c_uint32),
        ("numSlices", ctypes.c_uint32),
        ("timerResolution", ctypes.c_uint64),
        ("timestampValidBits", ctypes.c_uint32),
        ("kernelTimestampValidBits", ctypes.c_uint32),
        ("uuid", ctypes.c_uint8 * 16),
        ("name", ctypes.c_char * 256),
    )


def _check(result: int, call: str) -> None:
    if result != ZE_RESULT_SUCCESS:
        raise LevelZeroError(f"Level Zero {call} failed with 0x{result & 0xFFFFFFFF:x}")


class CtypesLevelZero:
    """`LevelZeroApi` over the system's Level Zero loader."""

    def __init__(self, library: str | None = None) -> None:
        self._library = library or (
            "ze_loader.dll" if sys.platform == "win32" else "libze_loader.so.1"
        )

    def _load(self) -> Any:
        try:
            return ctypes.CDLL(self._library)
        except OSError as exc:
            raise LevelZeroError(
                f"{self._library} not found (install Intel's GPU runtime, level-zero)"
            ) from exc

    def _drivers(self, lib: Any) -> list[ctypes.c_void_p]:
        count = ctypes.c_uint32(0)
        if hasattr(lib, "zeInitDrivers"):  # Level Zero 1.10 and later
            desc = _InitDriverTypeDesc(
                ZE_STRUCTURE_TYPE_INIT_DRIVER_TYPE_DESC, None, ZE_INIT_DRIVER_TYPE_FLAG_GPU
            )
            _check(
                lib.zeInitDrivers(ctypes.byref(count), None, ctypes.byref(desc)), "zeInitDrivers"
            )
            handles = (ctypes.c_void_p * count.value)()
            _check(
                lib.zeInitDrivers(ctypes.byref(count), handles, ctypes.byref(desc)), "zeInitDrivers"
            )
        else:
            _check(lib.zeInit(ZE_INIT_FLAG_GPU_ONLY), "zeInit")
            _check(lib.zeDriverGet(ctypes.byref(count), None), "zeDriverGet")
            handles = (ctypes.c_void_p * count.value)()
            _check(lib.zeDriverGet(ctypes.byref(count), handles), "zeDriverGet")
        return list(handles)[: count.value]

    def devices(self) -> tuple[LevelZeroDevice, ...]:
        lib = self._load()
        found: list[LevelZeroDevice] = []
        for driver in self._drivers(lib):
            count = ctypes.c_uint32(0)
            _check(lib.zeDeviceGet(driver, ctypes.byref(count), None), "zeDeviceGet")
            devices = (ctypes.c_void_p * count.value)()
            _check(lib.zeDeviceGet(driver, ctypes.byref(count), devices), "zeDeviceGet")
            for device in list(devices)[: count.value]:
                ip = _IpVersionExt(ZE_STRUCTURE_TYPE_DEVICE_IP_VERSION_EXT, None, 0)
                props = _DeviceProperties()
                props.stype = ZE_STRUCTURE_TYPE_DEVICE_PROPERTIES
                props.pNext = ctypes.cast(ctypes.pointer(ip), ctypes.c_void_p)
                _check(
                    lib.zeDeviceGetProperties(device, ctypes.byref(props)), "zeDeviceGetProperties"
                )
                name = bytes(props.name).split(b"\0", 1)[0].decode(errors="replace")
                found.append(LevelZeroDevice(props.vendorId, props.deviceId, name, ip.ipVersion))
        return tuple(found)
