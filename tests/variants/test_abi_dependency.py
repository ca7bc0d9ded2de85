"""The reserved `abi_dependency` namespace: value ranges, supported values, version overrides."""

from __future__ import annotations

import importlib.metadata
import logging
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.version import InvalidVersion, Version
from variantlib.resolver import lib as variantlib_resolver

from wheelnext_jupyter.variants.abi_dependency import (
    InvalidAbiDependency,
    abi_dependency_configs,
    abi_value_matches,
    abi_values,
    feature_name,
    parse_abi_dependency_override,
)
from wheelnext_jupyter.variants.properties import (
    ABI_DEPENDENCY_NAMESPACE,
    VariantFeatureConfig,
)

# --- value ranges (PEP 817 table) ----------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "version", "expected"),
    [
        # `abi_dependency :: torch :: 2` = torch==2.*
        ("2", "2.0.0", True),
        ("2", "2.9.1", True),
        ("2", "1.13.1", False),
        ("2", "3.0.0", False),
        # `abi_dependency :: torch :: 2.9` = torch==2.9.*
        ("2.9", "2.9", True),
        ("2.9", "2.9.0", True),
        ("2.9", "2.9.1", True),
        ("2.9", "2.8.0", False),
        ("2.9", "2.10.0", False),
        ("2.9", "3.9.0", False),
        # `abi_dependency :: torch :: 2.8.0` = torch==2.8.0.*
        ("2.8.0", "2.8.0", True),
        ("2.8.0", "2.8", True),
        ("2.8.0", "2.8.0.1", True),
        ("2.8.0", "2.8.1", False),
        ("2.8.0", "2.9.0", False),
    ],
)
def test_value_is_a_prefix_range(value: str, version: str, expected: bool) -> None:
    assert abi_value_matches(value, version) is expected


@pytest.mark.parametrize(
    ("version", "matches"),
    [
        ("2.0.0", {"2", "2.0", "2.0.0"}),
        ("2.0.1", {"2", "2.0"}),
        ("2.1.0", {"2"}),
        ("3.0.0", set()),
    ],
)
def test_two_and_two_zero_and_two_zero_zero_are_different_ranges(
    version: str, matches: set[str]
) -> None:
    assert {value for value in ("2", "2.0", "2.0.0") if abi_value_matches(value, version)} == (
        matches
    )


@pytest.mark.parametrize(("value", "version"), [("2.1", "2.10.0"), ("2.10", "2.1.0")])
def test_two_ten_and_two_one_do_not_match_each_other(value: str, version: str) -> None:
    assert not abi_value_matches(value, version)


@pytest.mark.parametrize("version", ["2.9.1rc1", "2.9.1a2", "2.9.1.post2", "2.9.1.dev3"])
def test_pre_post_and_dev_releases_belong_to_their_release_range(version: str) -> None:
    assert abi_value_matches("2.9", version)
    assert abi_value_matches("2.9.1", version)
    assert not abi_value_matches("2.9.0", version)


def test_local_version_belongs_to_its_public_range() -> None:
    assert abi_value_matches("2.9", "2.9.0+cu126")


def test_version_with_an_epoch_matches_no_value() -> None:
    assert not abi_value_matches("2", "1!2.9.0")
    assert abi_values("1!2.9.0") == ()


def test_version_object_is_accepted() -> None:
    assert abi_value_matches("2.9", Version("2.9.0"))


def test_non_pep440_version_is_packagings_error() -> None:
    with pytest.raises(InvalidVersion):
        abi_value_matches("2", "not-a-version")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2.9.1.0", "more than 3 components"),
        ("1!2.9", "epochs are not supported"),
        ("2.x", "number without leading zeros"),
        ("2a", "number without leading zeros"),
        ("2.9.*", "number without leading zeros"),
        ("2.09", "number without leading zeros"),
        ("v2", "number without leading zeros"),
        (" 2", "number without leading zeros"),
        ("", "number without leading zeros"),
        ("2.", "number without leading zeros"),
    ],
)
def test_invalid_value_is_rejected_with_the_reason(value: str, message: str) -> None:
    with pytest.raises(InvalidAbiDependency, match=message) as caught:
        abi_value_matches(value, "2.9.0")
    assert repr(value) in str(caught.value)
    assert "'2', '2.9' or '2.9.1'" in str(caught.value)


# --- supported values ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "values"),
    [
        ("2.9.1", ("2.9.1", "2.9", "2")),
        ("2", ("2.0.0", "2.0", "2")),
        ("2.9", ("2.9.0", "2.9", "2")),
        ("2.9.0.1", ("2.9.0", "2.9", "2")),
        ("2.9.1rc1", ("2.9.1", "2.9", "2")),
        ("2.9.1+cu126", ("2.9.1", "2.9", "2")),
        ("0.4.10", ("0.4.10", "0.4", "0")),
    ],
)
def test_supported_values_are_most_specific_first(version: str, values: tuple[str, ...]) -> None:
    assert abi_values(version) == values


def test_configs_have_one_multi_value_feature_per_distribution_in_name_order() -> None:
    configs = abi_dependency_configs({"torch": "2.9.1", "Flash_Attn": Version("2.8.3")})
    assert configs == [
        VariantFeatureConfig("flash_attn", ("2.8.3", "2.8", "2"), multi_value=True),
        VariantFeatureConfig("torch", ("2.9.1", "2.9", "2"), multi_value=True),
    ]


@pytest.mark.parametrize(
    ("name", "feature"),
    [
        ("torch", "torch"),
        ("Transformer-Engine", "transformer_engine"),
        ("zope.interface", "zope_interface"),
        ("A__b--C..d", "a_b_c_d"),
    ],
)
def test_feature_is_the_normalised_name_with_underscores(name: str, feature: str) -> None:
    assert feature_name(name) == feature


def test_overrides_win_over_installed_versions() -> None:
    configs = abi_dependency_configs({"torch": "2.8.0"}, overrides={"Torch": "2.9.0"})
    assert configs == [VariantFeatureConfig("torch", ("2.9.0", "2.9", "2"), multi_value=True)]


def test_versions_that_cannot_match_give_no_feature() -> None:
    configs = abi_dependency_configs({"epoch": "1!2.0", "legacy": "2.0-custom+", "ok": "1"})
    assert [config.name for config in configs] == ["ok"]


def test_no_installed_distributions_give_no_configs() -> None:
    assert abi_dependency_configs({}) == []


# --- VARIANT_ABI_DEPENDENCY text -------------------------------------------------------------


def test_override_text_is_parsed_into_normalised_names() -> None:
    assert parse_abi_dependency_override("torch==2.9.0,Flash-Attn==2.8.3") == {
        "torch": Version("2.9.0"),
        "flash_attn": Version("2.8.3"),
    }


def test_override_text_tolerates_spaces_and_blank_entries() -> None:
    assert parse_abi_dependency_override(" torch == 2.9.0 , ,numpy==2.3.4,") == {
        "torch": Version("2.9.0"),
        "numpy": Version("2.3.4"),
    }


def test_override_text_later_entry_wins() -> None:
    assert parse_abi_dependency_override("torch==2.8,Torch==2.9") == {"torch": Version("2.9")}


def test_empty_override_text_is_empty() -> None:
    assert parse_abi_dependency_override("") == {}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("torch", "expected NAME==VERSION"),
        ("torch>=2.9", "expected NAME==VERSION"),
        ("==2.9", "expected NAME==VERSION"),
        ("torch==", "expected NAME==VERSION"),
        ("torch==abc", "not a valid version"),
        ("to rch==2.9", "not a distribution name"),
    ],
)
def test_invalid_override_entry_is_rejected(text: str, message: str) -> None:
    with pytest.raises(InvalidAbiDependency, match=message) as caught:
        parse_abi_dependency_override(text)
    assert "VARIANT_ABI_DEPENDENCY" in str(caught.value)


# --- properties ----------------------------------------------------------------------------

_VALUES = st.lists(st.integers(0, 12), min_size=1, max_size=3).map(
    lambda parts: ".".join(map(str, parts))
)
_VERSIONS = st.builds(
    lambda epoch, release, suffix, local: f"{epoch}{'.'.join(map(str, release))}{suffix}{local}",
    st.sampled_from(["", "", "", "1!"]),
    st.lists(st.integers(0, 12), min_size=1, max_size=5),
    st.sampled_from(["", "a1", "rc2", ".post1", ".dev0", "b1.post2.dev3"]),
    st.sampled_from(["", "+cu126"]),
)


@settings(max_examples=500, deadline=None)
@given(value=_VALUES, version=_VERSIONS)
def test_range_match_agrees_with_the_supported_values(value: str, version: str) -> None:
    # A wheel is compatible by value membership; that must equal the PEP 817 range rule.
    assert abi_value_matches(value, version) is (value in abi_values(version))


# --- variantlib as an oracle ----------------------------------------------------------------


@pytest.mark.parametrize(
    "version", ["2.9.1", "2", "2.9", "2.9.0.1", "2.9.1rc1", "2.9.1.post1", "2.9.1+cu126"]
)
def test_values_are_variantlibs_in_another_order(version: str) -> None:
    assert set(abi_values(version)) == set(variantlib_resolver._generate_version_matches(version))


@pytest.mark.parametrize("name", ["torch", "Transformer-Engine", "zope.interface", "A__b--C..d"])
def test_feature_names_are_variantlibs(name: str) -> None:
    assert feature_name(name) == variantlib_resolver._normalize_package_name(name)


def test_epoch_versions_are_where_we_differ_from_variantlib() -> None:
    # variantlib ignores the epoch and offers 2, 2.9, 2.9.0, none of which can match 1!2.9.0.
    assert set(variantlib_resolver._generate_version_matches("1!2.9.0")) == {"2", "2.9", "2.9.0"}
    assert abi_values("1!2.9.0") == ()


def test_configs_match_variantlib_for_this_environment_and_an_override(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    override = "torch==2.9.0,Flash-Attn==2.8.3,packaging==99.1"
    monkeypatch.setenv("VARIANT_ABI_DEPENDENCY", override)
    theirs: list[Any] = []  # variantlib's VariantProperty objects
    with caplog.at_level(logging.ERROR):
        variantlib_resolver.inject_abi_dependency(theirs, [])
    installed = {dist.name: dist.version for dist in importlib.metadata.distributions()}
    configs = abi_dependency_configs(installed, parse_abi_dependency_override(override))
    ours = {
        (ABI_DEPENDENCY_NAMESPACE, config.name, value)
        for config in configs
        for value in config.values
    }
    assert {"torch", "flash_attn", "packaging"} <= {config.name for config in configs}
    assert ours == {(p.namespace, p.feature, p.value) for p in theirs}
