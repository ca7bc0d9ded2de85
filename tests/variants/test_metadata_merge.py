"""Combining the `variant.json` of several wheels of one version (PEP 825 "Consistency")."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from wheelnext_jupyter.variants.metadata import (
    VariantMetadata,
    VariantMetadataConflict,
    VariantMetadataError,
    merge_variant_metadata,
    read_variant_metadata,
)

V003 = "https://variants-schema.wheelnext.dev/v0.0.3.json"
NVIDIA = {
    "requires": ["nvidia-variant-provider>=0.0.2,<1.0.0"],
    "enable-if": "platform_system == 'Linux'",
}
AMD = {"requires": ["amd-variant-provider>=0.0.2,<1.0.0"]}


def wheel(
    source: str,
    label: str,
    properties: dict[str, Any],
    namespaces: list[str],
    providers: dict[str, Any] | None = None,
    **extra: Any,
) -> VariantMetadata:
    """The variant.json of one wheel: exactly one variant, its own label."""
    document = {
        "$schema": V003,
        "default-priorities": {"namespace": namespaces},
        "providers": providers if providers is not None else {"nvidia": NVIDIA, "amd": AMD},
        "variants": {label: properties},
        **extra,
    }
    return read_variant_metadata(document, source=source)


CU12 = {"nvidia": {"cuda_version_lower_bound": ["12.0"]}}
CU13 = {"nvidia": {"cuda_version_lower_bound": ["13.0"]}}
ROCM = {"amd": {"rocm_version": ["6.4"]}}


def test_union_of_variants() -> None:
    merged = merge_variant_metadata(
        [
            wheel("cu12.whl", "cu12", CU12, ["nvidia", "amd"]),
            wheel("cu13.whl", "cu13", CU13, ["nvidia", "amd"]),
            wheel("rocm.whl", "rocm6.4", ROCM, ["nvidia", "amd"]),
            wheel("null.whl", "null", {}, ["nvidia", "amd"]),
        ]
    )
    assert set(merged.variants) == {"cu12", "cu13", "rocm6.4", "null"}
    assert merged.schema_version == "0.0.3"
    assert set(merged.providers) == {"nvidia", "amd"}


def test_sources_are_named_in_the_result() -> None:
    merged = merge_variant_metadata(
        [wheel("a.whl", "cu12", CU12, ["nvidia"]), wheel("b.whl", "cu13", CU13, ["nvidia"])]
    )
    assert "a.whl" in merged.source
    assert "b.whl" in merged.source


def test_namespace_prefix_gives_the_longer_list_in_any_order() -> None:
    docs = [
        wheel("a.whl", "cu12", CU12, ["nvidia"]),
        wheel("b.whl", "rocm6.4", ROCM, ["nvidia", "amd"]),
        wheel("c.whl", "null", {}, []),
    ]
    for order in itertools.permutations(docs):
        merged = merge_variant_metadata(list(order))
        assert merged.namespace_priorities == ("nvidia", "amd")
        assert set(merged.variants) == {"cu12", "rocm6.4", "null"}


def test_same_label_same_properties_is_fine() -> None:
    merged = merge_variant_metadata(
        [wheel("a.whl", "cu12", CU12, ["nvidia"]), wheel("b.whl", "cu12", CU12, ["nvidia"])]
    )
    assert set(merged.variants) == {"cu12"}


def test_single_document_is_returned_as_is() -> None:
    only = wheel("a.whl", "cu12", CU12, ["nvidia"])
    assert merge_variant_metadata([only]) is only


def test_nothing_to_merge_is_an_error() -> None:
    with pytest.raises(VariantMetadataError):
        merge_variant_metadata([])


def test_conflicting_namespace_order_names_both_sources_and_lists() -> None:
    with pytest.raises(VariantMetadataConflict) as caught:
        merge_variant_metadata(
            [
                wheel("a.whl", "cu12", CU12, ["nvidia", "amd"]),
                wheel("b.whl", "rocm6.4", ROCM, ["amd", "nvidia"]),
            ]
        )
    message = str(caught.value)
    assert "a.whl" in message
    assert "b.whl" in message
    assert "['nvidia', 'amd']" in message
    assert "['amd', 'nvidia']" in message


def test_same_label_different_properties_is_a_conflict() -> None:
    with pytest.raises(VariantMetadataConflict) as caught:
        merge_variant_metadata(
            [wheel("a.whl", "cu12", CU12, ["nvidia"]), wheel("b.whl", "cu12", CU13, ["nvidia"])]
        )
    message = str(caught.value)
    assert "'cu12'" in message
    assert "a.whl" in message
    assert "b.whl" in message
    assert "12.0" in message
    assert "13.0" in message


def test_disagreeing_providers_is_a_conflict_naming_the_field() -> None:
    other_nvidia = {**NVIDIA, "enable-if": "platform_system == 'Windows'"}
    with pytest.raises(VariantMetadataConflict) as caught:
        merge_variant_metadata(
            [
                wheel("a.whl", "cu12", CU12, ["nvidia"], {"nvidia": NVIDIA}),
                wheel("b.whl", "cu13", CU13, ["nvidia"], {"nvidia": other_nvidia}),
            ]
        )
    message = str(caught.value)
    assert "providers.nvidia" in message
    assert "enable_if" in message
    assert "a.whl" in message
    assert "b.whl" in message


def test_disagreeing_static_values_is_a_conflict() -> None:
    aot = {"install-time": False, "requires": []}

    def doc(source: str, values: list[str]) -> VariantMetadata:
        return wheel(
            source,
            "p1",
            {"priority": {"order": ["1"]}},
            ["priority"],
            {"priority": aot},
            **{"static-properties": {"priority": {"order": values}}},
        )

    with pytest.raises(VariantMetadataConflict, match="static_properties"):
        merge_variant_metadata([doc("a.whl", ["1", "2"]), doc("b.whl", ["2", "1"])])


def test_disagreeing_value_priorities_is_a_conflict() -> None:
    def doc(source: str, values: list[str]) -> VariantMetadata:
        priorities = {"namespace": ["nvidia"], "property": {"nvidia": {"sm_arch": values}}}
        return wheel(
            source,
            "cu12",
            CU12,
            ["nvidia"],
            {"nvidia": NVIDIA},
            **{"default-priorities": priorities},
        )

    with pytest.raises(VariantMetadataConflict) as caught:
        merge_variant_metadata([doc("a.whl", ["90_real"]), doc("b.whl", ["80_real"])])
    assert "default-priorities.property.nvidia" in str(caught.value)


def test_a_label_invalid_in_any_wheel_stays_invalid() -> None:
    merged = merge_variant_metadata(
        [
            wheel("a.whl", "cu12", CU12, ["nvidia"]),
            wheel("b.whl", "cu12", CU12, []),  # lists no namespaces: its entry is invalid
        ]
    )
    assert "cu12" not in merged.variants
    assert merged.invalid_variants["cu12"].startswith("b.whl: ")


def test_an_unusable_document_makes_the_merge_unusable() -> None:
    future = read_variant_metadata(
        {"$schema": "https://variants-schema.wheelnext.dev/v1.0.0.json"}, source="new.whl"
    )
    merged = merge_variant_metadata([wheel("a.whl", "cu12", CU12, ["nvidia"]), future])
    assert merged.unusable is not None
    assert "new.whl" in merged.unusable


def test_legacy_null_alias_survives_the_merge() -> None:
    legacy = read_variant_metadata(
        {
            "$schema": "https://variants-schema.wheelnext.dev/v0.0.2.json",
            "default-priorities": {"namespace": ["nvidia"]},
            "providers": {"nvidia": NVIDIA},
            "variants": {"00000000": {}},
        },
        source="null.whl",
    )
    merged = merge_variant_metadata(
        [wheel("a.whl", "cu12", CU12, ["nvidia"], {"nvidia": NVIDIA}), legacy]
    )
    assert merged.label_aliases == {"00000000": "null"}
    assert "null" in merged.variants
