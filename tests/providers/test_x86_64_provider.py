"""The built-in `x86_64` provider against hand-written expectations from the plugin's algorithm.

Expected lists walk the plugin's 56 candidates in order and keep those in archspec's matched target
(its JSON feature list, plus `sse3` which archspec derives from `ssse3`).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from wheelnext_jupyter.host.cpu import detect_cpu, match_target
from wheelnext_jupyter.providers.base import VariantProvider
from wheelnext_jupyter.providers.builtin.x86_64 import FEATURES, X8664Provider
from wheelnext_jupyter.variants.properties import VariantFeatureConfig as F

DATA = Path(__file__).resolve().parents[1] / "data" / "cpuinfo"
ON = ("on",)


def provider_for(tmp_path: Path, name: str, machine: str = "x86_64") -> X8664Provider:
    (tmp_path / "proc").mkdir()
    shutil.copyfile(DATA / name, tmp_path / "proc" / "cpuinfo")
    return X8664Provider.from_host(detect_cpu(root=tmp_path, machine=machine), {})


def test_provider_satisfies_the_protocol() -> None:
    assert isinstance(X8664Provider(None), VariantProvider)
    assert X8664Provider.namespace == "x86_64"
    assert "provider_variant_x86_64.plugin:X8664Plugin" in X8664Provider.plugin_apis


def test_haswell_configs(tmp_path: Path) -> None:
    # haswell target: generic x86_64_v3; ISA features abm aes avx avx2 bmi1 bmi2 cx16 f16c fma
    # lahf_lm mmx movbe pclmulqdq popcnt rdrand sse sse2 sse4_1 sse4_2 ssse3 xsave (+ sse3 alias).
    # fsgsbase is in the raw flags but not in the target, so it is not reported.
    assert provider_for(tmp_path, "linux-rhel7-haswell").get_supported_configs() == [
        F("level", ("v3", "v2", "v1")),
        F("avx2", ON), F("avx", ON), F("bmi2", ON), F("bmi1", ON), F("abm", ON), F("f16c", ON),
        F("fma", ON), F("movbe", ON), F("xsave", ON), F("rdrand", ON), F("aes", ON),
        F("pclmulqdq", ON), F("sse4_2", ON), F("sse4_1", ON), F("ssse3", ON), F("sse3", ON),
        F("cx16", ON), F("lahf_lm", ON), F("popcnt", ON), F("sse2", ON), F("sse", ON),
        F("mmx", ON),
    ]  # fmt: skip


def test_zen5_configs(tmp_path: Path) -> None:
    # zen5 target (generic x86_64_v4), 50 of the candidates; not cppc/ibrs_enhanced in archspec
    # 0.2.7, not rdpid/sha_ni (zen5 lists neither), not adx/rdrand (absent from its JSON list).
    assert provider_for(tmp_path, "linux-rocky9-zen5").get_supported_configs() == [
        F("level", ("v4", "v3", "v2", "v1")),
        F("avx_vnni", ON), F("tsc_adjust", ON), F("flush_l1d", ON), F("movdir64b", ON),
        F("movdiri", ON), F("avx512_bf16", ON), F("avx512_bitalg", ON), F("avx512_vbmi2", ON),
        F("avx512_vnni", ON), F("avx512_vp2intersect", ON), F("avx512_vpopcntdq", ON),
        F("avx512ifma", ON), F("avx512vbmi", ON), F("vaes", ON), F("vpclmulqdq", ON),
        F("clwb", ON), F("clzero", ON), F("avx512bw", ON), F("avx512cd", ON), F("avx512dq", ON),
        F("avx512f", ON), F("avx512vl", ON), F("clflushopt", ON), F("gfni", ON), F("rdseed", ON),
        F("xsavec", ON), F("xsaveopt", ON), F("avx2", ON), F("avx", ON), F("bmi2", ON),
        F("bmi1", ON), F("abm", ON), F("f16c", ON), F("fma", ON), F("movbe", ON), F("xsave", ON),
        F("aes", ON), F("pclmulqdq", ON), F("sse4a", ON), F("fsgsbase", ON), F("sse4_2", ON),
        F("sse4_1", ON), F("ssse3", ON), F("sse3", ON), F("cx16", ON), F("lahf_lm", ON),
        F("popcnt", ON), F("sse2", ON), F("sse", ON), F("mmx", ON),
    ]  # fmt: skip


def test_bulldozer_is_level_v2(tmp_path: Path) -> None:
    configs = provider_for(tmp_path, "linux-scientificfermi6-bulldozer").get_supported_configs()
    assert configs[0] == F("level", ("v2", "v1"))
    # bulldozer has avx and sse4a but not avx2 or fma in archspec's target
    names = [c.name for c in configs]
    assert "avx" in names
    assert "sse4a" in names
    assert "avx2" not in names
    assert "fma" not in names


def test_pre_v2_k10_is_unsupported(tmp_path: Path) -> None:
    # K10 matches archspec's plain `x86_64` generic (no ssse3/sse4): the plugin returns [].
    provider = provider_for(tmp_path, "linux-scientific7-k10")
    assert provider.get_supported_configs() == []


def test_k10_host_fact_still_says_psabi_v1(tmp_path: Path) -> None:
    (tmp_path / "proc").mkdir()
    shutil.copyfile(DATA / "linux-scientific7-k10", tmp_path / "proc" / "cpuinfo")
    assert detect_cpu(root=tmp_path, machine="x86_64").psabi_level == "v1"


@pytest.mark.parametrize(
    ("name", "machine"), [("linux-amazon-cortex_a72", "aarch64"), ("linux-rhel8-power9", "ppc64le")]
)
def test_other_architectures_are_unsupported(tmp_path: Path, name: str, machine: str) -> None:
    assert provider_for(tmp_path, name, machine).get_supported_configs() == []


@pytest.mark.parametrize(
    ("name", "levels"),
    [
        ("linux-centos7-cascadelake", ("v4", "v3", "v2", "v1")),
        ("linux-unknown-sapphirerapids", ("v4", "v3", "v2", "v1")),
        ("linux-rhel7-x86_64_v3", ("v3", "v2", "v1")),
        ("linux-ubuntu24.04-alderlake", ("v3", "v2", "v1")),
        ("linux-rhel7-ivybridge", ("v2", "v1")),
        ("linux-rhel6-piledriver", ("v2", "v1")),
    ],
)
def test_level_values_descend_from_the_generic_level(
    tmp_path: Path, name: str, levels: tuple[str, ...]
) -> None:
    assert provider_for(tmp_path, name).get_supported_configs()[0] == F("level", levels)


@pytest.mark.parametrize("name", ["linux-rhel7-haswell", "linux-unknown-sapphirerapids"])
def test_features_are_a_subset_of_the_kernel_flags_apart_from_sse3(
    tmp_path: Path, name: str
) -> None:
    provider = provider_for(tmp_path, name)
    flags = set(detect_cpu(root=tmp_path, machine="x86_64").flags) | {"sse3"}
    features = {c.name for c in provider.get_supported_configs()[1:]}
    assert features <= flags


def test_generic_x86_64_v3_target_reports_only_level_flags(tmp_path: Path) -> None:
    # The recording matched the generic x86_64_v3 target itself: its features are exactly the v3
    # set (archspec names) plus sse3.
    configs = provider_for(tmp_path, "linux-rhel7-x86_64_v3").get_supported_configs()
    assert [c.name for c in configs[1:]] == [
        "avx2", "avx", "bmi2", "bmi1", "abm", "f16c", "fma", "movbe", "xsave", "sse4_2",
        "sse4_1", "ssse3", "sse3", "cx16", "lahf_lm", "popcnt", "sse2", "sse", "mmx",
    ]  # fmt: skip


def test_values_are_on_and_not_multi_valued(tmp_path: Path) -> None:
    configs = provider_for(tmp_path, "linux-centos7-cascadelake").get_supported_configs()
    assert all(c.values == ON for c in configs[1:])
    assert not any(c.multi_value for c in configs)


def test_all_configs_list_every_level_and_feature() -> None:
    configs = X8664Provider(None).get_all_configs()
    assert configs[0] == F("level", ("v4", "v3", "v2", "v1"))
    assert [c.name for c in configs[1:]] == list(FEATURES)
    assert len(FEATURES) == 56
    assert FEATURES[:3] == ("avx_vnni", "cppc", "ibrs_enhanced")
    assert FEATURES[-3:] == ("sse2", "sse", "mmx")


def test_environment_is_ignored_like_the_plugin(tmp_path: Path) -> None:
    (tmp_path / "proc").mkdir()
    shutil.copyfile(DATA / "linux-rhel7-haswell", tmp_path / "proc" / "cpuinfo")
    info = detect_cpu(root=tmp_path, machine="x86_64")
    plain = X8664Provider.from_host(info, {}).get_supported_configs()
    assert (
        X8664Provider.from_host(info, {"ARCHSPEC_CPU_DIR": "/nowhere"}).get_supported_configs()
        == plain
    )
    assert match_target(info) is not None


def test_deviations_are_documented() -> None:
    assert X8664Provider.deviations
    assert any("archspec" in text for text in X8664Provider.deviations)
