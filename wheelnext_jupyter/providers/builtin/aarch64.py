"""Built-in `aarch64` provider: the output of provider-variant-aarch64 without running its code.

The real plugin (0.0.3, plugin-api `provider_variant_aarch64.plugin:AArch64Plugin`) asks archspec
for the host's microarchitecture and reports the architecture versions of its generic ancestor
(capped at armv9.0a) and which of 40 features the *matched target* has. We do the same from
`host.cpu.match_target()`, quirks included.
"""

from __future__ import annotations

from collections.abc import Mapping

from wheelnext_jupyter.host.cpu import AARCH64, CpuInfo, TargetMatch, lineage, match_target
from wheelnext_jupyter.variants.properties import VariantFeatureConfig

#: Highest architecture version the plugin knows; newer generics are capped to it.
MAX_KNOWN_VERSION = "armv9.0a"

#: The plugin's candidate features in its preference order. `asimdrdmatomics` is the plugin's
#: fused typo of `asimdrdm atomics`; no target has it, so it is never emitted (kept for parity).
FEATURES: tuple[str, ...] = (
    "sve2", "flagm2", "frint", "sb", "btiecv", "paca", "pacg", "ssbs", "asimdfhm", "bf16",
    "dcpodp", "dgh", "dit", "flagm", "i8mm", "ilrcpc", "jscvt", "rng", "sha3", "sha512",
    "svebf16", "svei8mm", "uscat", "asimddp", "lrcpc", "asimdhp", "dcpop", "fcma", "fphp", "sve",
    "asimdrdmatomics", "aes", "asimd", "cpuid", "crc32", "evtstrm", "fp", "pmull", "sha1", "sha2",
)  # fmt: skip


class UnexpectedArchspecName(ValueError):
    """An archspec generic target whose name is neither `aarch64` nor `armvX.Ya`."""


def version_name(archspec_name: str) -> str:
    """archspec generic name → plugin value: `aarch64` → `8a`, `armv8.2a` → `8.2a`."""
    if archspec_name == AARCH64:
        return "8a"
    if archspec_name.startswith("armv") and archspec_name.endswith("a"):
        return archspec_name.removeprefix("armv")
    raise UnexpectedArchspecName(
        f"archspec target {archspec_name!r} is not an AArch64 architecture version; "
        "update the aarch64 provider's version mapping for this archspec release"
    )


class AArch64Provider:
    """The `aarch64` namespace: `version` (e.g. `9.0a`, `8.5a`…`8a`) then features `["on"]`."""

    namespace = "aarch64"
    plugin_apis: tuple[str, ...] = (
        "provider_variant_aarch64.plugin:AArch64Plugin",
        "provider_variant_aarch64",
    )
    #: Where this provider knowingly gives a different answer from the plugin it stands in for.
    deviations: tuple[str, ...] = (
        "The matched target comes from the installed archspec (0.2.7 at the time of writing), not "
        "the plugin's vendored revision: cores that older archspec-json did not know (e.g. "
        "Ampere1, which there gave version 8a and no features) match their own targets here, and "
        "Neoverse V3AE matches its armv9.2a target (capped to 9.0a, so 8.6a is not listed).",
        "macOS is read with sysctlbyname in-process instead of a sysctl subprocess; the brand "
        "string maps M1–M4 to archspec's m1–m4 (the plugin's older vendored archspec maps M3/M4 "
        "to m1).",
    )

    def __init__(self, target: TargetMatch | None) -> None:
        self.target = target

    @classmethod
    def from_host(cls, info: CpuInfo, environ: Mapping[str, str]) -> AArch64Provider:
        """Build from detected CPU facts. The plugin reads no environment variables; neither do we
        (generic per-namespace overrides are applied by the caller)."""
        del environ
        return cls(match_target(info))

    @classmethod
    def get_all_configs(cls) -> list[VariantFeatureConfig]:
        versions = tuple(version_name(name) for name in lineage(MAX_KNOWN_VERSION))
        return [VariantFeatureConfig("version", versions)] + [
            VariantFeatureConfig(feature, ("on",)) for feature in FEATURES
        ]

    def get_supported_configs(self) -> list[VariantFeatureConfig]:
        target = self.target
        if target is None or AARCH64 not in (target.generic, *target.ancestors):
            return []
        versions = target.generic_lineage
        # Cap at the newest version the plugin knows, as it does: only when that version is an
        # ancestor of the generic target (armv9.2a is capped; armv8.6a is not, a plugin quirk).
        if MAX_KNOWN_VERSION in versions[1:]:
            versions = lineage(MAX_KNOWN_VERSION)
        return [VariantFeatureConfig("version", tuple(version_name(v) for v in versions))] + [
            VariantFeatureConfig(feature, ("on",))
            for feature in FEATURES
            if feature in target.features
        ]
