"""The PEP 817 provider plugin API, as every provider here (built-in, external, profile) offers it."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from wheelnext_jupyter.variants.properties import VariantFeatureConfig


@runtime_checkable
class VariantProvider(Protocol):
    """A provider of one namespace.

    `get_supported_configs()` returns the features and values valid on the target, most preferred
    first; `get_all_configs()` every valid feature and value, order insignificant.
    """

    namespace: str

    def get_all_configs(self) -> list[VariantFeatureConfig]: ...

    def get_supported_configs(self) -> list[VariantFeatureConfig]: ...
