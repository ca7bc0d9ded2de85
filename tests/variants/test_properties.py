"""The property records behave like frozen, ordered dataclasses (they are written by hand to keep
detection's start-up cheap)."""

from __future__ import annotations

import copy
import dataclasses
import pickle

import pytest

from wheelnext_jupyter.variants.properties import (
    InvalidVariantProperty,
    Variant,
    VariantFeatureConfig,
    VariantProperty,
)


def test_property_parses_ignoring_whitespace_and_prints_canonically():
    prop = VariantProperty.parse("nvidia::sm_arch ::  90_real")
    assert prop == VariantProperty("nvidia", "sm_arch", "90_real")
    assert str(prop) == "nvidia :: sm_arch :: 90_real"


@pytest.mark.parametrize("text", ["nvidia::sm_arch", "Nvidia::a::b", "a::b::c d", "a::b::"])
def test_malformed_properties_are_rejected(text):
    with pytest.raises(InvalidVariantProperty):
        VariantProperty.parse(text)


def test_properties_order_by_namespace_then_feature_then_value():
    props = [
        VariantProperty("b", "a", "a"),
        VariantProperty("a", "b", "a"),
        VariantProperty("a", "a", "b"),
    ]
    assert [str(p) for p in sorted(props)] == ["a :: a :: b", "a :: b :: a", "b :: a :: a"]


@pytest.mark.parametrize(
    "record",
    [
        VariantProperty("x86_64", "level", "v3"),
        VariantFeatureConfig("level", ("v3", "v2"), False),
        Variant("x8664v3", (VariantProperty("x86_64", "level", "v3"),)),
    ],
)
def test_records_are_frozen_hashable_and_survive_pickle_and_copy(record):
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.label = "other"
    assert hash(record) == hash(copy.deepcopy(record))
    assert pickle.loads(pickle.dumps(record)) == record
    assert {record, copy.copy(record)} == {record}


def test_equal_fields_mean_equal_records_and_different_fields_do_not():
    assert VariantFeatureConfig("a", ("1",), True) == VariantFeatureConfig("a", ("1",), True)
    assert VariantFeatureConfig("a", ("1",), True) != VariantFeatureConfig("a", ("1",), False)
    assert Variant("x", ()) != Variant("y", ())


def test_feature_config_validates_its_values():
    with pytest.raises(InvalidVariantProperty, match="value"):
        VariantFeatureConfig("level", ("V3",))
