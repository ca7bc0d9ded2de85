"""The `nvidia` built-in provider against nvidia-variant-provider 0.0.2's documented output."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.fake_nvml import (
    H100_SXM,
    K80,
    RTX_4090,
    RTX_5090,
    TESLA_T4,
    FakeGpu,
    FakeNvml,
)
from tests.support.host_trees import nvidia_driver
from wheelnext_jupyter.host.nvidia import NvidiaInfo, detect_nvidia
from wheelnext_jupyter.providers.base import VariantProvider
from wheelnext_jupyter.providers.builtin.nvidia import NvidiaProvider
from wheelnext_jupyter.providers.builtin.overrides import ProviderOverrideError
from wheelnext_jupyter.variants.properties import VariantFeatureConfig

# UMD 12.7, derived by hand from the plugin's rules: lower bound = 12.7 … 12.0, 12, then every
# 11.x from 11.20 down, then 11; upper bound = 15.20 … 15.0, 15, 14.20 … 14, 13.20 … 13,
# then 12.20 … 12.8 (no bare 12: a wheel needing "< 12" does not run on 12.7).
LOWER_12_7 = [
    *["12.7", "12.6", "12.5", "12.4", "12.3", "12.2", "12.1", "12.0", "12"],
    *["11.20", "11.19", "11.18", "11.17", "11.16", "11.15", "11.14", "11.13", "11.12"],
    *["11.11", "11.10", "11.9", "11.8", "11.7", "11.6", "11.5", "11.4", "11.3", "11.2"],
    *["11.1", "11.0", "11"],
]
FULL_MINORS = [str(m) for m in (20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5)]
FULL_MINORS += ["4", "3", "2", "1", "0"]
UPPER_12_7 = [
    *[f"15.{m}" for m in FULL_MINORS],
    "15",
    *[f"14.{m}" for m in FULL_MINORS],
    "14",
    *[f"13.{m}" for m in FULL_MINORS],
    "13",
    *["12.20", "12.19", "12.18", "12.17", "12.16", "12.15", "12.14", "12.13", "12.12"],
    *["12.11", "12.10", "12.9", "12.8"],
]


def host(tmp_path: Path, gpus: list[FakeGpu], cuda: int = 12070, **env: str) -> NvidiaInfo:
    nvidia_driver(tmp_path, gpus=len(gpus))
    return detect_nvidia(root=tmp_path, environ=env, nvml=FakeNvml(gpus=gpus, driver=("x", cuda)))


def supported(info: NvidiaInfo, **env: str) -> list[VariantFeatureConfig]:
    return NvidiaProvider.from_host(info, env).get_supported_configs()


def by_name(configs: list[VariantFeatureConfig]) -> dict[str, list[str]]:
    return {c.name: list(c.values) for c in configs}


def test_provider_implements_the_protocol_and_names_the_real_plugin() -> None:
    provider = NvidiaProvider(None, None)
    assert isinstance(provider, VariantProvider)
    assert provider.namespace == "nvidia"
    assert provider.plugin_apis == ("nvidia_variant_provider.plugin:NvidiaVariantPlugin",)
    assert provider.deviations


def test_umd_12_7_gives_exact_bound_lists(tmp_path: Path) -> None:
    configs = supported(host(tmp_path, [RTX_4090]))
    assert [c.name for c in configs] == [
        "cuda_version_lower_bound",
        "cuda_version_upper_bound",
        "sm_arch",
    ]
    assert list(configs[0].values) == LOWER_12_7
    assert list(configs[1].values) == UPPER_12_7
    assert (configs[0].multi_value, configs[1].multi_value, configs[2].multi_value) == (
        False,
        False,
        True,
    )


def test_one_ada_gpu_gives_sm_89_down_to_80_and_virtual_80(tmp_path: Path) -> None:
    sm = by_name(supported(host(tmp_path, [RTX_4090])))["sm_arch"]
    assert sm == [
        *["89_real", "88_real", "87_real", "86_real", "85_real", "84_real", "83_real"],
        *["82_real", "81_real", "80_real", "80_virtual"],
    ]


def test_mixed_gpus_use_only_the_highest_compute_capability(tmp_path: Path) -> None:
    info = host(tmp_path, [TESLA_T4, RTX_4090, H100_SXM])
    assert by_name(supported(info))["sm_arch"] == ["90_real", "90_virtual"]


def test_blackwell_12_0_gives_120(tmp_path: Path) -> None:
    info = host(tmp_path, [RTX_5090], cuda=12080)
    assert by_name(supported(info))["sm_arch"] == ["120_real", "120_virtual"]


def test_gpu_hidden_by_cuda_visible_devices_does_not_count(tmp_path: Path) -> None:
    info = host(tmp_path, [TESLA_T4, H100_SXM], CUDA_VISIBLE_DEVICES="0")
    assert by_name(supported(info))["sm_arch"] == [
        *["75_real", "74_real", "73_real", "72_real", "71_real", "70_real", "70_virtual"],
    ]


def test_all_gpus_hidden_keeps_bounds_and_drops_sm_arch(tmp_path: Path) -> None:
    info = host(tmp_path, [H100_SXM], CUDA_VISIBLE_DEVICES="")
    provider = NvidiaProvider.from_host(info, {})
    assert [c.name for c in provider.get_supported_configs()] == [
        "cuda_version_lower_bound",
        "cuda_version_upper_bound",
    ]
    assert any("CUDA_VISIBLE_DEVICES" in note for note in provider.notes)


def test_zero_gpus_drops_sm_arch_instead_of_failing(tmp_path: Path) -> None:
    info = host(tmp_path, [])
    names = [c.name for c in supported(info)]
    assert names == ["cuda_version_lower_bound", "cuda_version_upper_bound"]


def test_compute_capability_below_5_drops_sm_arch(tmp_path: Path) -> None:
    provider = NvidiaProvider.from_host(host(tmp_path, [K80]), {})
    assert "sm_arch" not in by_name(provider.get_supported_configs())
    assert any("3.7" in note for note in provider.notes)


def test_no_driver_supports_nothing(tmp_path: Path) -> None:
    info = detect_nvidia(root=tmp_path, environ={}, nvml=FakeNvml())
    assert supported(info) == []


def test_nvml_library_missing_supports_nothing(tmp_path: Path) -> None:
    nvidia_driver(tmp_path)
    info = detect_nvidia(root=tmp_path, environ={}, nvml=FakeNvml(library_present=False))
    assert supported(info) == []


def test_umd_outside_11_0_to_15_20_supports_nothing(tmp_path: Path) -> None:
    provider = NvidiaProvider.from_host(host(tmp_path, [TESLA_T4], cuda=10020), {})
    assert provider.get_supported_configs() == []
    assert any("10.2" in note for note in provider.notes)


def test_umd_x_20_has_no_upper_bound_for_its_own_major(tmp_path: Path) -> None:
    configs = by_name(supported(host(tmp_path, [TESLA_T4], cuda=15200)))
    assert "cuda_version_upper_bound" not in configs
    assert configs["cuda_version_lower_bound"][:2] == ["15.20", "15.19"]


def test_umd_15_19_upper_bound_is_only_15_20(tmp_path: Path) -> None:
    configs = by_name(supported(host(tmp_path, [TESLA_T4], cuda=15190)))
    assert configs["cuda_version_upper_bound"] == ["15.20"]


# Override variables, with the plugin's exact semantics.


def test_forced_cuda_version_replaces_detection_and_needs_no_driver(tmp_path: Path) -> None:
    info = detect_nvidia(root=tmp_path, environ={}, nvml=FakeNvml())
    configs = by_name(supported(info, NV_VARIANT_PROVIDER_FORCE_CUDA_DRIVER_VERSION="12.7"))
    assert configs == {
        "cuda_version_lower_bound": LOWER_12_7,
        "cuda_version_upper_bound": UPPER_12_7,
    }


def test_forced_cuda_bare_major_means_minor_zero(tmp_path: Path) -> None:
    info = host(tmp_path, [TESLA_T4])
    lower = by_name(supported(info, NV_VARIANT_PROVIDER_FORCE_CUDA_DRIVER_VERSION="13"))
    assert lower["cuda_version_lower_bound"][:3] == ["13.0", "13", "12.20"]


def test_forced_cuda_version_bypasses_the_range_check(tmp_path: Path) -> None:
    info = host(tmp_path, [TESLA_T4])
    configs = by_name(supported(info, NV_VARIANT_PROVIDER_FORCE_CUDA_DRIVER_VERSION="10.2"))
    # Lower bound: majors 10 down to 11 is an empty range, so the feature is left out.
    # Upper bound: majors 15 … 10, the last (UMD's own) from 10.20 down to 10.3.
    assert "cuda_version_lower_bound" not in configs
    upper = configs["cuda_version_upper_bound"]
    assert upper[upper.index("11") :] == ["11"] + [f"10.{m}" for m in range(20, 2, -1)]


def test_empty_override_means_unset(tmp_path: Path) -> None:
    info = host(tmp_path, [RTX_4090])
    assert supported(info, NV_VARIANT_PROVIDER_FORCE_CUDA_DRIVER_VERSION="") == supported(info)


def test_forced_sm_arch_replaces_the_detected_one(tmp_path: Path) -> None:
    info = host(tmp_path, [TESLA_T4])
    sm = by_name(supported(info, NV_VARIANT_PROVIDER_FORCE_SM_ARCH="10.3"))["sm_arch"]
    assert sm == ["103_real", "102_real", "101_real", "100_real", "100_virtual"]


def test_forced_sm_arch_alone_supports_nothing_without_a_cuda_version(tmp_path: Path) -> None:
    info = detect_nvidia(root=tmp_path, environ={}, nvml=FakeNvml())
    assert supported(info, NV_VARIANT_PROVIDER_FORCE_SM_ARCH="9.0") == []


@pytest.mark.parametrize("value", ["9", "9.0.1", "sm90", "9.x"])
def test_malformed_forced_sm_arch_is_an_error_naming_the_variable(
    tmp_path: Path, value: str
) -> None:
    with pytest.raises(ProviderOverrideError, match="NV_VARIANT_PROVIDER_FORCE_SM_ARCH"):
        NvidiaProvider.from_host(
            host(tmp_path, [TESLA_T4]), {"NV_VARIANT_PROVIDER_FORCE_SM_ARCH": value}
        )


def test_malformed_forced_cuda_version_is_an_error_naming_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ProviderOverrideError, match="FORCE_CUDA_DRIVER_VERSION"):
        NvidiaProvider.from_host(
            host(tmp_path, [TESLA_T4]), {"NV_VARIANT_PROVIDER_FORCE_CUDA_DRIVER_VERSION": "twelve"}
        )


def test_all_configs_cover_110_cuda_values_and_160_sm_values() -> None:
    lower, upper, sm = NvidiaProvider(None, None).get_all_configs()
    assert len(lower.values) == len(upper.values) == 110  # 5 majors x (21 minors + bare)
    assert lower.values[:3] == ("15.20", "15.19", "15.18")
    assert lower.values[-2:] == ("11.0", "11")
    assert len(sm.values) == 160 and sm.multi_value
    assert sm.values[0] == "129_real" and sm.values[79] == "50_real"
    assert sm.values[80] == "129_virtual" and sm.values[-1] == "50_virtual"
