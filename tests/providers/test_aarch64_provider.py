"""The built-in `aarch64` provider against hand-written expectations from the plugin's algorithm.

`version` = archspec generic of the matched target and its ancestors (`aarch64` → `8a`,
`armvX.Ya` → `X.Ya`), capped at armv9.0a; then the plugin's 40 candidates, in order, that are in
the matched target's JSON feature list.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from wheelnext_jupyter.host.cpu import darwin_cpu, detect_cpu
from wheelnext_jupyter.providers.base import VariantProvider
from wheelnext_jupyter.providers.builtin.aarch64 import (
    FEATURES,
    AArch64Provider,
    UnexpectedArchspecName,
    version_name,
)
from wheelnext_jupyter.variants.properties import VariantFeatureConfig as F

DATA = Path(__file__).resolve().parents[1] / "data" / "cpuinfo"
ON = ("on",)
V90 = ("9.0a", "8.5a", "8.4a", "8.3a", "8.2a", "8.1a", "8a")


def provider_for(tmp_path: Path, name: str, machine: str = "aarch64") -> AArch64Provider:
    (tmp_path / "proc").mkdir()
    shutil.copyfile(DATA / name, tmp_path / "proc" / "cpuinfo")
    return AArch64Provider.from_host(detect_cpu(root=tmp_path, machine=machine), {})


def test_provider_satisfies_the_protocol() -> None:
    assert isinstance(AArch64Provider(None), VariantProvider)
    assert AArch64Provider.namespace == "aarch64"
    assert "provider_variant_aarch64.plugin:AArch64Plugin" in AArch64Provider.plugin_apis


def test_cortex_a72_configs(tmp_path: Path) -> None:
    # Features: fp asimd evtstrm aes pmull sha1 sha2 crc32 cpuid; cortex_a72 is plain armv8.0.
    assert provider_for(tmp_path, "linux-amazon-cortex_a72").get_supported_configs() == [
        F("version", ("8a",)),
        F("aes", ON), F("asimd", ON), F("cpuid", ON), F("crc32", ON), F("evtstrm", ON),
        F("fp", ON), F("pmull", ON), F("sha1", ON), F("sha2", ON),
    ]  # fmt: skip


def test_neoverse_n1_configs(tmp_path: Path) -> None:
    # neoverse_n1 descends from armv8.2a; its target lists asimddp lrcpc asimdhp dcpop fphp plus
    # the cortex_a72 set. `ssbs` is a raw hwcap here but not in the target, so it is dropped.
    assert provider_for(tmp_path, "linux-amazon-neoverse_n1").get_supported_configs() == [
        F("version", ("8.2a", "8.1a", "8a")),
        F("asimddp", ON), F("lrcpc", ON), F("asimdhp", ON), F("dcpop", ON), F("fphp", ON),
        F("aes", ON), F("asimd", ON), F("cpuid", ON), F("crc32", ON), F("evtstrm", ON),
        F("fp", ON), F("pmull", ON), F("sha1", ON), F("sha2", ON),
    ]  # fmt: skip


def test_thunderx2_is_armv8_1(tmp_path: Path) -> None:
    # thunderx2 hwcaps add only atomics and asimdrdm (neither is a plugin candidate) to the base set.
    configs = provider_for(tmp_path, "linux-centos7-thunderx2").get_supported_configs()
    assert configs[0] == F("version", ("8.1a", "8a"))
    assert [c.name for c in configs[1:]] == [
        "aes", "asimd", "cpuid", "crc32", "evtstrm", "fp", "pmull", "sha1", "sha2",
    ]  # fmt: skip


def test_asahi_m2_is_armv8_5(tmp_path: Path) -> None:
    configs = provider_for(tmp_path, "linux-asahi-m2").get_supported_configs()
    assert configs[0] == F("version", ("8.5a", "8.4a", "8.3a", "8.2a", "8.1a", "8a"))
    assert len(configs) == 1 + 32
    assert "btiecv" not in [c.name for c in configs]  # archspec lists `bti` and `ecv` separately


@pytest.mark.parametrize(
    "name", ["linux-rhel9-neoverse_v2", "linux-rhel9-neoverse_n2", "linux-unknown-neoverse_v2"]
)
def test_armv9_cores_list_9_0a_then_8_5a(tmp_path: Path, name: str) -> None:
    # armv9.0a descends from armv8.5a in archspec, so 8.6a is never listed for these.
    configs = provider_for(tmp_path, name).get_supported_configs()
    assert configs[0] == F("version", V90)
    assert configs[1] == F("sve2", ON)


def test_neoverse_v3ae_is_capped_to_9_0a(tmp_path: Path) -> None:
    # armv9.2a generic has armv9.0a as an ancestor: capped to armv9.0a's lineage (8.6a lost).
    configs = provider_for(tmp_path, "linux-ubuntu24.04-neoverse_v3ae").get_supported_configs()
    assert configs[0] == F("version", V90)


def test_ampere1_keeps_the_8_6a_quirk(tmp_path: Path) -> None:
    # armv8.6a is not an ancestor of armv9.0a, so it is not capped: 8.6a is emitted although
    # get_all_configs() does not contain it (the plugin does the same).
    configs = provider_for(tmp_path, "linux-ubuntu22.04-ampere1").get_supported_configs()
    assert configs[0] == F("version", ("8.6a", *V90[1:]))
    assert "8.6a" not in AArch64Provider(None).get_all_configs()[0].values


def test_x86_host_is_unsupported(tmp_path: Path) -> None:
    assert provider_for(tmp_path, "linux-rhel7-haswell", "x86_64").get_supported_configs() == []


def test_fused_typo_feature_is_never_emitted(tmp_path: Path) -> None:
    configs = provider_for(tmp_path, "linux-ubuntu22.04-neoverse_v2").get_supported_configs()
    assert "asimdrdmatomics" not in [c.name for c in configs]


def test_all_configs() -> None:
    configs = AArch64Provider(None).get_all_configs()
    assert configs[0] == F("version", V90)
    assert [c.name for c in configs[1:]] == list(FEATURES)
    assert len(FEATURES) == 40
    assert all(c.values == ON and not c.multi_value for c in configs[1:])


@pytest.mark.parametrize(
    ("brand", "version"),
    [
        ("Apple M1", ("8.4a", "8.3a", "8.2a", "8.1a", "8a")),
        ("Apple M2 Max", ("8.5a", "8.4a", "8.3a", "8.2a", "8.1a", "8a")),
        ("Apple M4 Pro", ("8.6a", "8.5a", "8.4a", "8.3a", "8.2a", "8.1a", "8a")),
    ],
)
def test_macos_brand_string_selects_the_apple_target(brand: str, version: tuple[str, ...]) -> None:
    info = darwin_cpu({"machdep.cpu.brand_string": brand}, "arm64")
    configs = AArch64Provider.from_host(info, {}).get_supported_configs()
    assert configs[0] == F("version", version)
    assert len(configs) > 1


def test_windows_arm64_without_features_is_8a_only() -> None:
    from wheelnext_jupyter.host.cpu import CpuInfo

    info = CpuInfo(architecture="aarch64", system="windows", source="none")
    assert AArch64Provider.from_host(info, {}).get_supported_configs() == [F("version", ("8a",))]


@pytest.mark.parametrize(("name", "value"), [("aarch64", "8a"), ("armv8.2a", "8.2a")])
def test_version_names(name: str, value: str) -> None:
    assert version_name(name) == value


def test_unexpected_version_name_says_what_to_update() -> None:
    with pytest.raises(UnexpectedArchspecName, match="version mapping"):
        version_name("neoverse_n1")


def test_deviations_are_documented() -> None:
    assert AArch64Provider.deviations
