"""Variant metadata (`variant.json`, `*-variants.json`) normalised into one model.

Model section only; the tolerant reader and the merge follow below it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from wheelnext_jupyter.variants.properties import Variant, VariantFeatureConfig


class VariantMetadataError(ValueError):
    """A metadata file that cannot be used at all (not JSON, not an object, unknown major version)."""


class VariantMetadataConflict(VariantMetadataError):
    """Two metadata documents of one package version disagree; the message names both sources."""


@dataclass(frozen=True)
class ProviderInfo:
    """What the metadata says about the provider of one namespace."""

    namespace: str
    requires: tuple[str, ...] = ()
    #: `import.path(:object)`; see `resolved_plugin_api` for the PEP 817 default.
    plugin_api: str | None = None
    #: A PEP 508 marker evaluated against the target environment; None = always enabled.
    enable_if: str | None = None
    optional: bool = False
    #: False for ahead-of-time providers, whose supported values are `static_properties`.
    install_time: bool = True
    #: v0.2.0 `builtin` providers (parsed, not implemented anywhere yet).
    builtin: bool = False
    #: For ahead-of-time providers: features in preference order, values best first.
    static_properties: tuple[VariantFeatureConfig, ...] | None = None

    @property
    def is_ahead_of_time(self) -> bool:
        return not self.install_time

    @property
    def resolved_plugin_api(self) -> str | None:
        """`plugin-api`, or by default the first `requires` name, normalised with `-` → `_`."""
        if self.plugin_api:
            return self.plugin_api
        if not self.requires:
            return None
        from packaging.requirements import InvalidRequirement, Requirement
        from packaging.utils import canonicalize_name

        try:
            name = Requirement(self.requires[0]).name
        except InvalidRequirement:
            return None
        return canonicalize_name(name).replace("-", "_")


@dataclass(frozen=True)
class VariantMetadata:
    """One package version's variant metadata, whatever schema it was published in."""

    #: Where it came from (a file name or URL), for messages.
    source: str
    #: The `$schema` version, e.g. "0.0.3", "0.2.0", "0.1.1"; None when sniffed from the keys.
    schema_version: str | None
    #: `default-priorities.namespace`: every namespace used, decreasing priority.
    namespace_priorities: tuple[str, ...]
    #: Schema ≤ v0.0.3 `default-priorities.feature`: namespace → features placed first.
    feature_priorities: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: Schema ≤ v0.0.3 `default-priorities.property`: namespace → feature → values placed first.
    value_priorities: Mapping[str, Mapping[str, tuple[str, ...]]] = field(default_factory=dict)
    providers: Mapping[str, ProviderInfo] = field(default_factory=dict)
    #: Valid variants by label.
    variants: Mapping[str, Variant] = field(default_factory=dict)
    #: Labels whose entry is invalid → what is wrong; those variants are never selected.
    invalid_variants: Mapping[str, str] = field(default_factory=dict)
    #: Set when the whole file cannot be used (e.g. unknown major schema version): the reason.
    unusable: str | None = None
    #: Things worth telling the user that do not disqualify anything (unknown keys, long labels).
    diagnostics: tuple[str, ...] = ()

    def labels(self) -> tuple[str, ...]:
        """Every label the file names, valid or not, sorted."""
        return tuple(sorted({*self.variants, *self.invalid_variants}))
