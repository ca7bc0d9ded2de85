"""The `tpu` built-in provider (our own namespace)."""

from __future__ import annotations

import pytest

from wheelnext_jupyter.host.tpu import TpuInfo
from wheelnext_jupyter.providers.base import VariantProvider
from wheelnext_jupyter.providers.builtin.overrides import ProviderOverrideError
from wheelnext_jupyter.providers.builtin.tpu import TpuProvider
from wheelnext_jupyter.variants.properties import VariantFeatureConfig


def test_provider_implements_the_protocol_and_stands_in_for_no_plugin() -> None:
    provider = TpuProvider.from_host(TpuInfo(), {})
    assert isinstance(provider, VariantProvider)
    assert provider.namespace == "tpu"
    assert provider.plugin_apis == ()


def test_detected_generation_is_the_single_supported_value() -> None:
    info = TpuInfo(present=True, generation="v5e", chips=4)
    assert TpuProvider.from_host(info, {}).get_supported_configs() == [
        VariantFeatureConfig("generation", ("v5e",), multi_value=False)
    ]


def test_no_tpu_supports_nothing() -> None:
    assert TpuProvider.from_host(TpuInfo(), {}).get_supported_configs() == []


def test_tpu_of_unknown_generation_supports_nothing() -> None:
    info = TpuInfo(present=True, generation=None, chips=4)
    assert TpuProvider.from_host(info, {}).get_supported_configs() == []


def test_forced_generation_replaces_detection() -> None:
    env = {"TPU_VARIANT_PROVIDER_FORCE_GENERATION": "v6e"}
    configs = TpuProvider.from_host(TpuInfo(), env).get_supported_configs()
    assert configs[0].values == ("v6e",)


def test_unknown_forced_generation_is_an_error_naming_the_variable() -> None:
    with pytest.raises(ProviderOverrideError, match="TPU_VARIANT_PROVIDER_FORCE_GENERATION"):
        TpuProvider.from_host(TpuInfo(), {"TPU_VARIANT_PROVIDER_FORCE_GENERATION": "v5"})


def test_all_configs_list_generations_newest_first() -> None:
    assert TpuProvider(None).get_all_configs() == [
        VariantFeatureConfig("generation", ("tpu7x", "v6e", "v5p", "v5e", "v4", "v3", "v2"))
    ]
