"""The `amd` built-in provider against amd-variant-provider 0.0.2's behaviour."""

from __future__ import annotations

import pytest

from wheelnext_jupyter.host.amd import AmdGpu, AmdInfo
from wheelnext_jupyter.providers.base import VariantProvider
from wheelnext_jupyter.providers.builtin.amd import AmdProvider
from wheelnext_jupyter.providers.builtin.overrides import ProviderOverrideError
from wheelnext_jupyter.variants.properties import VariantFeatureConfig

HOST = AmdInfo(
    gpus=(
        AmdGpu(1, "gfx942", 90402, 0x74A1, None),
        AmdGpu(2, "gfx90a", 90010, 0x7408, None),
        AmdGpu(3, "gfx1100", 110000, 0x744C, None),
    ),
    rocm_version=(6, 4, 1),
)


def test_provider_implements_the_protocol() -> None:
    provider = AmdProvider.from_host(HOST, {})
    assert isinstance(provider, VariantProvider)
    assert provider.namespace == "amd"
    assert provider.plugin_apis == ("amd_variant_provider.plugin:AMDVariantPlugin",)


def test_detected_host_gives_sorted_gfx_list_then_rocm_major_minor() -> None:
    assert AmdProvider.from_host(HOST, {}).get_supported_configs() == [
        VariantFeatureConfig("gfx_arch", ("gfx1100", "gfx90a", "gfx942"), multi_value=True),
        VariantFeatureConfig("rocm_version", ("6.4",), multi_value=False),
    ]


def test_nothing_detected_supports_nothing() -> None:
    assert AmdProvider.from_host(AmdInfo(), {}).get_supported_configs() == []


def test_rocm_without_gpu_still_reports_rocm_version() -> None:
    configs = AmdProvider.from_host(AmdInfo(rocm_version=(7, 0, 0)), {}).get_supported_configs()
    assert configs == [VariantFeatureConfig("rocm_version", ("7.0",))]


def test_forced_gfx_arch_splits_on_commas_spaces_semicolons_keeping_order() -> None:
    env = {"AMD_VARIANT_PROVIDER_FORCE_GFX_ARCH": "gfx942; gfx90a,gfx1100 gfx1201"}
    configs = AmdProvider.from_host(HOST, env).get_supported_configs()
    assert configs[0].values == ("gfx942", "gfx90a", "gfx1100", "gfx1201")


def test_forced_rocm_version_keeps_major_minor() -> None:
    env = {"AMD_VARIANT_PROVIDER_FORCE_ROCM_VERSION": "7.1.0"}
    assert AmdProvider.from_host(HOST, env).get_supported_configs()[1].values == ("7.1",)


@pytest.mark.parametrize("value", ["7.1", "7", "7.1.0.1"])
def test_forced_rocm_version_must_have_three_parts(value: str) -> None:
    with pytest.raises(ProviderOverrideError, match="AMD_VARIANT_PROVIDER_FORCE_ROCM_VERSION"):
        AmdProvider.from_host(HOST, {"AMD_VARIANT_PROVIDER_FORCE_ROCM_VERSION": value})


def test_old_gfx_variable_works_with_a_deprecation_warning() -> None:
    with pytest.warns(DeprecationWarning, match="AMD_VARIANT_PROVIDER_FORCE_GFX_ARCH"):
        provider = AmdProvider.from_host(HOST, {"AMD_VARIANT_PROVIDER_GFX_ARCH": "gfx1030"})
    assert provider.gfx_archs == ("gfx1030",)


def test_old_rocm_variable_works_with_a_deprecation_warning() -> None:
    with pytest.warns(DeprecationWarning, match="AMD_VARIANT_PROVIDER_FORCE_ROCM_VERSION"):
        provider = AmdProvider.from_host(HOST, {"AMD_VARIANT_PROVIDER_ROCM_VERSION": "6.3.0"})
    assert provider.rocm_version == "6.3"


def test_new_variable_wins_over_old_without_warning() -> None:
    env = {
        "AMD_VARIANT_PROVIDER_FORCE_GFX_ARCH": "gfx942",
        "AMD_VARIANT_PROVIDER_GFX_ARCH": "gfx1030",
    }
    assert AmdProvider.from_host(HOST, env).gfx_archs == ("gfx942",)


def test_all_configs_list_rocm_versions_then_eleven_gfx_targets() -> None:
    rocm, gfx = AmdProvider.from_host(AmdInfo(), {}).get_all_configs()
    assert rocm.name == "rocm_version" and not rocm.multi_value
    assert rocm.values == (
        *("7.10", "7.9", "7.8", "7.7", "7.6", "7.5", "7.4", "7.3", "7.2", "7.1", "7.0"),
        *("6.4", "6.3"),
    )
    assert gfx.name == "gfx_arch" and gfx.multi_value
    assert len(gfx.values) == 11 and "gfx90a" in gfx.values
