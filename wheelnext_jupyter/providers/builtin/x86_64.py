"""Built-in `x86_64` provider: the output of provider-variant-x86-64 without running its code.

The real plugin (0.0.1.post2, plugin-api `provider_variant_x86_64.plugin:X8664Plugin`) asks
archspec for the host's microarchitecture and reports its generic ancestor's psABI level and which
of 56 ISA features the *matched target* has. We do the same from `host.cpu.match_target()`.
"""

from __future__ import annotations

from collections.abc import Mapping

from wheelnext_jupyter.host.cpu import CpuInfo, TargetMatch, match_target
from wheelnext_jupyter.variants.properties import VariantFeatureConfig

#: Highest psABI level the plugin knows; higher archspec generics are capped to it.
MAX_KNOWN_LEVEL = 4

#: The plugin's candidate features, in its preference order (newest first).
FEATURES: tuple[str, ...] = (
    "avx_vnni", "cppc", "ibrs_enhanced", "tsc_adjust", "flush_l1d", "movdir64b", "movdiri",
    "avx512_bf16", "avx512_bitalg", "avx512_vbmi2", "avx512_vnni", "avx512_vp2intersect",
    "avx512_vpopcntdq", "avx512ifma", "avx512vbmi", "rdpid", "sha_ni", "vaes", "vpclmulqdq",
    "clwb", "clzero", "avx512bw", "avx512cd", "avx512dq", "avx512f", "avx512vl", "clflushopt",
    "gfni", "rdseed", "xsavec", "xsaveopt", "adx", "avx2", "avx", "bmi2", "bmi1", "abm", "f16c",
    "fma", "movbe", "xsave", "rdrand", "aes", "pclmulqdq", "sse4a", "fsgsbase", "sse4_2",
    "sse4_1", "ssse3", "sse3", "cx16", "lahf_lm", "popcnt", "sse2", "sse", "mmx",
)  # fmt: skip

_GENERIC_PREFIX = "x86_64_v"


def level_range(level: int) -> list[str]:
    """`v{level}` down to `v1`, best first."""
    return [f"v{n}" for n in range(level, 0, -1)]


class X8664Provider:
    """The `x86_64` namespace: `level` (`v4`…`v1`) then ISA features valued `["on"]`."""

    namespace = "x86_64"
    plugin_apis: tuple[str, ...] = (
        "provider_variant_x86_64.plugin:X8664Plugin",
        "provider_variant_x86_64",
    )
    #: Where this provider knowingly gives a different answer from the plugin it stands in for.
    deviations: tuple[str, ...] = (
        "The matched target comes from the installed archspec (0.2.7 at the time of writing), not "
        "the plugin's vendored revision (archspec 77f3f81 with archspec-json 1900fa7). Newer "
        "archspec-json lists the generic levels' flags in every target, so Intel targets from "
        "haswell on also report abm, cx16, lahf_lm and xsave (nehalem-ivybridge: cx16, "
        "lahf_lm; AMD bulldozer-excavator: lahf_lm, popcnt, xsave; zen-zen5: lahf_lm, xsave), "
        "zen5 no longer reports cppc and ibrs_enhanced, and Alder Lake / Arrow Lake hosts match "
        "their own targets instead of skylake. Levels are unchanged.",
        "get_all_configs() is provided (level v4…v1 and all 56 features); plugin 0.0.1.post2 has "
        "none.",
        "The host's psABI level from raw kernel flags is reported as a host fact but does not "
        "replace archspec's generic ancestor: a pre-v2 CPU (e.g. AMD K10, psABI v1) yields [] "
        "exactly as the plugin does.",
    )

    def __init__(self, target: TargetMatch | None) -> None:
        self.target = target

    @classmethod
    def from_host(cls, info: CpuInfo, environ: Mapping[str, str]) -> X8664Provider:
        """Build from detected CPU facts. The plugin reads no environment variables; neither do we
        (generic per-namespace overrides are applied by the caller)."""
        del environ
        return cls(match_target(info))

    @classmethod
    def get_all_configs(cls) -> list[VariantFeatureConfig]:
        return [VariantFeatureConfig("level", tuple(level_range(MAX_KNOWN_LEVEL)))] + [
            VariantFeatureConfig(feature, ("on",)) for feature in FEATURES
        ]

    def get_supported_configs(self) -> list[VariantFeatureConfig]:
        target = self.target
        if target is None or not target.generic.startswith(_GENERIC_PREFIX):
            # Not x86-64, or archspec's plain `x86_64` generic (pre-v2): the plugin emits nothing.
            return []
        level = min(int(target.generic.removeprefix(_GENERIC_PREFIX)), MAX_KNOWN_LEVEL)
        return [VariantFeatureConfig("level", tuple(level_range(level)))] + [
            VariantFeatureConfig(feature, ("on",))
            for feature in FEATURES
            if feature in target.features
        ]
