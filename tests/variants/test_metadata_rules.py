"""The reader's rules: what disqualifies one variant, what makes a file unusable, what is only
noted, and that nothing but VariantMetadataError ever escapes."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wheelnext_jupyter.variants.metadata import (
    VariantMetadataError,
    read_variant_metadata,
)

V003 = "https://variants-schema.wheelnext.dev/v0.0.3.json"
PEP825 = "https://variants-schema.wheelnext.dev/peps/825/v0.1.1.json"


def v003(variants: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A small v0.0.3 document with x86_64 (install-time) and blas_lapack (ahead-of-time)."""
    document: dict[str, Any] = {
        "$schema": V003,
        "default-priorities": {"namespace": ["x86_64", "blas_lapack"]},
        "providers": {
            "x86_64": {"requires": ["provider-variant-x86-64"]},
            "blas_lapack": {"install-time": False, "requires": []},
        },
        "static-properties": {"blas_lapack": {"provider": ["openblas", "mkl"]}},
        "variants": variants,
    }
    document.update(extra)
    return document


GOOD = {"v3": {"x86_64": {"level": ["v3"]}}}


# -- input that is not a JSON object ---------------------------------------------------------


@pytest.mark.parametrize("data", [b"{", "not json", b"\xff\xfe{}", "[]", "3", "null", '"x"'])
def test_input_that_is_not_a_json_object_raises_naming_the_source(data: str | bytes) -> None:
    with pytest.raises(VariantMetadataError, match=r"torch-2\.9\.0-variants\.json"):
        read_variant_metadata(data, source="torch-2.9.0-variants.json")


def test_bytes_str_and_parsed_input_read_the_same() -> None:
    text = json.dumps(v003(GOOD))
    from_bytes = read_variant_metadata(text.encode(), source="a")
    from_text = read_variant_metadata(text, source="a")
    from_mapping = read_variant_metadata(v003(GOOD), source="a")
    assert from_bytes == from_text == from_mapping


def test_utf8_byte_order_mark_is_accepted() -> None:
    data = b"\xef\xbb\xbf" + json.dumps(v003(GOOD)).encode()
    assert "v3" in read_variant_metadata(data, source="a").variants


def test_source_is_recorded() -> None:
    assert read_variant_metadata(v003(GOOD), source="here.json").source == "here.json"


# -- schema versions -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "schema",
    [
        "https://variants-schema.wheelnext.dev/v1.0.0.json",
        "https://variants-schema.wheelnext.dev/v2.x",
        "https://packaging.python.org/schemas/variants/v1.2.json",
        "https://variants-schema.wheelnext.dev/peps/825/v1.0.0.json",
    ],
)
def test_unknown_major_makes_the_file_unusable_with_advice(schema: str) -> None:
    metadata = read_variant_metadata(v003(GOOD, **{"$schema": schema}), source="a")
    assert metadata.unusable is not None
    assert "upgrade wheelnext-jupyter" in metadata.unusable
    assert "non-variant wheels" in metadata.unusable
    assert metadata.variants == {}


def test_unknown_major_records_its_version() -> None:
    schema = "https://variants-schema.wheelnext.dev/v1.0.0.json"
    metadata = read_variant_metadata(v003(GOOD, **{"$schema": schema}), source="a")
    assert metadata.schema_version == "1.0.0"


@pytest.mark.parametrize(
    "schema",
    [
        "https://variants-schema.wheelnext.dev/v0.3.0.json",
        "https://variants-schema.wheelnext.dev/peps/825/v0.2.0.json",
    ],
)
def test_newer_minor_of_a_known_major_is_read_with_a_diagnostic(schema: str) -> None:
    metadata = read_variant_metadata(v003(GOOD, **{"$schema": schema}), source="a")
    assert metadata.unusable is None
    assert set(metadata.variants) == {"v3"}
    assert any("newer" in d for d in metadata.diagnostics)


@pytest.mark.parametrize("schema", [None, 7, "https://example.invalid/schema.json"])
def test_missing_or_unversioned_schema_is_sniffed_with_a_diagnostic(schema: object) -> None:
    document = v003(GOOD)
    if schema is None:
        del document["$schema"]
    else:
        document["$schema"] = schema
    metadata = read_variant_metadata(document, source="a")
    assert metadata.schema_version is None
    assert set(metadata.variants) == {"v3"}
    assert metadata.providers["blas_lapack"].install_time is False
    assert any("keys" in d for d in metadata.diagnostics)


# -- unknown keys ----------------------------------------------------------------------------


def test_unknown_keys_are_ignored_with_a_diagnostic() -> None:
    document = v003(GOOD, **{"x-generator": "tool 1.0"})
    document["providers"]["x86_64"]["cache-hint"] = True
    document["default-priorities"]["extra"] = []
    metadata = read_variant_metadata(document, source="a")
    assert set(metadata.variants) == {"v3"}
    assert metadata.providers["x86_64"].requires == ("provider-variant-x86-64",)
    for key in ("x-generator", "providers.x86_64.cache-hint", "default-priorities.extra"):
        assert any(key in d for d in metadata.diagnostics), key


def test_keys_of_another_schema_are_ignored() -> None:
    # v0.2.0 has no enable-if and no feature/property priorities: ignored, not applied.
    document = {
        "$schema": "https://variants-schema.wheelnext.dev/v0.2.0.json",
        "default-priorities": {"namespace": ["x86_64"], "feature": {"x86_64": ["level"]}},
        "providers": {"x86_64": {"requires": ["p"], "enable-if": "False"}},
        "variants": GOOD,
    }
    metadata = read_variant_metadata(document, source="a")
    assert metadata.providers["x86_64"].enable_if is None
    assert metadata.feature_priorities == {}
    assert any("enable-if" in d for d in metadata.diagnostics)


def test_pep825_file_ignores_providers() -> None:
    document = {
        "$schema": PEP825,
        "default-priorities": {"namespace": ["x86_64"]},
        "providers": {"x86_64": {"requires": ["p"]}},
        "variants": GOOD,
    }
    metadata = read_variant_metadata(document, source="a")
    assert metadata.providers == {}
    assert set(metadata.variants) == {"v3"}


# -- one bad entry disqualifies one variant --------------------------------------------------


@pytest.mark.parametrize(
    ("entry", "words"),
    [
        ({"x86_64": {"level": ["V3"]}}, "V3"),
        ({"x86_64": {"Level": ["v3"]}}, "Level"),
        ({"x86_64": {"level": []}}, "non-empty"),
        ({"x86_64": {"level": "v3"}}, "non-empty list"),
        ({"x86_64": {"level": [3]}}, "not a string"),
        ({"x86_64": ["level"]}, "not an object"),
        ("x86_64 :: level :: v3", "not an object"),
    ],
)
def test_bad_property_disqualifies_that_variant_only(entry: object, words: str) -> None:
    metadata = read_variant_metadata(v003({**GOOD, "bad": entry}), source="a")
    assert set(metadata.variants) == {"v3"}
    assert words in metadata.invalid_variants["bad"]


@pytest.mark.parametrize("label", ["CU12", "cu-12", "", "cu 12"])
def test_bad_label_disqualifies_that_variant_only(label: str) -> None:
    metadata = read_variant_metadata(
        v003({**GOOD, label: {"x86_64": {"level": ["v4"]}}}), source="a"
    )
    assert set(metadata.variants) == {"v3"}
    assert "0-9 a-z _ ." in metadata.invalid_variants[label]


def test_labels_lists_valid_and_invalid_labels() -> None:
    metadata = read_variant_metadata(v003({**GOOD, "BAD": {}}), source="a")
    assert metadata.labels() == ("BAD", "v3")


def test_null_label_with_properties_is_invalid() -> None:
    metadata = read_variant_metadata(v003({"null": {"x86_64": {"level": ["v3"]}}}), source="a")
    assert "null" not in metadata.variants
    assert "reserved" in metadata.invalid_variants["null"]


def test_null_label_without_properties_is_the_null_variant() -> None:
    metadata = read_variant_metadata(v003({"null": {}}), source="a")
    assert metadata.variants["null"].is_null


def test_zero_properties_under_another_label_is_invalid() -> None:
    metadata = read_variant_metadata(v003({"cpu": {}}), source="a")
    assert "must be labelled 'null'" in metadata.invalid_variants["cpu"]


def test_namespace_missing_from_priorities_makes_its_variants_invalid() -> None:
    document = v003({**GOOD, "mkl": {"blas_lapack": {"provider": ["mkl"]}}})
    document["default-priorities"]["namespace"] = ["x86_64"]
    metadata = read_variant_metadata(document, source="a")
    assert set(metadata.variants) == {"v3"}
    assert "default-priorities.namespace does not list" in metadata.invalid_variants["mkl"]


def test_namespace_missing_from_providers_makes_its_variants_invalid() -> None:
    document = v003({**GOOD, "gpu": {"nvidia": {"cuda_version_lower_bound": ["12.0"]}}})
    document["default-priorities"]["namespace"].append("nvidia")
    metadata = read_variant_metadata(document, source="a")
    assert set(metadata.variants) == {"v3"}
    assert "no entry in providers" in metadata.invalid_variants["gpu"]


def test_abi_dependency_needs_no_provider_and_no_priority() -> None:
    entry = {"x86_64": {"level": ["v3"]}, "abi_dependency": {"torch": ["2.9"]}}
    metadata = read_variant_metadata(v003({"torch29": entry}), source="a")
    assert metadata.invalid_variants == {}
    assert "abi_dependency" in metadata.variants["torch29"].namespaces


def test_malformed_provider_disqualifies_the_variants_using_it_only() -> None:
    document = v003({**GOOD, "mkl": {"blas_lapack": {"provider": ["mkl"]}}})
    document["providers"]["blas_lapack"]["install-time"] = "no"
    metadata = read_variant_metadata(document, source="a")
    assert set(metadata.variants) == {"v3"}
    assert "install-time" in metadata.invalid_variants["mkl"]
    assert "blas_lapack" not in metadata.providers


def test_properties_are_sorted_and_deduplicated() -> None:
    entry = {"x86_64": {"level": ["v4", "v3", "v4"]}}
    variant = read_variant_metadata(v003({"v34": entry}), source="a").variants["v34"]
    assert [str(p) for p in variant.properties] == [
        "x86_64 :: level :: v3",
        "x86_64 :: level :: v4",
    ]


def test_long_label_is_valid_with_a_diagnostic() -> None:
    metadata = read_variant_metadata(v003({"x86_64_v3_openblas_lp64": GOOD["v3"]}), source="a")
    assert "x86_64_v3_openblas_lp64" in metadata.variants
    assert any("longer than 16" in d for d in metadata.diagnostics)


def test_variants_that_are_not_an_object_make_the_file_unusable() -> None:
    metadata = read_variant_metadata(v003([]), source="a")  # type: ignore[arg-type]
    assert metadata.unusable is not None


def test_v002_hash_null_with_properties_is_not_renamed() -> None:
    document = {
        "$schema": "https://variants-schema.wheelnext.dev/v0.0.2.json",
        "default-priorities": {"namespace": ["x86_64"]},
        "providers": {"x86_64": {"requires": ["p"]}},
        "variants": {"00000000": {"x86_64": {"level": ["v3"]}}},
    }
    metadata = read_variant_metadata(document, source="a")
    assert set(metadata.variants) == {"00000000"}
    assert metadata.label_aliases == {}


def test_ahead_of_time_provider_without_static_values_is_noted() -> None:
    document = v003(GOOD)
    del document["static-properties"]
    metadata = read_variant_metadata(document, source="a")
    assert metadata.providers["blas_lapack"].static_properties == ()
    assert any("no static properties" in d for d in metadata.diagnostics)


# -- never anything but VariantMetadataError -------------------------------------------------

VOCABULARY = [
    "$schema",
    "default-priorities",
    "namespace",
    "feature",
    "property",
    "providers",
    "variants",
    "static-properties",
    "requires",
    "build-requires",
    "plugin-api",
    "plugin-use",
    "enable-if",
    "install-time",
    "optional",
    "feature-order",
    "builtin",
    "x86_64",
    "level",
    "null",
    "00000000",
    "abi_dependency",
    V003,
    PEP825,
    "https://variants-schema.wheelnext.dev/v0.0.2.json",
    "https://variants-schema.wheelnext.dev/v0.2.0.json",
    "https://variants-schema.wheelnext.dev/v9.0.0.json",
    "v3",
    "all",
    "build",
]
keys = st.one_of(st.sampled_from(VOCABULARY), st.text(max_size=6))
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.sampled_from(VOCABULARY), st.text()
)
json_like = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(keys, children, max_size=5)
    ),
    max_leaves=40,
)


@settings(max_examples=300, deadline=None)
@given(json_like)
def test_reading_any_json_like_value_raises_only_variant_metadata_error(value: object) -> None:
    with contextlib.suppress(VariantMetadataError):
        read_variant_metadata(value, source="generated")  # type: ignore[arg-type]


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(keys, json_like, max_size=6))
def test_reading_any_object_never_raises(value: dict[str, object]) -> None:
    read_variant_metadata(value, source="generated")


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.binary(max_size=64), st.text(max_size=64)))
def test_reading_any_bytes_or_text_raises_only_variant_metadata_error(data: bytes | str) -> None:
    with contextlib.suppress(VariantMetadataError):
        read_variant_metadata(data, source="generated")


schemas = st.sampled_from([u for u in VOCABULARY if u.startswith("https://")])
documents = st.fixed_dictionaries(
    {},
    optional={
        "$schema": schemas,
        "default-priorities": st.dictionaries(keys, json_like, max_size=3),
        "providers": st.dictionaries(
            keys, st.dictionaries(keys, json_like, max_size=4), max_size=3
        ),
        "static-properties": st.dictionaries(
            keys, st.dictionaries(keys, json_like, max_size=2), max_size=2
        ),
        "variants": st.dictionaries(
            keys,
            st.dictionaries(keys, st.dictionaries(keys, json_like, max_size=2), max_size=2),
            max_size=4,
        ),
    },
)


@settings(max_examples=200, deadline=None)
@given(documents)
def test_reading_any_document_shaped_object_never_raises(document: dict[str, object]) -> None:
    metadata = read_variant_metadata(document, source="generated")
    assert not set(metadata.variants) & set(metadata.invalid_variants)
