"""The `nvidia` namespace, computed natively as nvidia-variant-provider 0.0.2 computes it.

Features, in preference order: `cuda_version_lower_bound`, `cuda_version_upper_bound` (from the
CUDA driver version, "UMD") and `sm_arch` (multi-valued, from the highest compute capability).
"""

from __future__ import annotations

from collections.abc import Mapping

from wheelnext_jupyter.host.nvidia import NvidiaInfo
from wheelnext_jupyter.providers.builtin.overrides import ProviderOverrideError
from wheelnext_jupyter.record import Record
from wheelnext_jupyter.variants.properties import VariantFeatureConfig

FORCE_CUDA_DRIVER_VERSION = "NV_VARIANT_PROVIDER_FORCE_CUDA_DRIVER_VERSION"
FORCE_SM_ARCH = "NV_VARIANT_PROVIDER_FORCE_SM_ARCH"

#: The plugin's supported CUDA versions: majors 11–15, minors 0–20.
UMD_MAJORS = range(11, 16)
UMD_MINORS = range(21)
#: Lowest compute capability the plugin emits `sm_arch` for.
MIN_COMPUTE_CAPABILITY = (5, 0)

LOWER_BOUND = "cuda_version_lower_bound"
UPPER_BOUND = "cuda_version_upper_bound"
SM_ARCH = "sm_arch"


def _version_text(major: int, minor: int | None) -> str:
    return f"{major}" if minor is None else f"{major}.{minor}"


def all_cuda_values() -> list[str]:
    """Every bound value: `15.20 … 15.0, 15, 14.20 … 11.0, 11`."""
    return [
        _version_text(major, minor)
        for major in reversed(UMD_MAJORS)
        for minor in [*reversed(UMD_MINORS), None]
    ]


def all_sm_values() -> list[str]:
    """Every `sm_arch` value: `129_real … 50_real`, then `129_virtual … 50_virtual`."""
    digits = [(major, minor) for major in range(12, 4, -1) for minor in range(9, -1, -1)]
    return [f"{ma}{mi}_real" for ma, mi in digits] + [f"{ma}{mi}_virtual" for ma, mi in digits]


def cuda_lower_bound_values(major: int, minor: int) -> list[str]:
    """Wheels built for CUDA ≥ X run here when X ≤ UMD: UMD.minor … 0, bare major, older majors."""
    out: list[str] = []
    for m in range(major, UMD_MAJORS.start - 1, -1):
        minors = range(minor, -1, -1) if m == major else range(UMD_MINORS.stop - 1, -1, -1)
        out.extend([*(_version_text(m, n) for n in minors), _version_text(m, None)])
    return out


def cuda_upper_bound_values(major: int, minor: int) -> list[str]:
    """Wheels declaring CUDA < X run here when X > UMD: 15.20 … down to UMD.minor + 1."""
    out: list[str] = []
    for m in range(UMD_MAJORS.stop - 1, major - 1, -1):
        if m > major:
            out.extend(
                [*(_version_text(m, n) for n in reversed(UMD_MINORS)), _version_text(m, None)]
            )
        else:
            out.extend(_version_text(m, n) for n in range(UMD_MINORS.stop - 1, minor, -1))
    return out


def sm_arch_values(major: int, minor: int) -> list[str]:
    """CC M.m runs real code for M.m … M.0 and PTX for M.0: `Mm_real … M0_real, M0_virtual`."""
    return [*(f"{major}{n}_real" for n in range(minor, -1, -1)), f"{major}0_virtual"]


class NvidiaProvider(Record):
    """Supported `nvidia` properties for one CUDA driver version and compute capability.

    `cuda_driver_version` None ⇒ nothing is supported; `sm_arch` None ⇒ that feature is left out.
    `notes` says why something was left out (the plugin prints these as warnings).
    """

    cuda_driver_version: tuple[int, int] | None
    sm_arch: tuple[int, int] | None
    notes: tuple[str, ...] = ()

    # Class attributes, not fields: `Record` takes only annotated names for fields.
    namespace = "nvidia"
    plugin_apis = ("nvidia_variant_provider.plugin:NvidiaVariantPlugin",)
    deviations = (
        "sm_arch comes from the GPUs CUDA_VISIBLE_DEVICES leaves visible (the plugin asks NVML, "
        "which ignores that variable, so it also counts GPUs this process cannot use)",
        "with the driver working but no GPU whose compute capability can be read, sm_arch is "
        "left out (the plugin raises IndexError and reports nothing)",
        "NVML is not loaded when no NVIDIA driver file exists (/proc/driver/nvidia/version, "
        "/dev/nvidiactl, /dev/nvidia0, /dev/dxg); the plugin's NVML call would fail there anyway",
        "problems are recorded in `notes` instead of being raised as Python warnings",
    )

    @classmethod
    def from_host(cls, info: NvidiaInfo, environ: Mapping[str, str]) -> NvidiaProvider:
        """Apply the plugin's override variables (verbatim semantics) to detected facts."""
        notes: list[str] = []
        umd = _forced_umd(environ.get(FORCE_CUDA_DRIVER_VERSION, ""))
        if umd is None:
            umd = _detected_umd(info, notes)
        sm = _forced_sm(environ.get(FORCE_SM_ARCH, ""))
        if sm is None and info.ok:
            capabilities = [g.compute_capability for g in info.visible_gpus if g.compute_capability]
            if capabilities:
                sm = max(capabilities)
            elif info.gpus and not info.visible_gpus:
                notes.append("CUDA_VISIBLE_DEVICES hides every GPU: sm_arch left out")
            else:
                notes.append("no GPU with a readable compute capability: sm_arch left out")
        if sm is not None and sm < MIN_COMPUTE_CAPABILITY:
            notes.append(
                f"compute capability {sm[0]}.{sm[1]} is below the lowest supported, 5.0: "
                "sm_arch left out"
            )
            sm = None
        return cls(umd, sm, tuple(notes))

    def get_supported_configs(self) -> list[VariantFeatureConfig]:
        if self.cuda_driver_version is None:
            return []
        major, minor = self.cuda_driver_version
        configs = [
            VariantFeatureConfig(LOWER_BOUND, tuple(cuda_lower_bound_values(major, minor))),
            VariantFeatureConfig(UPPER_BOUND, tuple(cuda_upper_bound_values(major, minor))),
        ]
        # The plugin omits a bound whose list is empty (upper bound for UMD x.20 and above).
        configs = [config for config in configs if config.values]
        if self.sm_arch is not None:
            values = tuple(sm_arch_values(*self.sm_arch))
            configs.append(VariantFeatureConfig(SM_ARCH, values, multi_value=True))
        return configs

    @classmethod
    def get_all_configs(cls) -> list[VariantFeatureConfig]:
        cuda = tuple(all_cuda_values())
        return [
            VariantFeatureConfig(LOWER_BOUND, cuda),
            VariantFeatureConfig(UPPER_BOUND, cuda),
            VariantFeatureConfig(SM_ARCH, tuple(all_sm_values()), multi_value=True),
        ]


def _forced_umd(value: str) -> tuple[int, int] | None:
    """The plugin parses the override with `Version` (`12` ⇒ 12.0) and skips the range check."""
    if not value:
        return None
    from packaging.version import InvalidVersion, Version  # only when overridden

    try:
        version = Version(value)
    except InvalidVersion:
        raise ProviderOverrideError(
            FORCE_CUDA_DRIVER_VERSION, value, "a version such as 12.8"
        ) from None
    return (version.major, version.minor)


def _forced_sm(value: str) -> tuple[int, int] | None:
    """`major.minor`, split on the first dot, both integers (the plugin raises otherwise)."""
    if not value:
        return None
    parts = value.split(".", 1)
    try:
        major, minor = (int(part) for part in parts)
    except ValueError:
        raise ProviderOverrideError(
            FORCE_SM_ARCH, value, "a compute capability major.minor such as 9.0"
        ) from None
    return (major, minor)


def _detected_umd(info: NvidiaInfo, notes: list[str]) -> tuple[int, int] | None:
    if not info.ok:
        if info.error:
            notes.append(f"NVIDIA detection unavailable: {info.error}")
        return None
    if info.cuda_driver_version is None:
        notes.append("NVML reported no CUDA driver version: NVIDIA platform not supported")
        return None
    from packaging.version import Version  # only with a working driver

    umd = Version(_version_text(*info.cuda_driver_version))
    low = Version(_version_text(UMD_MAJORS.start, UMD_MINORS.start))
    high = Version(_version_text(UMD_MAJORS.stop - 1, UMD_MINORS.stop - 1))
    if not low <= umd <= high:
        notes.append(
            f"CUDA driver version {umd} is outside the supported range >={low},<={high}: "
            "NVIDIA detection deactivated"
        )
        return None
    return info.cuda_driver_version
