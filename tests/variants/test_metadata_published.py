"""The real published index files read with the labels, properties, providers and priorities that
the JSON says (expected values copied by hand from the files in tests/data/variants-json/)."""

from __future__ import annotations

from pathlib import Path

import pytest

from wheelnext_jupyter.variants.metadata import (
    ProviderInfo,
    VariantMetadata,
    read_variant_metadata,
)
from wheelnext_jupyter.variants.properties import VariantFeatureConfig, VariantProperty

DATA = Path(__file__).parent.parent / "data" / "variants-json"


def read(relative: str) -> VariantMetadata:
    path = DATA / relative
    return read_variant_metadata(path.read_bytes(), source=path.name)


def props(*texts: str) -> tuple[VariantProperty, ...]:
    return tuple(sorted(VariantProperty.parse(text) for text in texts))


@pytest.mark.parametrize(
    "relative",
    [
        "v0.0.2/cupy-13.6.0-variants.json",
        "v0.0.2/numpy-2.3.4-variants.json",
        "v0.0.3/cupy-13.6.0-variants.json",
        "v0.0.3/numpy-2.3.4-variants.json",
        "v0.0.3/torch-2.9.0-variants.json",
    ],
)
def test_published_file_reads_without_invalid_variants_or_diagnostics(relative: str) -> None:
    metadata = read(relative)
    assert metadata.unusable is None
    assert metadata.invalid_variants == {}
    assert metadata.diagnostics == ()


class TestTorch290:
    metadata = read("v0.0.3/torch-2.9.0-variants.json")

    def test_schema_version(self) -> None:
        assert self.metadata.schema_version == "0.0.3"

    def test_labels(self) -> None:
        assert set(self.metadata.variants) == {
            "cuda12.6",
            "cuda12.8",
            "cuda13.0",
            "null",
            "rocm6.3",
            "rocm6.4",
            "xpu",
        }

    def test_namespace_priorities(self) -> None:
        assert self.metadata.namespace_priorities == ("nvidia", "intel", "amd", "priority")

    def test_cuda13_properties(self) -> None:
        assert self.metadata.variants["cuda13.0"].properties == props(
            "nvidia :: cuda_version_lower_bound :: 13.0",
            "nvidia :: sm_arch :: 75_real",
            "nvidia :: sm_arch :: 80_real",
            "nvidia :: sm_arch :: 86_real",
            "nvidia :: sm_arch :: 90_real",
            "nvidia :: sm_arch :: 100_real",
            "nvidia :: sm_arch :: 120_real",
            "nvidia :: sm_arch :: 120_virtual",
            "priority :: order :: 1",
        )

    def test_xpu_properties(self) -> None:
        assert self.metadata.variants["xpu"].properties == props(
            *(
                f"intel :: device_ip :: {v}"
                for v in ("12.55.8", "12.60.7", "12.71.4", "12.74.4", "20.1.0", "20.4.4")
            )
        )

    def test_null_variant_has_no_properties(self) -> None:
        assert self.metadata.variants["null"].properties == ()

    def test_install_time_provider(self) -> None:
        assert self.metadata.providers["amd"] == ProviderInfo(
            namespace="amd",
            requires=("amd-variant-provider>=0.0.2,<1.0.0",),
            plugin_api="amd_variant_provider.plugin:AMDVariantPlugin",
            enable_if="platform_system == 'Linux'",
        )

    def test_priority_namespace_is_ahead_of_time_with_static_values(self) -> None:
        provider = self.metadata.providers["priority"]
        assert provider.is_ahead_of_time
        assert provider.requires == ()
        assert provider.static_properties == (VariantFeatureConfig("order", ("1", "2", "3")),)

    def test_value_priorities(self) -> None:
        assert self.metadata.value_priorities == {"priority": {"order": ("1", "2", "3")}}
        assert self.metadata.feature_priorities == {}


class TestNumpy234:
    metadata = read("v0.0.3/numpy-2.3.4-variants.json")

    def test_labels_and_namespaces(self) -> None:
        assert set(self.metadata.variants) == {"accelerate", "openblas", "x8664v4_mkl"}
        assert self.metadata.namespace_priorities == ("x86_64", "aarch64", "blas_lapack")

    def test_two_namespace_variant(self) -> None:
        assert self.metadata.variants["x8664v4_mkl"].properties == props(
            "blas_lapack :: provider :: mkl", "x86_64 :: level :: v4"
        )

    def test_install_time_defaults_to_true_and_optional_to_false(self) -> None:
        aarch64 = self.metadata.providers["aarch64"]
        assert aarch64.install_time is True
        assert aarch64.optional is False
        assert aarch64.enable_if == "platform_machine == 'aarch64' or 'arm' in platform_machine"
        assert aarch64.plugin_api == "provider_variant_aarch64.plugin:AArch64Plugin"
        assert aarch64.requires == ("provider-variant-aarch64",)

    def test_blas_lapack_static_values_keep_the_files_preference_order(self) -> None:
        blas = self.metadata.providers["blas_lapack"]
        assert blas.install_time is False
        assert blas.requires == ("blas-lapack-variant-provider",)
        assert blas.static_properties == (
            VariantFeatureConfig("provider", ("accelerate", "openblas", "mkl")),
        )


def test_numpy_in_the_v002_tree_is_really_v003_and_reads_the_same() -> None:
    in_v002_tree = read("v0.0.2/numpy-2.3.4-variants.json")
    in_v003_tree = read("v0.0.3/numpy-2.3.4-variants.json")
    assert in_v002_tree.schema_version == "0.0.3"
    assert in_v002_tree.variants == in_v003_tree.variants
    assert in_v002_tree.providers == in_v003_tree.providers


class TestCupyV002:
    metadata = read("v0.0.2/cupy-13.6.0-variants.json")

    def test_schema_version(self) -> None:
        assert self.metadata.schema_version == "0.0.2"

    def test_provider_without_plugin_use_is_install_time(self) -> None:
        nvidia = self.metadata.providers["nvidia"]
        assert nvidia.install_time is True
        assert nvidia.enable_if == "platform_system == 'Linux'"
        assert nvidia.requires == ("nvidia-variant-provider>=0.0.2,<1.0.0",)

    def test_cu11_properties(self) -> None:
        sm = ("35", "37", "50", "52", "60", "61", "70", "75", "80", "86", "89", "90")
        assert self.metadata.variants["cu11"].properties == props(
            "nvidia :: cuda_version_lower_bound :: 11.0",
            *(f"nvidia :: sm_arch :: {v}_real" for v in sm),
            "nvidia :: sm_arch :: 90_virtual",
        )

    def test_same_content_as_the_v003_file(self) -> None:
        v003 = read("v0.0.3/cupy-13.6.0-variants.json")
        assert self.metadata.variants == v003.variants
        assert self.metadata.providers == v003.providers
        assert self.metadata.namespace_priorities == v003.namespace_priorities == ("nvidia",)
