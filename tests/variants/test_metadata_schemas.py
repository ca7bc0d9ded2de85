"""Every published schema shape normalises into the same model (documents in
tests/data/variants-json/schemas/, shaped like the torch 2.9.0 and numpy 2.3.4 index files)."""

from __future__ import annotations

import json
from pathlib import Path

from variantlib.variants_json import VariantsJson

from wheelnext_jupyter.variants.metadata import (
    ProviderInfo,
    VariantMetadata,
    read_variant_metadata,
)
from wheelnext_jupyter.variants.properties import VariantFeatureConfig, VariantProperty

SCHEMAS = Path(__file__).parent.parent / "data" / "variants-json" / "schemas"


def read(name: str) -> VariantMetadata:
    return read_variant_metadata((SCHEMAS / name).read_text(), source=name)


def props(*texts: str) -> tuple[VariantProperty, ...]:
    return tuple(sorted(VariantProperty.parse(text) for text in texts))


class TestWheelNextV002:
    torch = read("torch-2.9.0-v0.0.2.json")
    numpy = read("numpy-2.3.4-v0.0.2.json")

    def test_schema_version(self) -> None:
        assert self.torch.schema_version == "0.0.2"

    def test_legacy_null_hash_is_renamed_to_null(self) -> None:
        assert set(self.torch.variants) == {"null", "25b88f99", "cfdbe307"}
        assert self.torch.variants["null"].properties == ()
        assert self.torch.label_aliases == {"00000000": "null"}

    def test_hash_labels_are_kept(self) -> None:
        assert self.torch.variants["cfdbe307"].properties == props(
            "nvidia :: cuda_version_lower_bound :: 12.0",
            "nvidia :: sm_arch :: 70_real",
            "nvidia :: sm_arch :: 80_real",
            "nvidia :: sm_arch :: 90_real",
            "priority :: order :: 2",
        )

    def test_plugin_use_all_is_install_time(self) -> None:
        assert self.torch.providers["nvidia"].install_time is True

    def test_plugin_use_none_is_ahead_of_time_with_property_priorities_as_values(self) -> None:
        priority = self.torch.providers["priority"]
        assert priority.install_time is False
        assert priority.static_properties == (VariantFeatureConfig("order", ("1", "2", "3")),)

    def test_plugin_use_build_is_ahead_of_time(self) -> None:
        blas = self.numpy.providers["blas_lapack"]
        assert blas.install_time is False
        assert blas.requires == ("blas-lapack-variant-provider",)
        assert blas.static_properties == (
            VariantFeatureConfig("provider", ("accelerate", "openblas", "mkl")),
        )

    def test_absent_plugin_use_means_all(self) -> None:
        assert self.numpy.providers["x86_64"].install_time is True

    def test_feature_and_value_priorities(self) -> None:
        assert self.numpy.feature_priorities == {"x86_64": ("level",)}
        assert self.numpy.value_priorities == {
            "blas_lapack": {"provider": ("accelerate", "openblas", "mkl")}
        }

    def test_nothing_invalid(self) -> None:
        assert self.torch.invalid_variants == {} == self.numpy.invalid_variants


class TestVariantlibV020:
    torch = read("torch-2.9.0-v0.2.0.json")
    numpy = read("numpy-2.3.4-v0.2.0.json")

    def test_schema_version_and_labels(self) -> None:
        assert self.torch.schema_version == "0.2.0"
        assert set(self.torch.variants) == {"cuda12.8", "null", "rocm6.4"}
        assert self.torch.diagnostics == ()

    def test_requires_means_install_time(self) -> None:
        assert self.torch.providers["nvidia"] == ProviderInfo(
            namespace="nvidia",
            requires=("nvidia-variant-provider>=0.0.2,<1.0.0",),
            plugin_api="nvidia_variant_provider.plugin:NvidiaVariantPlugin",
        )

    def test_optional_is_read(self) -> None:
        assert self.torch.providers["amd"].optional is True

    def test_static_properties_mean_ahead_of_time(self) -> None:
        priority = self.torch.providers["priority"]
        assert priority.is_ahead_of_time
        assert priority.static_properties == (VariantFeatureConfig("order", ("1", "2", "3")),)

    def test_feature_order_sets_the_feature_order_not_the_key_order(self) -> None:
        # The file's keys are sorted (interface, provider); feature-order says provider first.
        assert self.numpy.providers["blas_lapack"].static_properties == (
            VariantFeatureConfig("provider", ("accelerate", "openblas", "mkl")),
            VariantFeatureConfig("interface", ("lp64", "ilp64")),
        )

    def test_no_feature_or_value_priorities(self) -> None:
        assert self.numpy.feature_priorities == {} == self.numpy.value_priorities

    def test_output_of_variantlibs_writer_reads_the_same(self) -> None:
        original = json.loads((SCHEMAS / "numpy-2.3.4-v0.2.0.json").read_text())
        written = VariantsJson(original).to_str()
        again = read_variant_metadata(written, source="written")
        assert again.variants == self.numpy.variants
        assert again.providers == self.numpy.providers

    def test_builtin_provider(self) -> None:
        metadata = read_variant_metadata(
            {
                "$schema": "https://variants-schema.wheelnext.dev/v0.2.0.json",
                "default-priorities": {"namespace": ["x86_64"]},
                "providers": {"x86_64": {"builtin": "x86_64"}},
                "variants": {"v3": {"x86_64": {"level": ["v3"]}}},
            },
            source="t",
        )
        assert metadata.providers["x86_64"].builtin is True
        assert "v3" in metadata.variants


class TestPep825:
    torch = read("torch-2.9.0-pep825-v0.1.1.json")
    numpy = read("numpy-2.3.4-pep825-v0.1.1.json")

    def test_schema_version(self) -> None:
        assert self.torch.schema_version == "0.1.1"

    def test_namespaces_and_variants_without_providers(self) -> None:
        assert self.torch.namespace_priorities == ("nvidia", "amd", "priority")
        assert self.torch.providers == {}
        assert set(self.torch.variants) == {"cuda13.0", "null", "rocm6.4"}
        assert self.torch.invalid_variants == {}

    def test_rocm_properties(self) -> None:
        assert self.torch.variants["rocm6.4"].properties == props(
            "amd :: gfx_arch :: gfx1100", "amd :: gfx_arch :: gfx942", "amd :: rocm_version :: 6.4"
        )

    def test_label_longer_than_16_characters_is_valid_with_a_diagnostic(self) -> None:
        assert "x86_64_v3_openblas" in self.numpy.variants
        assert any("x86_64_v3_openblas" in d and "16" in d for d in self.numpy.diagnostics)

    def test_first_draft_has_feature_and_value_priorities(self) -> None:
        draft = read("numpy-2.3.4-pep825-v0.0.1.json")
        assert draft.schema_version == "0.0.1"
        assert draft.feature_priorities == {"x86_64": ("level",)}
        assert draft.value_priorities == {"blas_lapack": {"provider": ("openblas", "mkl")}}
        assert draft.providers == {}
        assert set(draft.variants) == {"x8664v3_openblas"}


class TestSameContentInEverySchema:
    """The numpy x86-64-v4 + MKL variant means the same properties in every shape."""

    def test_mkl_variant(self) -> None:
        expected = props("blas_lapack :: provider :: mkl", "x86_64 :: level :: v4")
        assert read("numpy-2.3.4-v0.2.0.json").variants["x8664v4_mkl"].properties == expected
        assert read("numpy-2.3.4-v0.0.2.json").variants["9e41d07b"].properties == expected

    def test_blas_provider_static_values(self) -> None:
        expected = ("accelerate", "openblas", "mkl")
        for name in ("numpy-2.3.4-v0.0.2.json", "numpy-2.3.4-v0.2.0.json"):
            static = read(name).providers["blas_lapack"].static_properties
            assert static is not None
            assert static[0].values == expected, name


class TestSniffingWithoutSchema:
    def without_schema(self, name: str) -> VariantMetadata:
        document = json.loads((SCHEMAS / name).read_text())
        del document["$schema"]
        return read_variant_metadata(document, source=name)

    def test_schema_version_is_none_and_a_diagnostic_says_so(self) -> None:
        metadata = self.without_schema("torch-2.9.0-v0.2.0.json")
        assert metadata.schema_version is None
        assert any("$schema" in d for d in metadata.diagnostics)

    def test_v002_recognised_by_plugin_use(self) -> None:
        metadata = self.without_schema("torch-2.9.0-v0.0.2.json")
        assert "null" in metadata.variants
        assert metadata.providers["priority"].install_time is False

    def test_v020_recognised_by_per_provider_static_properties(self) -> None:
        metadata = self.without_schema("numpy-2.3.4-v0.2.0.json")
        assert metadata.providers["blas_lapack"].static_properties == (
            VariantFeatureConfig("provider", ("accelerate", "openblas", "mkl")),
            VariantFeatureConfig("interface", ("lp64", "ilp64")),
        )

    def test_v003_recognised_by_top_level_static_properties(self) -> None:
        path = SCHEMAS.parent / "v0.0.3" / "numpy-2.3.4-variants.json"
        document = json.loads(path.read_text())
        del document["$schema"]
        metadata = read_variant_metadata(document, source=path.name)
        assert metadata.providers["blas_lapack"].static_properties == (
            VariantFeatureConfig("provider", ("accelerate", "openblas", "mkl")),
        )

    def test_pep825_recognised_by_missing_providers(self) -> None:
        metadata = self.without_schema("torch-2.9.0-pep825-v0.1.1.json")
        assert set(metadata.variants) == {"cuda13.0", "null", "rocm6.4"}
