"""Variant compatibility, PEP 825 ordering, user controls and the reasons given for each verdict."""

from __future__ import annotations

import pytest
from packaging.tags import Tag

from tests.variants.builders import (
    configs,
    cuda_lower_bounds,
    metadata,
    sm_arch,
    static_provider,
)
from wheelnext_jupyter.variants.filename import parse_wheel_filename
from wheelnext_jupyter.variants.metadata import ProviderInfo
from wheelnext_jupyter.variants.ordering import (
    Preference,
    SelectionOptions,
    order_variants,
    order_wheels,
    supported_properties,
)
from wheelnext_jupyter.variants.properties import VariantProperty
from wheelnext_jupyter.variants.support import resolve_support

LINUX_X86 = {"platform_machine": "x86_64", "platform_system": "Linux", "sys_platform": "linux"}
LINUX_ARM = {"platform_machine": "aarch64", "platform_system": "Linux", "sys_platform": "linux"}


def select(md, supported, *, env=LINUX_X86, enabled=(), unavailable=None, **options):
    support = resolve_support(
        md, supported, environment=env, enabled_optional=enabled, unavailable=unavailable
    )
    return order_variants(md, support, SelectionOptions(**options))


# --- compatibility ---------------------------------------------------------------------------


def test_variant_needs_a_supported_value_for_every_feature():
    md = metadata(
        ["x"],
        {
            "both": {"x": {"a": ["1"], "b": ["2"]}},
            "only_a": {"x": {"a": ["1"]}},
            "a_and_bad_b": {"x": {"a": ["1"], "b": ["9"]}},
        },
    )
    result = select(md, {"x": configs({"a": ["1"], "b": ["2"]})})
    assert result.verdict("both").compatible
    assert result.verdict("only_a").compatible
    assert not result.verdict("a_and_bad_b").compatible


def test_one_supported_value_of_a_multi_value_feature_is_enough():
    md = metadata(["nvidia"], {"cu": {"nvidia": {"sm_arch": ["120_real", "86_real", "90_real"]}}})
    result = select(md, {"nvidia": configs({"sm_arch": sm_arch(8, 6)}, multi=["sm_arch"])})
    assert result.order == ("cu",)


def test_null_variant_is_always_compatible_and_sorts_after_every_other_variant():
    md = metadata(["x"], {"null": None, "a": {"x": {"f": ["1"]}}, "zzz": {"x": {"f": ["2"]}}})
    result = select(md, {"x": configs({"f": ["2", "1"]})})
    assert result.order == ("zzz", "a", "null")
    only_null = select(md, {})
    assert only_null.order == ("null",)
    assert "null variant" in only_null.verdict("null").reasons[0]


def test_incompatible_reason_names_feature_needed_and_supported_values():
    md = metadata(["x86_64"], {"x8664v4": {"x86_64": {"level": ["v4"]}}})
    result = select(md, {"x86_64": configs({"level": ["v3", "v2", "v1"]})})
    verdict = result.verdict("x8664v4")
    assert verdict.verdict == "incompatible"
    (reason,) = verdict.reasons
    assert "x86_64 :: level" in reason
    assert "v4" in reason
    assert "v3, v2, v1" in reason


def test_feature_the_target_lacks_is_named():
    md = metadata(["x86_64"], {"avx": {"x86_64": {"avx512f": ["on"]}}})
    reason = select(md, {"x86_64": configs({"level": ["v3"]})}).verdict("avx").reasons[0]
    assert "x86_64 :: avx512f" in reason
    assert "does not provide" in reason


def test_every_failing_feature_is_reported_not_only_the_first():
    md = metadata(["x"], {"v": {"x": {"a": ["9"], "b": ["9"]}}})
    reasons = select(md, {"x": configs({"a": ["1"], "b": ["1"]})}).verdict("v").reasons
    assert len(reasons) == 2


def test_namespace_without_provider_or_profile_entry_is_unsupported_with_reason():
    md = metadata(["amd"], {"rocm6.4": {"amd": {"gfx_arch": ["gfx90a"]}}, "null": None})
    result = select(md, {})
    assert result.order == ("null",)
    assert "`amd` is not supported on this target" in result.verdict("rocm6.4").reasons[0]


def test_reason_from_the_provider_layer_replaces_the_generic_one():
    md = metadata(["fancy"], {"f": {"fancy": {"x": ["1"]}}})
    reason = "plugin fancy-provider 1.0 is not trusted; trust it with --trust-provider fancy-provider==1.0"
    result = select(md, {}, unavailable={"fancy": reason})
    assert result.verdict("f").reasons == (reason,)


def test_optional_provider_is_off_until_enabled():
    md = metadata(
        ["x"],
        {"v": {"x": {"f": ["1"]}}},
        providers={"x": ProviderInfo("x", requires=("x-provider",), optional=True)},
    )
    supported = {"x": configs({"f": ["1"]})}
    off = select(md, supported)
    assert off.order == ()
    assert "--enable-provider x" in off.verdict("v").reasons[0]
    assert select(md, supported, enabled=["x"]).order == ("v",)


def test_enable_if_is_evaluated_against_the_target_environment():
    md = metadata(
        ["x86_64"],
        {"v3": {"x86_64": {"level": ["v3"]}}},
        providers={
            "x86_64": ProviderInfo(
                "x86_64",
                requires=("provider-variant-x86-64",),
                enable_if="platform_machine == 'x86_64' or platform_machine == 'AMD64'",
            )
        },
    )
    supported = {"x86_64": configs({"level": ["v3"]})}
    assert select(md, supported, env=LINUX_X86).order == ("v3",)
    on_arm = select(md, supported, env=LINUX_ARM)
    assert on_arm.order == ()
    reason = on_arm.verdict("v3").reasons[0]
    assert "platform_machine == 'x86_64'" in reason
    assert "'aarch64'" in reason


def test_invalid_enable_if_disables_the_namespace_instead_of_crashing():
    md = metadata(
        ["x"], {"v": {"x": {"f": ["1"]}}}, providers={"x": ProviderInfo("x", enable_if="((")}
    )
    result = select(md, {"x": configs({"f": ["1"]})})
    assert result.order == ()
    assert "invalid" in result.verdict("v").reasons[0]


def test_ahead_of_time_provider_uses_static_values_even_without_target_support():
    md = metadata(
        ["blas_lapack"],
        {"openblas": {"blas_lapack": {"provider": ["openblas"]}}},
        providers={
            "blas_lapack": static_provider("blas_lapack", {"provider": ["openblas", "mkl"]})
        },
    )
    result = select(md, {})
    assert result.order == ("openblas",)
    assert result.namespaces["blas_lapack"].source == "static"


def test_ahead_of_time_static_values_win_over_target_values():
    md = metadata(
        ["blas_lapack"],
        {"mkl": {"blas_lapack": {"provider": ["mkl"]}}},
        providers={"blas_lapack": static_provider("blas_lapack", {"provider": ["openblas"]})},
    )
    result = select(md, {"blas_lapack": configs({"provider": ["mkl"]})})
    assert result.order == ()


def test_ahead_of_time_provider_without_static_values_is_disabled():
    md = metadata(
        ["omp"],
        {"gnu": {"omp": {"provider": ["gnu"]}}},
        providers={"omp": ProviderInfo("omp", install_time=False)},
    )
    result = select(md, {"omp": configs({"provider": ["gnu"]})})
    assert "no static properties" in result.verdict("gnu").reasons[0]


def test_several_values_for_a_single_value_feature_disqualify_the_variant():
    md = metadata(["x86_64"], {"odd": {"x86_64": {"level": ["v3", "v4"]}}})
    result = select(md, {"x86_64": configs({"level": ["v4", "v3"]})})
    assert result.verdict("odd").verdict == "incompatible"
    assert "single-valued" in result.verdict("odd").reasons[0]


def test_invalid_variant_entry_is_never_selected_and_says_why():
    md = metadata(["x"], {"ok": {"x": {"f": ["1"]}}}, invalid={"bad": "property 'X :: f :: 1'"})
    result = select(md, {"x": configs({"f": ["1"]})})
    assert result.order == ("ok",)
    assert result.verdict("bad").verdict == "invalid"
    assert "X :: f :: 1" in result.verdict("bad").reasons[0]


def test_unusable_metadata_makes_every_variant_unsupported():
    md = metadata(["x"], {"a": {"x": {"f": ["1"]}}, "null": None}, unusable="schema v9 unknown")
    result = select(md, {"x": configs({"f": ["1"]})})
    assert result.order == ()
    assert {v.verdict for v in result.verdicts} == {"invalid"}
    assert result.verdict("null").reasons == ("schema v9 unknown",)


# --- ordering --------------------------------------------------------------------------------


def _torch_like():
    """Shaped like the published torch 2.9.0 index file (CUDA, ROCm, XPU, AoT `priority`)."""
    nv_provider = ProviderInfo(
        "nvidia",
        requires=("nvidia-variant-provider>=0.0.2,<1.0.0",),
        plugin_api="nvidia_variant_provider.plugin:NvidiaVariantPlugin",
        enable_if="platform_system == 'Linux' or platform_system == 'Windows'",
    )
    sm_126 = ["50_real", "60_real", "70_real", "75_real", "80_real", "86_real", "90_real"]
    sm_128 = ["70_real", "75_real", "80_real", "86_real", "90_real", "100_real", "120_real"]
    sm_130 = ["75_real", "80_real", "86_real", "90_real", "100_real", "120_real", "120_virtual"]
    return metadata(
        ["nvidia", "intel", "amd", "priority"],
        {
            "cuda12.6": {
                "nvidia": {"cuda_version_lower_bound": ["12.0"], "sm_arch": sm_126},
                "priority": {"order": ["3"]},
            },
            "cuda12.8": {
                "nvidia": {"cuda_version_lower_bound": ["12.0"], "sm_arch": sm_128},
                "priority": {"order": ["2"]},
            },
            "cuda13.0": {
                "nvidia": {"cuda_version_lower_bound": ["13.0"], "sm_arch": sm_130},
                "priority": {"order": ["1"]},
            },
            "rocm6.4": {"amd": {"gfx_arch": ["gfx90a", "gfx942"], "rocm_version": ["6.4"]}},
            "xpu": {"intel": {"device_ip": ["12.60.7", "20.1.0"]}},
            "null": None,
        },
        providers={
            "nvidia": nv_provider,
            "amd": ProviderInfo("amd", requires=("amd-variant-provider",)),
            "intel": ProviderInfo("intel", requires=("intel-variant-provider",)),
            "priority": static_provider("priority", {"order": ["1", "2", "3"]}),
        },
        value_priorities={"priority": {"order": ("1", "2", "3")}},
    )


def _nvidia(umd: tuple[int, int], cc: tuple[int, int]):
    return {
        "nvidia": configs(
            {"cuda_version_lower_bound": cuda_lower_bounds(*umd), "sm_arch": sm_arch(*cc)},
            multi=["sm_arch"],
        )
    }


def test_torch_like_on_cuda_12_9_ampere_prefers_cuda_12_8():
    # Same outcome variantlib documents for this host: cuda13.0 needs a 13.x driver.
    result = select(_torch_like(), _nvidia((12, 9), (8, 6)))
    assert result.order == ("cuda12.8", "cuda12.6", "null")
    assert "13.0" in " ".join(result.verdict("cuda13.0").reasons)


def test_torch_like_on_cuda_13_blackwell_prefers_cuda_13_0():
    result = select(_torch_like(), _nvidia((13, 0), (12, 0)))
    assert result.order == ("cuda13.0", "cuda12.8", "null")
    # cuda12.6 has no kernels for compute capability 12.0.
    assert "120_real" in result.verdict("cuda12.6").reasons[0]


def test_torch_like_on_a_cpu_only_host_picks_null_and_explains_each_gpu_build():
    result = select(_torch_like(), {})
    assert result.order == ("null",)
    assert "`nvidia` is not supported" in result.verdict("cuda12.8").reasons[0]
    assert "`amd` is not supported" in result.verdict("rocm6.4").reasons[0]
    assert "`intel` is not supported" in result.verdict("xpu").reasons[0]


def test_torch_like_nvidia_disabled_on_macos_by_enable_if():
    env = {"platform_system": "Darwin", "platform_machine": "arm64"}
    result = select(_torch_like(), _nvidia((12, 9), (8, 6)), env=env)
    assert result.order == ("null",)
    assert "'Darwin'" in result.verdict("cuda12.8").reasons[0]


def _numpy_like():
    """Shaped like the published numpy 2.3.4 index file: x86-64 level plus an AoT BLAS provider."""
    return metadata(
        ["x86_64", "aarch64", "blas_lapack"],
        {
            "accelerate": {"blas_lapack": {"provider": ["accelerate"]}},
            "openblas": {"blas_lapack": {"provider": ["openblas"]}},
            "x8664v4_mkl": {"blas_lapack": {"provider": ["mkl"]}, "x86_64": {"level": ["v4"]}},
        },
        providers={
            "x86_64": ProviderInfo(
                "x86_64",
                requires=("provider-variant-x86-64",),
                enable_if="platform_machine == 'x86_64' or platform_machine == 'AMD64'",
            ),
            "aarch64": ProviderInfo(
                "aarch64",
                requires=("provider-variant-aarch64",),
                enable_if="platform_machine == 'aarch64' or 'arm' in platform_machine",
            ),
            "blas_lapack": static_provider(
                "blas_lapack", {"provider": ["accelerate", "openblas", "mkl"]}
            ),
        },
    )


def test_numpy_like_on_x86_64_v4_prefers_the_level_variant():
    result = select(_numpy_like(), {"x86_64": configs({"level": ["v4", "v3", "v2", "v1"]})})
    assert result.order == ("x8664v4_mkl", "accelerate", "openblas")
    assert "x86_64" in result.verdict("x8664v4_mkl").reasons[0]


def test_numpy_like_on_x86_64_v3_falls_back_to_blas_order():
    result = select(_numpy_like(), {"x86_64": configs({"level": ["v3", "v2", "v1"]})})
    assert result.order == ("accelerate", "openblas")
    reason = result.verdict("openblas").reasons[0]
    assert "accelerate" in reason and "openblas" in reason


def test_numpy_like_on_aarch64_the_x86_variant_is_disabled_by_enable_if():
    result = select(
        _numpy_like(), {"x86_64": configs({"level": ["v4"]})}, env=LINUX_ARM
    )  # a wrong profile entry cannot enable a namespace whose enable-if is false
    assert result.order == ("accelerate", "openblas")
    assert "enable" not in result.verdict("x8664v4_mkl").reasons[0].split("applies")[0]
    assert "platform_machine" in result.verdict("x8664v4_mkl").reasons[0]


def _pep825_example(with_priorities: bool):
    return metadata(
        ["x86_64", "aarch64", "blas_lapack"],
        {
            "x8664v3_openblas": {
                "blas_lapack": {"library": ["openblas"]},
                "x86_64": {"level": ["v3"]},
            },
            "x8664v4_mkl": {"blas_lapack": {"library": ["mkl"]}, "x86_64": {"level": ["v4"]}},
            "openblas": {"blas_lapack": {"library": ["openblas"]}},
            "mkl": {"blas_lapack": {"library": ["mkl"]}},
        },
        feature_priorities={"blas_lapack": ("library",)} if with_priorities else None,
        value_priorities={"blas_lapack": {"library": ("mkl", "openblas")}}
        if with_priorities
        else None,
    )


def test_pep825_example_higher_namespace_decides_first():
    supported = {
        "x86_64": configs({"level": ["v4", "v3", "v2", "v1"]}),
        "blas_lapack": configs({"library": ["openblas", "mkl"]}),
    }
    result = select(_pep825_example(True), supported)
    assert result.order == ("x8664v4_mkl", "x8664v3_openblas", "mkl", "openblas")


def test_default_priorities_property_puts_package_preferred_values_first():
    supported = {"blas_lapack": configs({"library": ["openblas", "mkl"]})}
    assert select(_pep825_example(False), supported).order == ("openblas", "mkl")
    assert select(_pep825_example(True), supported).order == ("mkl", "openblas")


def test_default_priorities_feature_puts_package_preferred_features_first():
    md = metadata(
        ["x"],
        {"has_a": {"x": {"a": ["1"]}}, "has_b": {"x": {"b": ["1"]}}},
        feature_priorities={"x": ("b",)},
    )
    supported = {"x": configs({"a": ["1"], "b": ["1"]})}
    assert select(md, supported).order == ("has_b", "has_a")


def test_best_value_of_a_multi_value_feature_decides():
    md = metadata(
        ["nvidia"],
        {
            "wide": {"nvidia": {"sm_arch": ["80_real", "86_real"]}},
            "old": {"nvidia": {"sm_arch": ["80_real", "80_virtual"]}},
        },
    )
    result = select(md, {"nvidia": configs({"sm_arch": sm_arch(8, 6)}, multi=["sm_arch"])})
    assert result.order == ("wide", "old")
    assert "86_real" in result.verdict("wide").reasons[0]


def test_more_matching_properties_win_when_the_common_part_ties():
    md = metadata(
        ["x"],
        {"short": {"x": {"a": ["1"]}}, "long": {"x": {"a": ["1"], "b": ["1"]}}},
    )
    result = select(md, {"x": configs({"a": ["1"], "b": ["1"]})})
    assert result.order == ("long", "short")
    assert "more properties" in result.verdict("long").reasons[0]


def test_equal_properties_fall_back_to_the_label_ascending():
    md = metadata(["x"], {"b_label": {"x": {"a": ["1"]}}, "a_label": {"x": {"a": ["1"]}}})
    result = select(md, {"x": configs({"a": ["1"]})})
    assert result.order == ("a_label", "b_label")
    assert "by label" in result.verdict("a_label").reasons[0]


def test_namespace_priority_beats_feature_count():
    md = metadata(
        ["gpu", "cpu"],
        {"cpu_rich": {"cpu": {"a": ["1"], "b": ["1"], "c": ["1"]}}, "gpu": {"gpu": {"a": ["1"]}}},
    )
    supported = {"gpu": configs({"a": ["1"]}), "cpu": configs({"a": ["1"], "b": ["1"], "c": ["1"]})}
    result = select(md, supported)
    assert result.order == ("gpu", "cpu_rich")
    assert "namespace `gpu`" in result.verdict("gpu").reasons[0]


def test_abi_dependency_namespace_sorts_after_ranked_namespaces():
    md = metadata(
        ["x"],
        {
            "abi": {"abi_dependency": {"torch": ["2.9"]}},
            "plain": {"x": {"a": ["1"]}},
        },
    )
    supported = {
        "x": configs({"a": ["1"]}),
        "abi_dependency": configs({"torch": ["2.9.1", "2.9", "2"]}),
    }
    assert select(md, supported).order == ("plain", "abi")
    assert select(md, {"x": configs({"a": ["1"]})}).verdict("abi").verdict == "incompatible"


# --- user controls ---------------------------------------------------------------------------


def test_excluding_a_label_removes_it_and_says_so():
    result = select(_torch_like(), _nvidia((13, 0), (9, 0)), exclude=frozenset({"cuda13.0"}))
    assert result.order == ("cuda12.8", "cuda12.6", "null")
    assert result.verdict("cuda13.0").verdict == "excluded"


def test_selecting_a_compatible_label_picks_exactly_that_one():
    result = select(_torch_like(), _nvidia((13, 0), (9, 0)), select="cuda12.6")
    assert result.order == ("cuda12.6",)
    assert "--variant cuda12.6" in result.verdict("cuda12.6").reasons[0]
    assert result.verdict("cuda13.0").verdict == "excluded"


def test_selecting_an_unsupported_label_never_selects_it():
    result = select(_torch_like(), _nvidia((12, 4), (8, 6)), select="cuda13.0")
    assert result.order == ()
    assert "--variant cuda13.0" in result.verdict("cuda13.0").reasons[0]


def test_selecting_an_unknown_label_is_reported():
    result = select(_torch_like(), {}, select="cu999")
    assert result.order == ()
    assert any("cu999" in d for d in result.diagnostics)


def test_prefer_namespace_moves_it_first():
    md = metadata(["a", "b"], {"va": {"a": {"f": ["1"]}}, "vb": {"b": {"f": ["1"]}}})
    supported = {"a": configs({"f": ["1"]}), "b": configs({"f": ["1"]})}
    assert select(md, supported).order == ("va", "vb")
    assert select(md, supported, prefer=(Preference.parse("b"),)).order == ("vb", "va")


def test_prefer_feature_and_value_reorder_within_supported_values():
    md = metadata(
        ["x"],
        {"f1": {"x": {"f": ["1"]}}, "f2": {"x": {"f": ["2"]}}, "g": {"x": {"g": ["1"]}}},
    )
    supported = {"x": configs({"f": ["1", "2"], "g": ["1"]})}
    assert select(md, supported).order == ("f1", "f2", "g")
    assert select(md, supported, prefer=(Preference.parse("x::f::2"),)).order == ("f2", "f1", "g")
    assert select(md, supported, prefer=(Preference.parse("x :: g"),)).order == ("g", "f1", "f2")


def test_preferring_an_unsupported_value_never_selects_it():
    md = metadata(["x"], {"good": {"x": {"f": ["1"]}}, "bad": {"x": {"f": ["9"]}}})
    result = select(md, {"x": configs({"f": ["1"]})}, prefer=(Preference.parse("x::f::9"),))
    assert result.order == ("good",)
    assert any("x :: f :: 9" in d for d in result.diagnostics)


def test_invalid_preference_text_is_rejected_with_the_expected_shape():
    with pytest.raises(ValueError, match="NAMESPACE::FEATURE::VALUE"):
        Preference.parse("Bad Namespace")


# --- wheels ----------------------------------------------------------------------------------


def test_wheels_order_variants_then_null_then_non_variant_then_tags_and_build():
    md = metadata(["x"], {"fast": {"x": {"f": ["1"]}}, "null": None, "nope": {"x": {"f": ["9"]}}})
    selection = select(md, {"x": configs({"f": ["1"]})})
    names = [
        "pkg-1.0-py3-none-any.whl",
        "pkg-1.0-py3-none-any-null.whl",
        "pkg-1.0-py3-none-any-nope.whl",
        "pkg-1.0-py3-none-any-fast.whl",
        "pkg-1.0-cp311-cp311-linux_x86_64-fast.whl",
        "pkg-1.0-1-py3-none-any-fast.whl",
        "pkg-1.0-2-py3-none-any-fast.whl",
        "pkg-1.0-cp39-cp39-win_amd64.whl",
    ]
    tags = [Tag("cp311", "cp311", "linux_x86_64"), Tag("py3", "none", "any")]
    ordered = order_wheels([parse_wheel_filename(n) for n in names], selection, tags)
    assert [w.format() for w in ordered] == [
        "pkg-1.0-cp311-cp311-linux_x86_64-fast.whl",
        "pkg-1.0-2-py3-none-any-fast.whl",
        "pkg-1.0-1-py3-none-any-fast.whl",
        "pkg-1.0-py3-none-any-fast.whl",
        "pkg-1.0-py3-none-any-null.whl",
        "pkg-1.0-py3-none-any.whl",
    ]


def test_tags_given_as_ranks_order_wheels_as_the_list_they_come_from():
    names = [
        "pkg-1.0-py3-none-any.whl",
        "pkg-1.0-cp311-cp311-linux_x86_64.whl",
        "pkg-1.0-cp39-cp39-win_amd64.whl",
    ]
    wheels = [parse_wheel_filename(n) for n in names]
    tags = [Tag("cp311", "cp311", "linux_x86_64"), Tag("py3", "none", "any")]
    # Listed in the other order than they rank: the ranks count, not the mapping's order.
    ranks = {tags[1]: 1, tags[0]: 0}
    by_ranks = order_wheels(wheels, None, ranks)
    assert by_ranks == order_wheels(wheels, None, tags)
    assert [w.format() for w in by_ranks] == names[1::-1]


def test_without_usable_metadata_only_non_variant_wheels_remain():
    names = ["pkg-1.0-py3-none-any-fast.whl", "pkg-1.0-py3-none-any.whl"]
    ordered = order_wheels(
        [parse_wheel_filename(n) for n in names], None, [Tag("py3", "none", "any")]
    )
    assert [w.label for w in ordered] == [None]


def test_supported_properties_narrow_to_what_the_target_supports():
    md = metadata(["nvidia"], {"cu": {"nvidia": {"sm_arch": ["110_real", "120_real"]}}})
    supported = {"nvidia": configs({"sm_arch": sm_arch(12, 0)}, multi=["sm_arch"])}
    support = resolve_support(md, supported, environment=LINUX_X86)
    narrowed = supported_properties(md.variants["cu"], support)
    assert narrowed == {VariantProperty("nvidia", "sm_arch", "120_real")}


def test_json_shape_lists_order_and_every_variant():
    result = select(_torch_like(), _nvidia((12, 9), (8, 6)))
    doc = result.to_json()
    assert doc["order"] == ["cuda12.8", "cuda12.6", "null"]
    labels = [v["label"] for v in doc["variants"]]
    assert sorted(labels) == ["cuda12.6", "cuda12.8", "cuda13.0", "null", "rocm6.4", "xpu"]
    first = doc["variants"][0]
    assert first["compatible"] is True
    assert "nvidia :: cuda_version_lower_bound :: 12.0" in first["properties"]
    assert all(v["reasons"] for v in doc["variants"])


def test_legacy_hash_label_of_the_null_variant_maps_through_aliases():
    md = metadata(["x"], {"null": None})
    selection = select(md, {})
    wheel = parse_wheel_filename("pkg-1.0-py3-none-any-00000000.whl")
    tags = [Tag("py3", "none", "any")]
    assert order_wheels([wheel], selection, tags) == []
    assert order_wheels([wheel], selection, tags, aliases={"00000000": "null"}) == [wheel]
