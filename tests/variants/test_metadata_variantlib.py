"""`to_variantlib_v020` writes documents that variantlib 0.2.2's own loader accepts and reads back
with the same meaning."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from variantlib.errors import ValidationError
from variantlib.variants_json import VariantsJson

from wheelnext_jupyter.variants.metadata import (
    VariantMetadata,
    VariantMetadataError,
    read_variant_metadata,
    to_variantlib_v020,
)

DATA = Path(__file__).parent.parent / "data" / "variants-json"
CONVERTIBLE = [
    "v0.0.2/cupy-13.6.0-variants.json",
    "v0.0.2/numpy-2.3.4-variants.json",
    "v0.0.3/cupy-13.6.0-variants.json",
    "v0.0.3/numpy-2.3.4-variants.json",
    "v0.0.3/torch-2.9.0-variants.json",
    "schemas/torch-2.9.0-v0.0.2.json",
    "schemas/numpy-2.3.4-v0.0.2.json",
    "schemas/torch-2.9.0-v0.2.0.json",
    "schemas/numpy-2.3.4-v0.2.0.json",
]


def read(relative: str) -> VariantMetadata:
    return read_variant_metadata((DATA / relative).read_bytes(), source=relative)


@pytest.mark.parametrize("relative", CONVERTIBLE)
def test_variantlib_accepts_the_conversion(relative: str) -> None:
    metadata = read(relative)
    loaded = VariantsJson(to_variantlib_v020(metadata))  # raises ValidationError if rejected
    assert loaded.namespace_priorities == list(metadata.namespace_priorities)
    assert set(loaded.variants) == set(metadata.variants)
    for label, variant in metadata.variants.items():
        theirs = sorted(p.to_str() for p in loaded.variants[label].properties)
        ours = sorted(f"{p.namespace} :: {p.feature} :: {p.value}" for p in variant.properties)
        assert theirs == ours, label


@pytest.mark.parametrize("relative", ["v0.0.3/torch-2.9.0-variants.json"])
def test_published_torch_file_is_rejected_by_variantlib_itself(relative: str) -> None:
    # Why the reader exists: variantlib refuses v0.0.3's extra priority keys.
    with pytest.raises(ValidationError):
        VariantsJson(json.loads((DATA / relative).read_text()))


def test_install_time_provider_becomes_requires_and_plugin_api() -> None:
    providers = to_variantlib_v020(read("v0.0.3/numpy-2.3.4-variants.json"))["providers"]
    assert providers == {
        "x86_64": {
            "requires": ["provider-variant-x86-64"],
            "plugin-api": "provider_variant_x86_64.plugin:X8664Plugin",
        },
        "aarch64": {
            "requires": ["provider-variant-aarch64"],
            "plugin-api": "provider_variant_aarch64.plugin:AArch64Plugin",
        },
        "blas_lapack": {"static-properties": {"provider": ["accelerate", "openblas", "mkl"]}},
    }


def test_ahead_of_time_provider_becomes_static_properties_with_feature_order() -> None:
    metadata = read("schemas/numpy-2.3.4-v0.2.0.json")
    loaded = VariantsJson(to_variantlib_v020(metadata))
    blas = loaded.providers["blas_lapack"]
    assert blas.feature_order == ["provider", "interface"]
    assert blas.static_properties == {
        "provider": ["accelerate", "openblas", "mkl"],
        "interface": ["lp64", "ilp64"],
    }


def test_optional_survives_the_conversion() -> None:
    loaded = VariantsJson(to_variantlib_v020(read("schemas/torch-2.9.0-v0.2.0.json")))
    assert loaded.providers["amd"].optional is True
    assert loaded.providers["nvidia"].optional is False


def test_pep825_document_without_providers_cannot_be_converted() -> None:
    with pytest.raises(VariantMetadataError, match="no provider entry"):
        to_variantlib_v020(read("schemas/torch-2.9.0-pep825-v0.1.1.json"))


def test_unusable_document_cannot_be_converted() -> None:
    future = read_variant_metadata(
        {"$schema": "https://variants-schema.wheelnext.dev/v1.0.0.json"}, source="x"
    )
    with pytest.raises(VariantMetadataError, match="unusable"):
        to_variantlib_v020(future)
