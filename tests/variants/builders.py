"""Small builders for variant metadata and target support used across the variant tests."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from wheelnext_jupyter.variants.metadata import ProviderInfo, VariantMetadata
from wheelnext_jupyter.variants.properties import Variant, VariantFeatureConfig, VariantProperty

Nested = Mapping[str, Mapping[str, Sequence[str]]]


def variant(label: str, nested: Nested | None = None) -> Variant:
    props = [
        VariantProperty(ns, feature, value)
        for ns, features in (nested or {}).items()
        for feature, values in features.items()
        for value in values
    ]
    return Variant(label, tuple(sorted(props)))


def metadata(
    namespaces: Sequence[str],
    variants: Mapping[str, Nested | None],
    *,
    providers: Mapping[str, ProviderInfo] | None = None,
    feature_priorities: Mapping[str, tuple[str, ...]] | None = None,
    value_priorities: Mapping[str, Mapping[str, tuple[str, ...]]] | None = None,
    invalid: Mapping[str, str] | None = None,
    unusable: str | None = None,
) -> VariantMetadata:
    return VariantMetadata(
        source="test-variants.json",
        schema_version="0.0.3",
        namespace_priorities=tuple(namespaces),
        feature_priorities=feature_priorities or {},
        value_priorities=value_priorities or {},
        providers=providers or {},
        variants={label: variant(label, nested) for label, nested in variants.items()},
        invalid_variants=invalid or {},
        unusable=unusable,
    )


def configs(
    features: Mapping[str, Sequence[str]], multi: Sequence[str] = ()
) -> tuple[VariantFeatureConfig, ...]:
    return tuple(
        VariantFeatureConfig(name, tuple(values), name in multi)
        for name, values in features.items()
    )


def static_provider(ns: str, features: Mapping[str, Sequence[str]]) -> ProviderInfo:
    return ProviderInfo(ns, install_time=False, static_properties=configs(features))


def cuda_lower_bounds(major: int, minor: int) -> list[str]:
    """`cuda_version_lower_bound` values of the nvidia plugin for a driver's CUDA version.

    As documented for the plugin: for the driver's major, minors down to 0 then the bare major;
    for each older major down to 11, minors 20 down to 0 then the bare major.
    """
    values = [f"{major}.{m}" for m in range(minor, -1, -1)] + [str(major)]
    for older in range(major - 1, 10, -1):
        values += [f"{older}.{m}" for m in range(20, -1, -1)] + [str(older)]
    return values


def sm_arch(major: int, minor: int) -> list[str]:
    """`sm_arch` values of the nvidia plugin for the highest compute capability."""
    return [f"{major}{m}_real" for m in range(minor, -1, -1)] + [f"{major}0_virtual"]
