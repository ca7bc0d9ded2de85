"""Cross-check of the ordering with variantlib 0.2.2, the reference implementation, on data in its
v0.2.0 schema. Only ahead-of-time (static) providers are used, so no plugin code runs."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.variants.builders import metadata, static_provider
from wheelnext_jupyter.variants.ordering import order_variants
from wheelnext_jupyter.variants.support import resolve_support

variantlib_api = pytest.importorskip("variantlib.api")

NAMESPACES = ["n0", "n1", "n2"]
FEATURES = ["f0", "f1", "f2"]
VALUES = ["v0", "v1", "v2", "v3"]


@st.composite
def static_scenarios(draw):
    namespaces = list(draw(st.permutations(NAMESPACES)))
    static = {
        ns: {
            f: draw(st.lists(st.sampled_from(VALUES), unique=True, min_size=1))
            for f in draw(st.lists(st.sampled_from(FEATURES), unique=True, min_size=1))
        }
        for ns in NAMESPACES
    }
    labels = draw(st.lists(st.sampled_from("abcdefg"), unique=True, min_size=1, max_size=7))
    variants: dict[str, dict | None] = {}
    for label in labels:
        nested = {}
        for ns in draw(st.lists(st.sampled_from(NAMESPACES), unique=True, min_size=1, max_size=3)):
            feats = draw(st.lists(st.sampled_from(FEATURES), unique=True, min_size=1, max_size=2))
            nested[ns] = {
                f: sorted(draw(st.lists(st.sampled_from(VALUES), unique=True, min_size=1)))
                for f in feats
            }
        variants[label] = nested
    if draw(st.booleans()):
        variants["null"] = None
    return namespaces, static, variants


def as_variantlib_v020(namespaces, static, variants):
    return {
        "$schema": "https://variants-schema.wheelnext.dev/v0.2.0.json",
        "default-priorities": {"namespace": namespaces},
        "providers": {
            ns: {"static-properties": features, "feature-order": list(features)}
            for ns, features in static.items()
        },
        "variants": {label: nested or {} for label, nested in variants.items()},
    }


@settings(max_examples=120, deadline=None)
@given(static_scenarios())
def test_order_agrees_with_variantlib_on_static_providers(scenario):
    namespaces, static, variants = scenario
    expected = [
        vdesc.label
        for vdesc in variantlib_api.get_variants_by_priority(
            variants_json=as_variantlib_v020(namespaces, static, variants)
        )
    ]
    md = metadata(
        namespaces,
        variants,
        providers={ns: static_provider(ns, features) for ns, features in static.items()},
    )
    ours = order_variants(md, resolve_support(md, {}, environment={})).order
    # variantlib always appends the null variant, published or not.
    if "null" not in variants:
        expected = [label for label in expected if label != "null"]
    assert list(ours) == expected
