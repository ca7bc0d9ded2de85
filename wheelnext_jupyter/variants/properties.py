"""Variant properties and provider feature configurations: the vocabulary every other part speaks."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

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


_set = object.__setattr__


def _frozen_setattr(self: object, name: str, value: object) -> None:
    from dataclasses import FrozenInstanceError  # only on the error path

    raise FrozenInstanceError(f"cannot assign to field {name!r}")


def _frozen_delattr(self: object, name: str) -> None:
    from dataclasses import FrozenInstanceError

    raise FrozenInstanceError(f"cannot delete field {name!r}")


def _slots_state(self: object) -> tuple[object, ...]:
    return tuple(getattr(self, name) for name in type(self).__match_args__)  # type: ignore[attr-defined]


def _set_slots_state(self: object, state: tuple[object, ...]) -> None:
    for name, value in zip(type(self).__match_args__, state, strict=True):  # type: ignore[attr-defined]
        _set(self, name, value)


class VariantProperty:
    """One `namespace :: feature :: value` triple.

    Frozen, ordered, hashable and compared field by field, as a `dataclass(frozen=True,
    order=True)` is; written out because generating those methods costs about a millisecond per
    class at import, and this module is on the path of every detection.
    """

    __slots__ = ("feature", "namespace", "value")
    __match_args__ = ("namespace", "feature", "value")

    namespace: str
    feature: str
    value: str

    def __init__(self, namespace: str, feature: str, value: str) -> None:
        _set(self, "namespace", namespace)
        _set(self, "feature", feature)
        _set(self, "value", value)
        check_part("namespace", namespace, NAMESPACE_RE)
        check_part("feature", feature, FEATURE_RE)
        check_part("value", value, VALUE_RE)

    def _key(self) -> tuple[str, str, str]:
        return (self.namespace, self.feature, self.value)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, VariantProperty)
        return self._key() == other._key()

    def __lt__(self, other: VariantProperty) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._key() < other._key()

    def __le__(self, other: VariantProperty) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._key() <= other._key()

    def __gt__(self, other: VariantProperty) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._key() > other._key()

    def __ge__(self, other: VariantProperty) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._key() >= other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return (
            f"{type(self).__qualname__}(namespace={self.namespace!r}, feature={self.feature!r}, "
            f"value={self.value!r})"
        )

    __setattr__ = _frozen_setattr
    __delattr__ = _frozen_delattr
    __getstate__ = _slots_state
    __setstate__ = _set_slots_state

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


class VariantFeatureConfig:
    """A feature as a provider reports it (PEP 817 `VariantFeatureConfig`).

    `values` are in preference order, best first, exactly as `get_supported_configs()` returns them.
    Behaves as a `dataclass(frozen=True)` (see `VariantProperty` for why it is written out).
    """

    __slots__ = ("multi_value", "name", "values")
    __match_args__ = ("name", "values", "multi_value")

    name: str
    values: tuple[str, ...]
    multi_value: bool

    def __init__(self, name: str, values: tuple[str, ...], multi_value: bool = False) -> None:
        _set(self, "name", name)
        _set(self, "values", values)
        _set(self, "multi_value", multi_value)
        check_part("feature", name, FEATURE_RE)
        for value in values:
            check_part("value", value, VALUE_RE)

    def _key(self) -> tuple[str, tuple[str, ...], bool]:
        return (self.name, self.values, self.multi_value)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, VariantFeatureConfig)
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return (
            f"{type(self).__qualname__}(name={self.name!r}, values={self.values!r}, "
            f"multi_value={self.multi_value!r})"
        )

    __setattr__ = _frozen_setattr
    __delattr__ = _frozen_delattr
    __getstate__ = _slots_state
    __setstate__ = _set_slots_state


#: Supported (or all) configurations per namespace; feature order is preference order.
SupportedConfigs = Mapping[str, Sequence[VariantFeatureConfig]]


class Variant:
    """One labelled variant: the property set that a label stands for.

    Behaves as a `dataclass(frozen=True)` (see `VariantProperty` for why it is written out).
    """

    __slots__ = ("label", "properties")
    __match_args__ = ("label", "properties")

    label: str
    properties: tuple[VariantProperty, ...]

    def __init__(self, label: str, properties: tuple[VariantProperty, ...] = ()) -> None:
        _set(self, "label", label)
        _set(self, "properties", properties)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, Variant)
        return (self.label, self.properties) == (other.label, other.properties)

    def __hash__(self) -> int:
        return hash((self.label, self.properties))

    def __repr__(self) -> str:
        return f"{type(self).__qualname__}(label={self.label!r}, properties={self.properties!r})"

    __setattr__ = _frozen_setattr
    __delattr__ = _frozen_delattr
    __getstate__ = _slots_state
    __setstate__ = _set_slots_state

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
