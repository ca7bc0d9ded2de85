"""Read macOS `sysctl` values in-process through `sysctlbyname(3)`.

Spawning `/usr/sbin/sysctl` (what archspec does) costs a process start per call; the libc call costs
microseconds. Everything here answers `None` instead of raising when the name or the library is
missing, so callers treat absence as a normal answer.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import sys


@functools.cache
def _libc() -> ctypes.CDLL | None:
    if sys.platform != "darwin":
        return None
    path = ctypes.util.find_library("c") or "/usr/lib/libSystem.B.dylib"
    try:
        libc = ctypes.CDLL(path, use_errno=True)
    except OSError:
        return None
    libc.sysctlbyname.argtypes = [
        ctypes.c_char_p,
        ctypes.c_void_p,
        ctypes.POINTER(ctypes.c_size_t),
        ctypes.c_void_p,
        ctypes.c_size_t,
    ]
    libc.sysctlbyname.restype = ctypes.c_int
    return libc


def _raw(name: str) -> bytes | None:
    libc = _libc()
    if libc is None:
        return None
    key = name.encode()
    size = ctypes.c_size_t(0)
    # First call asks for the size, second fetches the value.
    if libc.sysctlbyname(key, None, ctypes.byref(size), None, 0) != 0 or size.value == 0:
        return None
    buffer = ctypes.create_string_buffer(size.value)
    if libc.sysctlbyname(key, buffer, ctypes.byref(size), None, 0) != 0:
        return None
    return buffer.raw[: size.value]


def sysctl_string(name: str) -> str | None:
    """A string-valued sysctl (e.g. `machdep.cpu.brand_string`), or None off macOS or if absent."""
    raw = _raw(name)
    if raw is None:
        return None
    return raw.split(b"\0", 1)[0].decode("utf-8", "replace").strip()


def sysctl_int(name: str) -> int | None:
    """An integer-valued sysctl (e.g. `sysctl.proc_translated`), or None off macOS or if absent."""
    raw = _raw(name)
    if raw is None or len(raw) not in (4, 8):
        return None
    return int.from_bytes(raw, sys.byteorder, signed=True)
