"""Variant properties and provider feature configurations: the vocabulary every other part speaks."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

NAMESPACE_RE = re.compile(r"^[a-z0-9_]+$")
FEATURE_RE = NAMESPACE_RE
VALUE_RE = re.compile(r"^[a-z0-9_.]+$")

#: Namespace reserved by PEP 817 for matching the ABI of an installed dependency.
ABI_DEPENDENCY_NAMESPACE = "abi_dependency"


class InvalidVariantProperty(ValueError):
    """A property string or part that does not follow the `ns :: feature :: value` grammar."""


def check_part(kind: str, text: str, pattern: re.Pattern[str]) -> str:
    if not pattern.match(text):
        allowed = "0-9 a-z _ ." if pattern is VALUE_RE else "0-9 a-z _"
        raise InvalidVariantProperty(
            f"invalid variant {kind} {text!r}: use only the characters {allowed} (non-empty)"
        )
    return text


@dataclass(frozen=True, order=True)
class VariantProperty:
    """One `namespace :: feature :: value` triple."""

    namespace: str
    feature: str
    value: str

    def __post_init__(self) -> None:
        check_part("namespace", self.namespace, NAMESPACE_RE)
        check_part("feature", self.feature, FEATURE_RE)
        check_part("value", self.value, VALUE_RE)

    @classmethod
    def parse(cls, text: str) -> VariantProperty:
        """Parse `ns :: feature :: value`; whitespace around `::` is insignificant."""
        parts = [part.strip() for part in text.split("::")]
        if len(parts) != 3:
            raise InvalidVariantProperty(
                f"invalid variant property {text!r}: expected 'namespace :: feature :: value'"
            )
        return cls(*parts)

    @property
    def feature_key(self) -> tuple[str, str]:
        return (self.namespace, self.feature)

    def __str__(self) -> str:
        return f"{self.namespace} :: {self.feature} :: {self.value}"


@dataclass(frozen=True)
class VariantFeatureConfig:
    """A feature as a provider reports it (PEP 817 `VariantFeatureConfig`).

    `values` are in preference order, best first, exactly as `get_supported_configs()` returns them.
    """

    name: str
    values: tuple[str, ...]
    multi_value: bool = False

    def __post_init__(self) -> None:
        check_part("feature", self.name, FEATURE_RE)
        for value in self.values:
            check_part("value", value, VALUE_RE)


#: Supported (or all) configurations per namespace; feature order is preference order.
SupportedConfigs = Mapping[str, Sequence[VariantFeatureConfig]]


@dataclass(frozen=True)
class Variant:
    """One labelled variant: the property set that a label stands for."""

    label: str
    properties: tuple[VariantProperty, ...] = field(default=())

    @property
    def is_null(self) -> bool:
        return not self.properties

    @property
    def namespaces(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(p.namespace for p in self.properties))

    def features(self) -> dict[tuple[str, str], tuple[str, ...]]:
        """`(namespace, feature)` → declared values, in the order they are stored (sorted)."""
        out: dict[tuple[str, str], list[str]] = {}
        for prop in self.properties:
            out.setdefault(prop.feature_key, []).append(prop.value)
        return {key: tuple(values) for key, values in out.items()}

    def as_nested(self) -> dict[str, dict[str, list[str]]]:
        """The `{namespace: {feature: [values]}}` shape used in metadata files."""
        nested: dict[str, dict[str, list[str]]] = {}
        for prop in self.properties:
            nested.setdefault(prop.namespace, {}).setdefault(prop.feature, []).append(prop.value)
        return nested
