"""The `amd` namespace as amd-variant-provider 0.0.2 emits it: `gfx_arch` (multi), `rocm_version`."""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping

from wheelnext_jupyter.host.amd import AmdInfo
from wheelnext_jupyter.providers.builtin.overrides import ProviderOverrideError
from wheelnext_jupyter.record import Record
from wheelnext_jupyter.variants.properties import VariantFeatureConfig

FORCE_GFX_ARCH = "AMD_VARIANT_PROVIDER_FORCE_GFX_ARCH"
FORCE_ROCM_VERSION = "AMD_VARIANT_PROVIDER_FORCE_ROCM_VERSION"
#: Names read by plugin revisions before October 2025.
OLD_NAMES = {
    FORCE_GFX_ARCH: "AMD_VARIANT_PROVIDER_GFX_ARCH",
    FORCE_ROCM_VERSION: "AMD_VARIANT_PROVIDER_ROCM_VERSION",
}

GFX_ARCH = "gfx_arch"
ROCM_VERSION = "rocm_version"

#: `get_all_configs` of the plugin.
ALL_ROCM_VERSIONS = (*(f"7.{minor}" for minor in range(10, -1, -1)), "6.4", "6.3")
ALL_GFX_ARCHS = (
    *("gfx900", "gfx906", "gfx908", "gfx90a", "gfx942"),
    *("gfx1030", "gfx1100", "gfx1101", "gfx1102", "gfx1200", "gfx1201"),
)


def _override(environ: Mapping[str, str], name: str) -> str | None:
    value = environ.get(name)
    if value:
        return value
    old = environ.get(OLD_NAMES[name])
    if old:
        warnings.warn(
            f"{OLD_NAMES[name]} is deprecated; set {name} instead",
            DeprecationWarning,
            stacklevel=3,
        )
        return old
    return None


class AmdProvider(Record):
    gfx_archs: tuple[str, ...]
    rocm_version: str | None  # "M.m"

    # Class attributes, not fields: `Record` takes only annotated names for fields.
    namespace = "amd"
    plugin_apis = ("amd_variant_provider.plugin:AMDVariantPlugin",)
    deviations = (
        "gfx names come from the kernel's KFD topology, not from running rocminfo or "
        "rocm_agent_enumerator: the result equals the plugin's whenever ROCm's "
        "rocm_agent_enumerator is installed (its fallback keeps every GPU, so the "
        "AMD_PREFERRED_GFX_ARCHS list does not filter), and GPUs are found even without ROCm",
        "the pre-0.0.2 variable names AMD_VARIANT_PROVIDER_GFX_ARCH and "
        "AMD_VARIANT_PROVIDER_ROCM_VERSION are still read, with a DeprecationWarning",
    )

    @classmethod
    def from_host(cls, info: AmdInfo, environ: Mapping[str, str]) -> AmdProvider:
        forced_gfx = _override(environ, FORCE_GFX_ARCH)
        if forced_gfx:
            # Split on commas, spaces and semicolons; order and duplicates kept, as the plugin does.
            gfx = tuple(part for part in re.split(r"[,\s;]+", forced_gfx.strip()) if part)
        else:
            gfx = tuple(info.gfx_archs)
        forced_rocm = _override(environ, FORCE_ROCM_VERSION)
        rocm: str | None
        if forced_rocm:
            parts = forced_rocm.strip().split(".")
            if len(parts) != 3:
                raise ProviderOverrideError(
                    FORCE_ROCM_VERSION, forced_rocm, "a three-part version such as 6.4.1"
                )
            rocm = f"{parts[0]}.{parts[1]}"
        elif info.rocm_version:
            rocm = f"{info.rocm_version[0]}.{info.rocm_version[1]}"
        else:
            rocm = None
        return cls(gfx, rocm)

    def get_supported_configs(self) -> list[VariantFeatureConfig]:
        configs: list[VariantFeatureConfig] = []
        if self.gfx_archs:
            configs.append(VariantFeatureConfig(GFX_ARCH, self.gfx_archs, multi_value=True))
        if self.rocm_version:
            configs.append(VariantFeatureConfig(ROCM_VERSION, (self.rocm_version,)))
        return configs

    @classmethod
    def get_all_configs(cls) -> list[VariantFeatureConfig]:
        return [
            VariantFeatureConfig(ROCM_VERSION, ALL_ROCM_VERSIONS),
            VariantFeatureConfig(GFX_ARCH, ALL_GFX_ARCHS, multi_value=True),
        ]
