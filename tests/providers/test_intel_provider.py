"""The `intel` built-in provider against intel-variant-provider 0.0.3's behaviour."""

from __future__ import annotations

from wheelnext_jupyter.host.intel import IntelGpu, IntelInfo
from wheelnext_jupyter.providers.base import VariantProvider
from wheelnext_jupyter.providers.builtin.intel import IntelProvider
from wheelnext_jupyter.variants.properties import VariantFeatureConfig

A770 = IntelGpu("Intel(R) Arc(TM) A770 Graphics", 0x56A0, "12.55.8")
A380 = IntelGpu("Intel(R) Arc(TM) A380 Graphics", 0x56A5, "12.56.5")
LNL = IntelGpu("Intel(R) Arc(TM) 140V GPU", 0x64A0, "20.4.4")


def ips(info: IntelInfo, **env: str) -> list[str]:
    configs = IntelProvider.from_host(info, env).get_supported_configs()
    assert all(c.name == "device_ip" and c.multi_value for c in configs)
    return [v for c in configs for v in c.values]


def test_provider_implements_the_protocol() -> None:
    provider = IntelProvider.from_host(IntelInfo(), {})
    assert isinstance(provider, VariantProvider)
    assert provider.namespace == "intel"
    assert provider.plugin_apis == ("intel_variant_provider.plugin:IntelVariantPlugin",)


def test_arc_a770_gives_its_own_ip() -> None:
    assert IntelProvider.from_host(IntelInfo(gpus=(A770,)), {}).get_supported_configs() == [
        VariantFeatureConfig("device_ip", ("12.55.8",), multi_value=True)
    ]


def test_each_device_adds_its_ip_then_its_compat_ip_deduplicated() -> None:
    assert ips(IntelInfo(gpus=(A380, LNL, A770))) == ["12.56.5", "12.55.8", "20.4.4", "20.1.0"]


def test_unknown_ip_is_left_out_with_a_note() -> None:
    provider = IntelProvider.from_host(IntelInfo(gpus=(IntelGpu("x", 1, "99.1.0"),)), {})
    assert provider.get_supported_configs() == []
    assert any("99.1.0" in note for note in provider.notes)


def test_no_gpu_supports_nothing() -> None:
    assert ips(IntelInfo()) == []


def test_forced_ip_is_used_alone_without_compat_expansion() -> None:
    env = {"INTEL_VARIANT_PROVIDER_FORCE_DEVICE_IP": "12.56.5"}
    assert ips(IntelInfo(gpus=(A770,)), **env) == ["12.56.5"]


def test_forced_unknown_ip_is_still_filtered() -> None:
    assert ips(IntelInfo(), INTEL_VARIANT_PROVIDER_FORCE_DEVICE_IP="1.2.3") == []


def test_all_configs_list_the_23_known_ips_newest_first() -> None:
    (config,) = IntelProvider.from_host(IntelInfo(), {}).get_all_configs()
    assert len(config.values) == 23
    assert config.values[:2] == ("35.11.0", "35.10.4")
    assert config.values[-1] == "12.0.0"
