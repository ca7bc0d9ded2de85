"""The `tpu` namespace: our own (no TPU provider plugin exists). Feature `generation`."""

from __future__ import annotations

from collections.abc import Mapping

from wheelnext_jupyter.host.tpu import GENERATIONS, TpuInfo
from wheelnext_jupyter.providers.builtin.overrides import ProviderOverrideError
from wheelnext_jupyter.record import Record
from wheelnext_jupyter.variants.properties import VariantFeatureConfig

FORCE_GENERATION = "TPU_VARIANT_PROVIDER_FORCE_GENERATION"
GENERATION = "generation"


class TpuProvider(Record):
    """`tpu :: generation :: <v2…tpu7x>`: the TPU generation of this host's chips, one value."""

    generation: str | None

    # Class attributes, not fields: `Record` takes only annotated names for fields.
    namespace = "tpu"
    plugin_apis = ()
    deviations = (
        "no upstream provider plugin exists; the namespace and its values are defined here",
    )

    @classmethod
    def from_host(cls, info: TpuInfo, environ: Mapping[str, str]) -> TpuProvider:
        forced = environ.get(FORCE_GENERATION)
        if forced:
            if forced not in GENERATIONS:
                raise ProviderOverrideError(
                    FORCE_GENERATION, forced, f"one of {', '.join(GENERATIONS)}"
                )
            return cls(forced)
        return cls(info.generation if info.present else None)

    def get_supported_configs(self) -> list[VariantFeatureConfig]:
        if self.generation is None:
            return []
        return [VariantFeatureConfig(GENERATION, (self.generation,))]

    @classmethod
    def get_all_configs(cls) -> list[VariantFeatureConfig]:
        return [VariantFeatureConfig(GENERATION, GENERATIONS)]
