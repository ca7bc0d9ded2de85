"""Properties of the ordering on generated inputs, checked against a direct transcription of the
PEP 825 reference algorithm."""

from __future__ import annotations

import functools
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.variants.builders import metadata
from wheelnext_jupyter.variants.ordering import SelectionOptions, order_variants
from wheelnext_jupyter.variants.properties import VariantFeatureConfig
from wheelnext_jupyter.variants.support import resolve_support

NAMESPACES = ["n0", "n1", "n2"]
FEATURES = ["f0", "f1", "f2"]
VALUES = ["v0", "v1", "v2", "v3"]
LABELS = ["a", "b", "c", "d", "e", "f", "g", "null"]


@st.composite
def scenarios(draw):
    namespaces = draw(st.permutations(NAMESPACES))
    supported = {}
    for ns in NAMESPACES:
        if draw(st.booleans()):
            features = draw(st.lists(st.sampled_from(FEATURES), unique=True, max_size=3))
            supported[ns] = [
                VariantFeatureConfig(
                    f, tuple(draw(st.lists(st.sampled_from(VALUES), unique=True, min_size=1))), True
                )
                for f in features
            ]
    labels = draw(st.lists(st.sampled_from(LABELS), unique=True, min_size=1, max_size=8))
    variants = {}
    for label in labels:
        if label == "null":
            variants[label] = None
            continue
        nested = {}
        for ns in draw(st.lists(st.sampled_from(NAMESPACES), unique=True, min_size=1, max_size=3)):
            feats = draw(st.lists(st.sampled_from(FEATURES), unique=True, min_size=1, max_size=3))
            nested[ns] = {
                f: sorted(draw(st.lists(st.sampled_from(VALUES), unique=True, min_size=1)))
                for f in feats
            }
        variants[label] = nested
    return list(namespaces), supported, variants


def ordered(namespaces, supported, variants, **options):
    md = metadata(namespaces, variants)
    support = resolve_support(md, supported, environment={})
    return order_variants(md, support, SelectionOptions(**options)).order


def reference_order(namespaces, supported, variants):
    """PEP 825 "Variant ordering", transcribed step by step from its pseudocode."""
    feature_order = {ns: [c.name for c in supported.get(ns, [])] for ns in namespaces}
    value_order = {ns: {c.name: list(c.values) for c in supported.get(ns, [])} for ns in namespaces}

    def compatible(props):
        return all(
            f in value_order[ns] and any(v in value_order[ns][f] for v in values)
            for ns, features in props.items()
            for f, values in features.items()
        )

    def sorted_best(props):
        best = []
        for ns, features in props.items():
            for f, values in features.items():
                best_value = next(v for v in value_order[ns][f] if v in values)
                best.append(
                    (
                        namespaces.index(ns),
                        feature_order[ns].index(f),
                        value_order[ns][f].index(best_value),
                    )
                )
        return sorted(best)

    def less(a, b):
        ka, kb = sorted_best(a[1] or {}), sorted_best(b[1] or {})
        for x, y in zip(ka, kb, strict=False):
            if x != y:
                return x < y
        if len(ka) != len(kb):
            return len(ka) > len(kb)
        return a[0] < b[0]

    candidates = [(label, props) for label, props in variants.items() if compatible(props or {})]
    candidates.sort(key=functools.cmp_to_key(lambda a, b: -1 if less(a, b) else 1))
    return tuple(label for label, _ in candidates)


@settings(max_examples=200, deadline=None)
@given(scenarios())
def test_order_matches_the_pep_825_reference_algorithm(scenario):
    namespaces, supported, variants = scenario
    assert ordered(namespaces, supported, variants) == reference_order(
        namespaces, supported, variants
    )


@settings(max_examples=200, deadline=None)
@given(scenarios(), st.randoms(use_true_random=False))
def test_order_is_deterministic_and_independent_of_input_order(scenario, rnd: random.Random):
    namespaces, supported, variants = scenario
    first = ordered(namespaces, supported, variants)
    items = list(variants.items())
    rnd.shuffle(items)
    assert ordered(namespaces, supported, dict(items)) == first
    assert ordered(namespaces, supported, variants) == first


@settings(max_examples=200, deadline=None)
@given(scenarios())
def test_null_sorts_after_every_other_compatible_variant(scenario):
    namespaces, supported, variants = scenario
    order = ordered(namespaces, supported, variants)
    if "null" in variants:
        assert order[-1] == "null"


@settings(max_examples=200, deadline=None)
@given(scenarios(), st.data())
def test_excluding_a_label_keeps_the_relative_order_of_the_rest(scenario, data):
    namespaces, supported, variants = scenario
    order = ordered(namespaces, supported, variants)
    excluded = data.draw(st.sampled_from(sorted(variants)))
    rest = ordered(namespaces, supported, variants, exclude=frozenset({excluded}))
    assert rest == tuple(label for label in order if label != excluded)


@settings(max_examples=200, deadline=None)
@given(scenarios())
def test_every_ordered_variant_has_a_supported_value_for_each_feature(scenario):
    namespaces, supported, variants = scenario
    values = {(ns, c.name): set(c.values) for ns, cs in supported.items() for c in cs}
    for label in ordered(namespaces, supported, variants):
        for ns, features in (variants[label] or {}).items():
            for feature, declared in features.items():
                assert values.get((ns, feature), set()) & set(declared)
