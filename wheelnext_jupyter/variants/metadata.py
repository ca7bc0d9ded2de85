"""Variant metadata (`variant.json`, `*-variants.json`) normalised into one model.

The model comes first; below it the tolerant reader (`read_variant_metadata`), which accepts every
schema published so far (WheelNext v0.0.2 and v0.0.3, variantlib's v0.2.0, the PEP 825 drafts), the
merge of several wheels' `variant.json` (`merge_variant_metadata`) and the conversion back to
variantlib's v0.2.0 shape (`to_variantlib_v020`). Pure functions: callers do the I/O.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Mapping, Sequence
from typing import TypeVar

from wheelnext_jupyter.record import Record, field, field_names
from wheelnext_jupyter.variants.filename import LABEL_RE, MAX_EMITTED_LABEL_LENGTH, NULL_LABEL
from wheelnext_jupyter.variants.properties import (
    ABI_DEPENDENCY_NAMESPACE,
    FEATURE_RE,
    NAMESPACE_RE,
    VALUE_RE,
    InvalidVariantProperty,
    Variant,
    VariantFeatureConfig,
    VariantProperty,
)


class VariantMetadataError(ValueError):
    """A metadata file that cannot be used at all (not JSON, not an object, unknown major version)."""


class VariantMetadataConflict(VariantMetadataError):
    """Two metadata documents of one package version disagree; the message names both sources."""


class ProviderInfo(Record):
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


class VariantMetadata(Record):
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
    #: Labels as written in the file (and in wheel filenames) → label in `variants`; only the
    #: legacy null hash `00000000` of schema v0.0.2 is renamed (to `null`).
    label_aliases: Mapping[str, str] = field(default_factory=dict)

    def labels(self) -> tuple[str, ...]:
        """Every label the file names, valid or not, sorted."""
        return tuple(sorted({*self.variants, *self.invalid_variants}))


# --------------------------------------------------------------------------------------------
# Reader
# --------------------------------------------------------------------------------------------

#: The label schema v0.0.2 gave the null variant (the hash of the empty property set).
LEGACY_NULL_LABEL = "00000000"

#: Schema majors this reader understands; PEP 825: tools MUST reject an unknown major.
KNOWN_MAJOR_VERSIONS = frozenset({0})

# Bounded digit runs keep int() cheap and within Python's integer-string limit.
_SCHEMA_VERSION_RE = re.compile(r"^v(?P<version>[0-9]{1,9}(?:\.(?:[0-9]{1,9}|x))*)(?:\.json)?$")
_PEP825_SCHEMA_PATH = "/peps/825/"


class _Dialect(enum.Enum):
    """The metadata shapes published so far; the value is how messages name them."""

    WHEELNEXT_002 = "v0.0.2"
    WHEELNEXT_003 = "v0.0.3"
    VARIANTLIB_020 = "v0.2.0"
    PEP825_DRAFT = "PEP 825 v0.0.1"
    PEP825 = "PEP 825 v0.1.1"


_WHEELNEXT_VERSIONS = {
    "0.0.1": _Dialect.PEP825_DRAFT,
    "0.0.2": _Dialect.WHEELNEXT_002,
    "0.0.3": _Dialect.WHEELNEXT_003,
    "0.2.0": _Dialect.VARIANTLIB_020,
}
_PEP825_VERSIONS = {"0.0.1": _Dialect.PEP825_DRAFT, "0.1.1": _Dialect.PEP825}

_HAS_PROVIDERS = {_Dialect.WHEELNEXT_002, _Dialect.WHEELNEXT_003, _Dialect.VARIANTLIB_020}
#: Schemas whose `default-priorities` also carry feature and property (value) priorities.
_HAS_FEATURE_PRIORITIES = {_Dialect.WHEELNEXT_002, _Dialect.WHEELNEXT_003, _Dialect.PEP825_DRAFT}

_TOP_KEYS: dict[_Dialect, frozenset[str]] = {
    _Dialect.WHEELNEXT_002: frozenset({"$schema", "default-priorities", "providers", "variants"}),
    _Dialect.WHEELNEXT_003: frozenset(
        {"$schema", "default-priorities", "providers", "static-properties", "variants"}
    ),
    _Dialect.VARIANTLIB_020: frozenset({"$schema", "default-priorities", "providers", "variants"}),
    _Dialect.PEP825_DRAFT: frozenset({"$schema", "default-priorities", "variants"}),
    _Dialect.PEP825: frozenset({"$schema", "default-priorities", "variants"}),
}
_PROVIDER_KEYS: dict[_Dialect, frozenset[str]] = {
    _Dialect.WHEELNEXT_002: frozenset(
        {"requires", "plugin-api", "enable-if", "optional", "plugin-use"}
    ),
    _Dialect.WHEELNEXT_003: frozenset(
        {"requires", "plugin-api", "enable-if", "install-time", "optional"}
    ),
    _Dialect.VARIANTLIB_020: frozenset(
        {
            "requires",
            "build-requires",
            "static-properties",
            "builtin",
            "optional",
            "plugin-api",
            "feature-order",
        }
    ),
}
_PLUGIN_USE_VALUES = ("all", "build", "none")


_V = TypeVar("_V")


class _Malformed(Exception):
    """One part of a document has the wrong shape; the message says which and how."""


def read_variant_metadata(
    data: bytes | str | Mapping[str, object], *, source: str
) -> VariantMetadata:
    """Read a `variant.json` or `{name}-{version}-variants.json` in any published schema.

    Never fails for problems inside the document: an invalid variant lands in `invalid_variants`,
    an unknown schema major makes the result `unusable`, oddities become `diagnostics`. Only input
    that is not a JSON object raises `VariantMetadataError`.
    """
    document = _load(data, source)
    return _Reader(document, source).read()


def _load(data: bytes | str | Mapping[str, object], source: str) -> Mapping[object, object]:
    parsed: object = data
    if isinstance(data, (bytes, bytearray, memoryview)):
        try:
            parsed = bytes(data).decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise VariantMetadataError(
                f"{source}: variant metadata is not UTF-8 text ({exc.reason} at byte {exc.start}); "
                "the file is damaged or is not a variants JSON file"
            ) from None
    if isinstance(parsed, str):
        try:
            parsed = json.loads(parsed)
        except (ValueError, RecursionError) as exc:
            raise VariantMetadataError(
                f"{source}: variant metadata is not valid JSON ({exc}); "
                "the file is damaged or is not a variants JSON file"
            ) from None
    if not isinstance(parsed, Mapping):
        raise VariantMetadataError(
            f"{source}: variant metadata must be a JSON object, not {_json_type(parsed)}"
        )
    return parsed


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, (list, tuple)):
        return "an array"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__


def _version_key(version: str) -> tuple[int, ...]:
    """Numeric components for comparing `0.x.y` versions; a non-numeric part counts as newest."""
    return tuple(int(part) if part.isdigit() else 1 << 30 for part in version.split("."))


class _Reader:
    """One read of one document; collects diagnostics on the way."""

    def __init__(self, document: Mapping[object, object], source: str) -> None:
        self.document = document
        self.source = source
        self.diagnostics: list[str] = []
        #: Set when `variants` itself has the wrong shape.
        self.unusable_reason: str | None = None

    def note(self, message: str) -> None:
        self.diagnostics.append(message)

    # -- schema version ---------------------------------------------------------------------

    def read(self) -> VariantMetadata:
        schema = self.document.get("$schema")
        version: str | None = None
        dialect: _Dialect | None = None
        why_sniffed = "there is no $schema"
        if schema is not None and not isinstance(schema, str):
            why_sniffed = f"$schema is {_json_type(schema)}, not a URL"
        elif isinstance(schema, str):
            match = _SCHEMA_VERSION_RE.match(schema.rstrip("/").rsplit("/", 1)[-1])
            shown = schema if len(schema) <= 100 else schema[:100] + "…"
            why_sniffed = f"$schema {shown!r} names no version"
            if match is not None:
                version = match["version"]
                major = version.split(".")[0]
                if int(major) not in KNOWN_MAJOR_VERSIONS:
                    return self._unusable(
                        version,
                        f"variant metadata schema v{version} (major version {major}) is newer than "
                        "this version of wheelnext-jupyter understands; upgrade wheelnext-jupyter "
                        "to use these variant wheels (non-variant wheels are still considered)",
                    )
                known = _PEP825_VERSIONS if _PEP825_SCHEMA_PATH in schema else _WHEELNEXT_VERSIONS
                dialect = known.get(version)
                newest = max(known, key=_version_key)
                relation = (
                    "newer than any" if _version_key(version) > _version_key(newest) else "not a"
                )
                why_sniffed = (
                    f"schema v{version} is {relation} draft this reader knows "
                    f"({', '.join('v' + v for v in sorted(known, key=_version_key))}); upgrade "
                    "wheelnext-jupyter if variants are missing"
                )
        if dialect is None:
            dialect = self._sniff()
            self.note(f"{why_sniffed}; read as schema {dialect.value}, recognised by its keys")
        return self._read_as(dialect, version)

    def _unusable(self, version: str | None, reason: str) -> VariantMetadata:
        return VariantMetadata(
            source=self.source,
            schema_version=version,
            namespace_priorities=(),
            unusable=reason,
            diagnostics=(*self.diagnostics, reason),
        )

    def _sniff(self) -> _Dialect:
        """Recognise the schema of a document without a usable `$schema` from its keys."""
        providers = self.document.get("providers")
        entries = (
            [entry for entry in providers.values() if isinstance(entry, Mapping)]
            if isinstance(providers, Mapping)
            else []
        )
        variants = self.document.get("variants")
        priorities = self.document.get("default-priorities")
        ranks_features = isinstance(priorities, Mapping) and (
            "feature" in priorities or "property" in priorities
        )
        if any("plugin-use" in entry for entry in entries) or (
            isinstance(variants, Mapping) and LEGACY_NULL_LABEL in variants
        ):
            return _Dialect.WHEELNEXT_002
        if "static-properties" in self.document or any(
            "install-time" in entry or "enable-if" in entry for entry in entries
        ):
            return _Dialect.WHEELNEXT_003
        v020_keys = ("static-properties", "feature-order", "builtin", "build-requires")
        if any(key in entry for entry in entries for key in v020_keys):
            return _Dialect.VARIANTLIB_020
        if isinstance(providers, Mapping):
            return _Dialect.WHEELNEXT_003 if ranks_features else _Dialect.VARIANTLIB_020
        return _Dialect.PEP825_DRAFT if ranks_features else _Dialect.PEP825

    # -- the document -----------------------------------------------------------------------

    def _read_as(self, dialect: _Dialect, version: str | None) -> VariantMetadata:
        for key in self.document:
            if key not in _TOP_KEYS[dialect]:
                self._ignored(repr(key) if not isinstance(key, str) else key, dialect)

        priorities = self.document.get("default-priorities", {})
        if not isinstance(priorities, Mapping):
            self.note(f"default-priorities is {_json_type(priorities)}, not an object; ignored")
            priorities = {}
        allowed = {"namespace", "feature", "property"}
        if dialect not in _HAS_FEATURE_PRIORITIES:
            allowed = {"namespace"}
        for key in priorities:
            if key not in allowed:
                self._ignored(f"default-priorities.{key}", dialect)
        namespaces = self._namespace_priorities(priorities.get("namespace"))
        feature_priorities: dict[str, tuple[str, ...]] = {}
        value_priorities: dict[str, dict[str, tuple[str, ...]]] = {}
        if dialect in _HAS_FEATURE_PRIORITIES:
            feature_priorities = self._feature_priorities(priorities.get("feature"))
            value_priorities = self._nested_values(
                priorities.get("property"), "default-priorities.property"
            )

        providers: dict[str, ProviderInfo] = {}
        broken: dict[str, str] = {}
        if dialect in _HAS_PROVIDERS:
            providers, broken = self._providers(dialect, value_priorities)
            for namespace in sorted(providers.keys() - set(namespaces)):
                self.note(
                    f"providers.{namespace} is not listed in default-priorities.namespace; "
                    "it is not used"
                )

        variants, invalid, aliases = self._variants(dialect, namespaces, providers, broken)
        return VariantMetadata(
            source=self.source,
            schema_version=version,
            namespace_priorities=namespaces,
            feature_priorities=feature_priorities,
            value_priorities=value_priorities,
            providers=providers,
            variants=variants,
            invalid_variants=invalid,
            unusable=self.unusable_reason,
            diagnostics=tuple(self.diagnostics),
            label_aliases=aliases,
        )

    def _ignored(self, path: str, dialect: _Dialect) -> None:
        self.note(f"ignored key {path!r}, which schema {dialect.value} does not define")

    def _namespace_priorities(self, raw: object) -> tuple[str, ...]:
        if raw is None:
            self.note(
                "default-priorities.namespace is missing; variants that use any namespace "
                "cannot be ranked and are unusable"
            )
            return ()
        if not isinstance(raw, list):
            self.note(
                f"default-priorities.namespace is {_json_type(raw)}, not a list of namespaces; "
                "variants that use any namespace are unusable"
            )
            return ()
        out: list[str] = []
        for item in raw:
            if not isinstance(item, str) or not NAMESPACE_RE.match(item):
                self.note(
                    f"default-priorities.namespace: {item!r} is not a namespace "
                    "(0-9 a-z _); skipped"
                )
            elif item in out:
                self.note(f"default-priorities.namespace lists {item!r} twice; the first counts")
            else:
                out.append(item)
        return tuple(out)

    def _feature_priorities(self, raw: object) -> dict[str, tuple[str, ...]]:
        out: dict[str, tuple[str, ...]] = {}
        for namespace, features in self._object_items(raw, "default-priorities.feature"):
            where = f"default-priorities.feature.{namespace}"
            try:
                out[namespace] = _name_list(features, where, FEATURE_RE, "feature")
            except _Malformed as exc:
                self.note(f"{exc}; ignored")
        return out

    def _nested_values(self, raw: object, where: str) -> dict[str, dict[str, tuple[str, ...]]]:
        """`{namespace: {feature: [values]}}` with order kept (priority or preference order)."""
        out: dict[str, dict[str, tuple[str, ...]]] = {}
        for namespace, features in self._object_items(raw, where):
            inner: dict[str, tuple[str, ...]] = {}
            for feature, values in self._object_items(features, f"{where}.{namespace}", FEATURE_RE):
                try:
                    inner[feature] = _name_list(
                        values, f"{where}.{namespace}.{feature}", VALUE_RE, "value"
                    )
                except _Malformed as exc:
                    self.note(f"{exc}; ignored")
            out[namespace] = inner
        return out

    def _object_items(
        self, raw: object, where: str, pattern: re.Pattern[str] = NAMESPACE_RE
    ) -> list[tuple[str, object]]:
        """Items of an optional object whose keys follow `pattern`; the rest is noted and skipped."""
        if raw is None:
            return []
        if not isinstance(raw, Mapping):
            self.note(f"{where} is {_json_type(raw)}, not an object; ignored")
            return []
        items: list[tuple[str, object]] = []
        for key, value in raw.items():
            if not isinstance(key, str) or not pattern.match(key):
                self.note(f"{where}: key {key!r} is not a valid name; ignored")
            else:
                items.append((key, value))
        return items

    # -- providers --------------------------------------------------------------------------

    def _providers(
        self, dialect: _Dialect, value_priorities: Mapping[str, Mapping[str, tuple[str, ...]]]
    ) -> tuple[dict[str, ProviderInfo], dict[str, str]]:
        raw = self.document.get("providers")
        providers: dict[str, ProviderInfo] = {}
        broken: dict[str, str] = {}
        static = (
            self._nested_values(self.document.get("static-properties"), "static-properties")
            if dialect is _Dialect.WHEELNEXT_003
            else {}
        )
        for namespace, entry in self._object_items(raw, "providers"):
            where = f"providers.{namespace}"
            if not isinstance(entry, Mapping):
                broken[namespace] = f"{where} is {_json_type(entry)}, not an object"
                continue
            for key in entry:
                if key not in _PROVIDER_KEYS[dialect]:
                    self._ignored(f"{where}.{key}" if isinstance(key, str) else repr(key), dialect)
            try:
                if dialect is _Dialect.VARIANTLIB_020:
                    providers[namespace] = self._provider_v020(namespace, entry, where)
                else:
                    providers[namespace] = self._provider_v00x(
                        dialect, namespace, entry, where, static, value_priorities
                    )
            except _Malformed as exc:
                broken[namespace] = str(exc)
        for namespace in static:
            info = providers.get(namespace)
            if namespace not in broken and (info is None or info.install_time):
                self.note(
                    f"static-properties.{namespace} is ignored: only ahead-of-time providers "
                    "(install-time: false) use static properties"
                )
        return providers, broken

    def _provider_v00x(
        self,
        dialect: _Dialect,
        namespace: str,
        entry: Mapping[object, object],
        where: str,
        static: Mapping[str, Mapping[str, tuple[str, ...]]],
        value_priorities: Mapping[str, Mapping[str, tuple[str, ...]]],
    ) -> ProviderInfo:
        requires = _requirement_list(entry.get("requires"), f"{where}.requires")
        plugin_api = _optional_str(entry.get("plugin-api"), f"{where}.plugin-api")
        enable_if = _optional_str(entry.get("enable-if"), f"{where}.enable-if")
        optional = _bool(entry.get("optional"), f"{where}.optional", default=False)
        if dialect is _Dialect.WHEELNEXT_002:
            # v0.0.2 → v0.0.3 as WheelNext's own index converted it: only `all` is queried at
            # install time; the AoT values were the namespace's property priorities.
            plugin_use = entry.get("plugin-use", "all")
            if plugin_use not in _PLUGIN_USE_VALUES:
                raise _Malformed(
                    f"{where}.plugin-use is {plugin_use!r}; expected one of "
                    f"{', '.join(_PLUGIN_USE_VALUES)}"
                )
            install_time = plugin_use == "all"
            static_values = value_priorities.get(namespace)
        else:
            install_time = _bool(entry.get("install-time"), f"{where}.install-time", default=True)
            static_values = static.get(namespace)
        static_properties: tuple[VariantFeatureConfig, ...] | None = None
        if not install_time:
            if not static_values:
                self.note(
                    f"{where} is ahead-of-time but the file gives it no static properties; "
                    "no variant using it can be installed"
                )
            static_properties = tuple(
                VariantFeatureConfig(feature, values)
                for feature, values in (static_values or {}).items()
            )
        return ProviderInfo(
            namespace=namespace,
            requires=requires,
            plugin_api=plugin_api,
            enable_if=enable_if,
            optional=optional,
            install_time=install_time,
            static_properties=static_properties,
        )

    def _provider_v020(
        self, namespace: str, entry: Mapping[object, object], where: str
    ) -> ProviderInfo:
        requires = _requirement_list(entry.get("requires"), f"{where}.requires")
        build_requires = _requirement_list(entry.get("build-requires"), f"{where}.build-requires")
        plugin_api = _optional_str(entry.get("plugin-api"), f"{where}.plugin-api")
        builtin = _optional_str(entry.get("builtin"), f"{where}.builtin")
        optional = _bool(entry.get("optional"), f"{where}.optional", default=False)
        static_raw = entry.get("static-properties")
        static: dict[str, tuple[str, ...]] = {}
        if static_raw is not None:
            if not isinstance(static_raw, Mapping):
                raise _Malformed(f"{where}.static-properties is not an object")
            for feature, values in static_raw.items():
                if not isinstance(feature, str) or not FEATURE_RE.match(feature):
                    raise _Malformed(
                        f"{where}.static-properties: {feature!r} is not a feature name"
                    )
                static[feature] = _name_list(
                    values, f"{where}.static-properties.{feature}", VALUE_RE, "value"
                )
        order_raw = entry.get("feature-order")
        order = (
            _name_list(order_raw, f"{where}.feature-order", FEATURE_RE, "feature")
            if order_raw is not None
            else ()
        )

        kinds = [
            name
            for name, present in (
                ("static-properties", bool(static)),
                ("requires", bool(requires)),
                ("builtin", builtin is not None),
                ("build-requires", bool(build_requires)),
            )
            if present
        ]
        if len(kinds) > 1:
            # As in PEP 817's own example, static values win over a plugin named next to them.
            self.note(
                f"{where} declares {' and '.join(kinds)}; v0.2.0 allows one; using {kinds[0]}"
            )
        kind = kinds[0] if kinds else None
        if kind == "static-properties":
            features = [f for f in order if f in static]
            unknown = [f for f in order if f not in static]
            if unknown:
                self.note(f"{where}.feature-order names features without values: {unknown}")
            rest = [f for f in static if f not in features]
            if len(static) > 1 and rest:
                self.note(
                    f"{where}.feature-order does not rank {rest}; they follow in the order written"
                )
            return ProviderInfo(
                namespace=namespace,
                requires=build_requires,
                install_time=False,
                optional=optional,
                static_properties=tuple(
                    VariantFeatureConfig(f, static[f]) for f in (*features, *rest)
                ),
            )
        if kind == "builtin":
            return ProviderInfo(namespace=namespace, optional=optional, builtin=True)
        if kind == "build-requires":
            self.note(
                f"{where} has only build-requires (a build-time plugin) and no static properties; "
                "no variant using it can be installed"
            )
            return ProviderInfo(
                namespace=namespace,
                requires=build_requires,
                plugin_api=plugin_api,
                optional=optional,
                install_time=False,
                static_properties=(),
            )
        if kind is None:
            self.note(
                f"{where} names no plugin, static properties or builtin; only a built-in provider "
                "of this tool can judge its properties"
            )
        return ProviderInfo(
            namespace=namespace, requires=requires, plugin_api=plugin_api, optional=optional
        )

    # -- variants ---------------------------------------------------------------------------

    def _variants(
        self,
        dialect: _Dialect,
        namespaces: tuple[str, ...],
        providers: Mapping[str, ProviderInfo],
        broken: Mapping[str, str],
    ) -> tuple[dict[str, Variant], dict[str, str], dict[str, str]]:
        raw = self.document.get("variants")
        variants: dict[str, Variant] = {}
        invalid: dict[str, str] = {}
        aliases: dict[str, str] = {}
        if raw is None:
            self.note("the file lists no variants")
            return variants, invalid, aliases
        if not isinstance(raw, Mapping):
            self.unusable_reason = (
                f"'variants' is {_json_type(raw)}, not an object of labels; "
                "no variant wheel of this version can be used"
            )
            self.note(self.unusable_reason)
            return variants, invalid, aliases
        for raw_label, entry in raw.items():
            label = raw_label if isinstance(raw_label, str) else repr(raw_label)
            properties, problems = _variant_properties(entry)
            if (
                dialect is _Dialect.WHEELNEXT_002
                and label == LEGACY_NULL_LABEL
                and not properties
                and not problems
            ):
                if NULL_LABEL in raw:
                    self.note(f"both {LEGACY_NULL_LABEL!r} and {NULL_LABEL!r} are listed")
                else:
                    aliases[label] = NULL_LABEL
                    label = NULL_LABEL
            problems = [*_label_problems(label, raw_label), *problems]
            if not problems:
                problems = self._namespace_problems(
                    properties, dialect, namespaces, providers, broken
                )
                # PEP 825 makes `null` the label of the variant without properties, and the only
                # one; a zero-property entry under another label is a second null variant, which
                # the spec (and variantlib, written by its authors) rejects, so we do too.
                if label == NULL_LABEL and properties:
                    problems.append(
                        f"the label {NULL_LABEL!r} is reserved for the variant without properties, "
                        f"but this entry lists {len(properties)}"
                    )
                elif label != NULL_LABEL and not properties:
                    problems.append(
                        "it has no properties, so it is the null variant, which must be labelled "
                        f"{NULL_LABEL!r}"
                    )
            if problems:
                invalid[label] = "; ".join(problems)
                continue
            if len(label) > MAX_EMITTED_LABEL_LENGTH:
                self.note(
                    f"label {label!r} is longer than {MAX_EMITTED_LABEL_LENGTH} characters: valid "
                    "under PEP 825, but older installers reject its wheels"
                )
            variants[label] = Variant(label, properties)
        return variants, invalid, aliases

    def _namespace_problems(
        self,
        properties: tuple[VariantProperty, ...],
        dialect: _Dialect,
        namespaces: tuple[str, ...],
        providers: Mapping[str, ProviderInfo],
        broken: Mapping[str, str],
    ) -> list[str]:
        problems: list[str] = []
        for namespace in dict.fromkeys(p.namespace for p in properties):
            # PEP 817 reserves abi_dependency: never in providers, ranked after everything else.
            if namespace == ABI_DEPENDENCY_NAMESPACE:
                continue
            if namespace not in namespaces:
                problems.append(
                    f"it uses namespace {namespace!r}, which default-priorities.namespace does not "
                    "list, so it cannot be ranked"
                )
            elif namespace in broken:
                problems.append(
                    f"the provider entry of its namespace {namespace!r} is malformed: "
                    f"{broken[namespace]}"
                )
            elif dialect in _HAS_PROVIDERS and namespace not in providers:
                problems.append(
                    f"it uses namespace {namespace!r}, which has no entry in providers, so nothing "
                    "says how to check it"
                )
        return problems


def _label_problems(label: str, raw_label: object) -> list[str]:
    if not isinstance(raw_label, str) or not LABEL_RE.match(label):
        return [f"the label {label!r} uses characters other than 0-9 a-z _ . or is empty"]
    return []


def _variant_properties(entry: object) -> tuple[tuple[VariantProperty, ...], list[str]]:
    """The properties of one `variants` entry, sorted, and what is wrong with it in words."""
    if not isinstance(entry, Mapping):
        return (), [
            f"its entry is {_json_type(entry)}, not an object {{namespace: {{feature: [values]}}}}"
        ]
    found: set[VariantProperty] = set()
    problems: list[str] = []
    for namespace, features in entry.items():
        if not isinstance(features, Mapping):
            problems.append(
                f"namespace {namespace!r} maps to {_json_type(features)}, "
                "not an object {feature: [values]}"
            )
            continue
        for feature, values in features.items():
            where = f"{namespace} :: {feature}"
            if not isinstance(values, list) or not values:
                problems.append(f"{where} must be a non-empty list of values")
                continue
            for value in values:
                if not isinstance(namespace, str) or not isinstance(feature, str):
                    problems.append(f"{where}: names must be strings")
                    break
                if not isinstance(value, str):
                    problems.append(f"{where}: value {value!r} is not a string")
                    continue
                try:
                    found.add(VariantProperty(namespace, feature, value))
                except InvalidVariantProperty as exc:
                    problems.append(str(exc))
    return tuple(sorted(found)), problems


def _name_list(raw: object, where: str, pattern: re.Pattern[str], kind: str) -> tuple[str, ...]:
    """A list of names (features or values), order kept, duplicates dropped."""
    if not isinstance(raw, list):
        raise _Malformed(f"{where} is {_json_type(raw)}, not a list of {kind}s")
    out: list[str] = []
    for item in raw:
        if not isinstance(item, str) or not pattern.match(item):
            raise _Malformed(f"{where}: {item!r} is not a valid {kind}")
        if item not in out:
            out.append(item)
    return tuple(out)


def _requirement_list(raw: object, where: str) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
        raise _Malformed(f"{where} is {_json_type(raw)}, not a list of requirement strings")
    return tuple(item for item in raw if isinstance(item, str))


def _optional_str(raw: object, where: str) -> str | None:
    if raw is None or isinstance(raw, str):
        return raw
    raise _Malformed(f"{where} is {_json_type(raw)}, not a string")


def _bool(raw: object, where: str, *, default: bool) -> bool:
    if raw is None:
        return default
    if isinstance(raw, bool):
        return raw
    raise _Malformed(f"{where} is {_json_type(raw)}, not true or false")


# --------------------------------------------------------------------------------------------
# Merge (PEP 825 "Consistency": several wheels' variant.json of one package version)
# --------------------------------------------------------------------------------------------


def merge_variant_metadata(documents: Sequence[VariantMetadata]) -> VariantMetadata:
    """Combine the metadata of several wheels of one version into one document.

    Namespace priorities must be equal or one a prefix of the other (the longer wins); a label
    means the same properties everywhere; providers and priorities must agree. The result does not
    depend on the order of `documents`. Any disagreement raises `VariantMetadataConflict`.
    """
    if not documents:
        raise VariantMetadataError("no variant metadata to merge")
    first = documents[0]
    if len(documents) == 1:
        return first
    merged = _Merged(first)
    for document in documents[1:]:
        merged.add(document)
    return merged.result()


class _Merged:
    def __init__(self, first: VariantMetadata) -> None:
        self.sources = [first.source]
        self.versions = {first.schema_version}
        self.namespaces = first.namespace_priorities
        self.namespaces_from = first.source
        self.feature_priorities = {
            ns: (v, first.source) for ns, v in first.feature_priorities.items()
        }
        self.value_priorities = {ns: (v, first.source) for ns, v in first.value_priorities.items()}
        self.providers = {ns: (p, first.source) for ns, p in first.providers.items()}
        self.variants = {label: (v, first.source) for label, v in first.variants.items()}
        self.invalid = {
            label: f"{first.source}: {why}" for label, why in first.invalid_variants.items()
        }
        self.aliases = dict(first.label_aliases)
        self.unusable = [f"{first.source}: {first.unusable}"] if first.unusable else []
        self.diagnostics = [f"{first.source}: {d}" for d in first.diagnostics]

    def add(self, doc: VariantMetadata) -> None:
        self.sources.append(doc.source)
        self.versions.add(doc.schema_version)
        self.diagnostics.extend(f"{doc.source}: {d}" for d in doc.diagnostics)
        if doc.unusable:
            self.unusable.append(f"{doc.source}: {doc.unusable}")

        shorter, longer = sorted((self.namespaces, doc.namespace_priorities), key=len)
        if longer[: len(shorter)] != shorter:
            raise VariantMetadataConflict(
                f"default-priorities.namespace differs: {self.namespaces_from} has "
                f"{list(self.namespaces)}, {doc.source} has {list(doc.namespace_priorities)}; "
                "neither is a prefix of the other, so the wheels disagree on namespace order"
            )
        if len(doc.namespace_priorities) > len(self.namespaces):
            self.namespaces, self.namespaces_from = doc.namespace_priorities, doc.source

        _merge_agreeing(
            self.feature_priorities,
            doc.feature_priorities,
            doc.source,
            "default-priorities.feature",
        )
        _merge_agreeing(
            self.value_priorities, doc.value_priorities, doc.source, "default-priorities.property"
        )
        for namespace, provider in doc.providers.items():
            known = self.providers.get(namespace)
            if known is None:
                self.providers[namespace] = (provider, doc.source)
            elif known[0] != provider:
                raise VariantMetadataConflict(
                    f"providers.{namespace} differs between {known[1]} and {doc.source}: "
                    f"{_provider_differences(known[0], provider)}"
                )
        for label, variant in doc.variants.items():
            seen = self.variants.get(label)
            if seen is None:
                self.variants[label] = (variant, doc.source)
            elif seen[0].properties != variant.properties:
                raise VariantMetadataConflict(
                    f"label {label!r} stands for different properties in {seen[1]} "
                    f"({_property_list(seen[0])}) and in {doc.source} ({_property_list(variant)}); "
                    "one label must mean one property set"
                )
        for label, why in doc.invalid_variants.items():
            self.invalid.setdefault(label, f"{doc.source}: {why}")
        for alias, label in doc.label_aliases.items():
            self.aliases.setdefault(alias, label)

    def result(self) -> VariantMetadata:
        versions = {v for v in self.versions if v is not None}
        version = versions.pop() if len(versions) == 1 and None not in self.versions else None
        if len(self.versions) > 1:
            self.diagnostics.append(
                "merged documents of schema versions "
                + ", ".join(sorted(v or "unknown" for v in self.versions))
            )
        # An entry found invalid in any wheel stays unusable even if another wheel is fine.
        variants = {
            label: variant
            for label, (variant, _) in self.variants.items()
            if label not in self.invalid
        }
        return VariantMetadata(
            source=" + ".join(self.sources),
            schema_version=version,
            namespace_priorities=self.namespaces,
            feature_priorities={ns: v for ns, (v, _) in self.feature_priorities.items()},
            value_priorities={ns: v for ns, (v, _) in self.value_priorities.items()},
            providers={ns: p for ns, (p, _) in self.providers.items()},
            variants=dict(sorted(variants.items())),
            invalid_variants=dict(sorted(self.invalid.items())),
            unusable="; ".join(self.unusable) or None,
            diagnostics=tuple(self.diagnostics),
            label_aliases=self.aliases,
        )


def _merge_agreeing(
    into: dict[str, tuple[_V, str]], new: Mapping[str, _V], source: str, what: str
) -> None:
    for namespace, value in new.items():
        known = into.get(namespace)
        if known is None:
            into[namespace] = (value, source)
        elif known[0] != value:
            raise VariantMetadataConflict(
                f"{what}.{namespace} differs: {known[1]} has {_plain(known[0])}, "
                f"{source} has {_plain(value)}"
            )


def _plain(value: object) -> object:
    """Tuples and mappings as lists and dicts, for readable messages."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


def _property_list(variant: Variant) -> str:
    return ", ".join(str(p) for p in variant.properties) or "no properties"


def _provider_differences(a: ProviderInfo, b: ProviderInfo) -> str:
    return "; ".join(
        f"{name}: {_plain(getattr(a, name))!r} vs {_plain(getattr(b, name))!r}"
        for name in field_names(ProviderInfo)
        if getattr(a, name) != getattr(b, name)
    )


# --------------------------------------------------------------------------------------------
# Conversion to variantlib's v0.2.0 shape (a test oracle; our reader is the product)
# --------------------------------------------------------------------------------------------

VARIANTLIB_V020_SCHEMA_URL = "https://variants-schema.wheelnext.dev/v0.2.0.json"


def to_variantlib_v020(metadata: VariantMetadata) -> dict[str, object]:
    """The metadata as variantlib 0.2.x writes `*-variants.json`.

    Loses what v0.2.0 cannot say: `enable-if`, feature and value priorities, invalid variants.
    Raises `VariantMetadataError` for a namespace v0.2.0 cannot express (no provider entry, an
    install-time provider without `requires`, an ahead-of-time one without static values).
    """
    if metadata.unusable:
        raise VariantMetadataError(f"{metadata.source}: unusable: {metadata.unusable}")
    providers: dict[str, dict[str, object]] = {}
    for namespace in metadata.namespace_priorities:
        info = metadata.providers.get(namespace)
        if info is None:
            raise VariantMetadataError(
                f"{metadata.source}: namespace {namespace!r} has no provider entry; "
                "v0.2.0 needs one for every ranked namespace"
            )
        entry: dict[str, object] = {}
        if info.builtin:
            entry["builtin"] = namespace
        elif info.install_time:
            if not info.requires:
                raise VariantMetadataError(
                    f"{metadata.source}: install-time provider {namespace!r} names no plugin "
                    "(requires); v0.2.0 cannot express it"
                )
            entry["requires"] = list(info.requires)
            if info.plugin_api is not None:
                entry["plugin-api"] = info.plugin_api
        else:
            if not info.static_properties:
                raise VariantMetadataError(
                    f"{metadata.source}: ahead-of-time provider {namespace!r} has no static "
                    "properties; v0.2.0 cannot express it"
                )
            entry["static-properties"] = {f.name: list(f.values) for f in info.static_properties}
            if len(info.static_properties) > 1:
                entry["feature-order"] = [f.name for f in info.static_properties]
        if info.optional:
            entry["optional"] = True
        providers[namespace] = entry
    return {
        "$schema": VARIANTLIB_V020_SCHEMA_URL,
        "default-priorities": {"namespace": list(metadata.namespace_priorities)},
        "providers": providers,
        "variants": {
            label: variant.as_nested() for label, variant in sorted(metadata.variants.items())
        },
    }
