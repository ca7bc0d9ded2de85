"""Target profiles: the static description of a machine's supported variant properties.

Format `wheelnext-profile/1` (JSON): `{"format", "providers": {ns: [{"name", "values", "multi_value"}]},
"host": {...}}`. Feature and value order are preference order, best first. A namespace absent from
`providers` is unsupported.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from wheelnext_jupyter.record import Record, field
from wheelnext_jupyter.variants.properties import (
    NAMESPACE_RE,
    InvalidVariantProperty,
    VariantFeatureConfig,
    check_part,
)

PROFILE_FORMAT = "wheelnext-profile/1"


class ProfileError(ValueError):
    """A profile file that cannot be used; the message names the file and the problem."""


class TargetProfile(Record):
    """Supported configurations per namespace, plus informational host facts."""

    providers: Mapping[str, tuple[VariantFeatureConfig, ...]]
    host: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": PROFILE_FORMAT,
            "providers": {
                ns: [
                    {"name": f.name, "values": list(f.values), "multi_value": f.multi_value}
                    for f in features
                ]
                for ns, features in self.providers.items()
            },
            "host": dict(self.host),
        }


def profile_from_json(data: object, *, source: str = "profile") -> TargetProfile:
    """Build a profile from parsed JSON, with errors that name `source` and the bad entry."""
    if not isinstance(data, dict):
        raise ProfileError(f"{source}: a profile must be a JSON object")
    fmt = data.get("format")
    if fmt != PROFILE_FORMAT:
        raise ProfileError(
            f"{source}: unknown profile format {fmt!r}; expected {PROFILE_FORMAT!r} "
            "(write one with `wheelnext-jupyter detect --save-profile FILE`)"
        )
    raw_providers = data.get("providers", {})
    if not isinstance(raw_providers, dict):
        raise ProfileError(f"{source}: 'providers' must be an object of namespace → features")
    providers: dict[str, tuple[VariantFeatureConfig, ...]] = {}
    for ns, features in raw_providers.items():
        try:
            check_part("namespace", ns, NAMESPACE_RE)
        except InvalidVariantProperty as exc:
            raise ProfileError(f"{source}: {exc}") from None
        if not isinstance(features, list):
            raise ProfileError(f"{source}: providers.{ns} must be a list of features")
        configs: list[VariantFeatureConfig] = []
        for index, entry in enumerate(features):
            where = f"{source}: providers.{ns}[{index}]"
            if not isinstance(entry, dict):
                raise ProfileError(f"{where} must be an object with 'name' and 'values'")
            name, values = entry.get("name"), entry.get("values")
            multi = entry.get("multi_value", False)
            if not isinstance(name, str) or not isinstance(values, list):
                raise ProfileError(f"{where} needs a string 'name' and a list 'values'")
            if not all(isinstance(v, str) for v in values) or not isinstance(multi, bool):
                raise ProfileError(f"{where}: 'values' must be strings, 'multi_value' a boolean")
            try:
                configs.append(VariantFeatureConfig(name, tuple(values), multi))
            except InvalidVariantProperty as exc:
                raise ProfileError(f"{where}: {exc}") from None
        providers[ns] = tuple(configs)
    host = data.get("host", {})
    return TargetProfile(providers=providers, host=host if isinstance(host, dict) else {})


def load_profile(path: str | Path) -> TargetProfile:
    """Read a profile file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ProfileError(f"cannot read profile {path}: {exc.strerror}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ProfileError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    return profile_from_json(data, source=str(path))


def save_profile(profile: TargetProfile, path: str | Path) -> None:
    Path(path).write_text(json.dumps(profile.to_json(), indent=2) + "\n", encoding="utf-8")


# -- uv's static variant file (`UV_VARIANT_LOCK`) ------------------------------------------------
#
# TOML: `[metadata] created-by, version = "0.1"`, then one `[[provider]]` per namespace with
# `resolved = ["pkg==ver"]`, `plugin-api`, `namespace` and `[provider.properties] feature = [values]`.
# uv's format has no place for `multi_value`; we add `multi-value = [features]` to each provider
# (uv ignores keys it does not know), and without it take `multi_value` from our built-in provider.

UV_LOCK_VERSION = "0.1"


class UvPlugin(Record):
    """The plugin a namespace's entry names in uv's file."""

    resolved: tuple[str, ...] = ()
    plugin_api: str | None = None


def _toml_string(text: str) -> str:
    out = ['"']
    for char in text:
        if char in ('"', "\\"):
            out.append("\\" + char)
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def _toml_list(items: Sequence[str]) -> str:
    return "[" + ", ".join(_toml_string(item) for item in items) + "]"


def _default_uv_plugin(namespace: str) -> UvPlugin:
    from wheelnext_jupyter.providers import builtin

    spec = builtin.BUILTINS.get(namespace)
    if spec is None:
        return UvPlugin()
    resolved = (spec.reference_plugin,) if spec.reference_plugin else ()
    return UvPlugin(resolved, spec.reference_plugin_api)


def profile_to_uv_lock(
    profile: TargetProfile,
    *,
    plugins: Mapping[str, UvPlugin] | None = None,
    created_by: str | None = None,
) -> str:
    """uv's static variant file for `profile`.

    `plugins` names the plugin of a namespace; by default the real plugin our built-in provider
    stands in for (nothing for namespaces without one, such as `tpu`).
    """
    if created_by is None:
        from wheelnext_jupyter import __version__

        created_by = f"wheelnext-jupyter {__version__}"
    lines = [
        "[metadata]",
        f"created-by = {_toml_string(created_by)}",
        f"version = {_toml_string(UV_LOCK_VERSION)}",
    ]
    for namespace, features in profile.providers.items():
        plugin = (plugins or {}).get(namespace) or _default_uv_plugin(namespace)
        lines += ["", "[[provider]]", f"resolved = {_toml_list(plugin.resolved)}"]
        if plugin.plugin_api:
            lines.append(f"plugin-api = {_toml_string(plugin.plugin_api)}")
        lines.append(f"namespace = {_toml_string(namespace)}")
        multi = [f.name for f in features if f.multi_value]
        if multi:
            lines.append(f"multi-value = {_toml_list(multi)}")
        lines.append("")
        lines.append("[provider.properties]")
        # Feature names match [a-z0-9_]+, so they are valid bare keys.
        lines += [f"{f.name} = {_toml_list(f.values)}" for f in features]
    return "\n".join(lines) + "\n"


def profile_from_uv_lock(text: str, *, source: str = "uv variant file") -> TargetProfile:
    """Read uv's static variant file into a profile (namespaces in file order)."""
    from wheelnext_jupyter.toml_text import load_toml

    try:
        data = load_toml(text)
    except ValueError as exc:  # TOMLDecodeError is a ValueError
        raise ProfileError(f"{source}: not valid TOML ({exc})") from None
    metadata = data.get("metadata")
    if not isinstance(metadata, dict) or "version" not in metadata:
        raise ProfileError(f"{source}: missing [metadata] with version = {UV_LOCK_VERSION!r}")
    version = str(metadata.get("version"))
    if version.split(".")[0] != UV_LOCK_VERSION.split(".")[0]:
        raise ProfileError(
            f"{source}: uv variant file version {version!r} is not supported "
            f"(this tool reads version {UV_LOCK_VERSION})"
        )
    entries = data.get("provider", [])
    if not isinstance(entries, list):
        raise ProfileError(f"{source}: 'provider' must be an array of tables ([[provider]])")
    providers: dict[str, tuple[VariantFeatureConfig, ...]] = {}
    for index, entry in enumerate(entries):
        where = f"{source}: provider[{index}]"
        if not isinstance(entry, dict):
            raise ProfileError(f"{where} must be a table")
        namespace = entry.get("namespace")
        if not isinstance(namespace, str):
            raise ProfileError(f"{where} needs a string 'namespace'")
        try:
            check_part("namespace", namespace, NAMESPACE_RE)
        except InvalidVariantProperty as exc:
            raise ProfileError(f"{where}: {exc}") from None
        if namespace in providers:
            raise ProfileError(f"{where}: namespace {namespace!r} appears twice; keep one entry")
        properties = entry.get("properties", {})
        if not isinstance(properties, dict):
            raise ProfileError(f"{where}: 'properties' must be a table of feature = [values]")
        multi_raw = entry.get("multi-value")
        multi_names = set(multi_raw) if isinstance(multi_raw, list) else None
        configs: list[VariantFeatureConfig] = []
        for feature, values in properties.items():
            if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                raise ProfileError(f"{where}: properties.{feature} must be a list of strings")
            multi = (
                feature in multi_names
                if multi_names is not None
                else _builtin_multi_value(namespace, feature)
            )
            try:
                configs.append(VariantFeatureConfig(feature, tuple(values), multi))
            except InvalidVariantProperty as exc:
                raise ProfileError(f"{where}: {exc}") from None
        providers[namespace] = tuple(configs)
    return TargetProfile(providers=providers, host={})


def _builtin_multi_value(namespace: str, feature: str) -> bool:
    from wheelnext_jupyter.providers import builtin

    for config in builtin.all_configs(namespace) or ():
        if config.name == feature:
            return config.multi_value
    return False


def load_uv_lock(path: str | Path) -> TargetProfile:
    """Read uv's static variant file (the file `UV_VARIANT_LOCK` points to)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ProfileError(f"cannot read uv variant file {path}: {exc.strerror}") from None
    return profile_from_uv_lock(text, source=str(path))


def save_uv_lock(
    profile: TargetProfile,
    path: str | Path,
    *,
    plugins: Mapping[str, UvPlugin] | None = None,
) -> None:
    """Write uv's static variant file; use it with `UV_VARIANT_LOCK=PATH uv pip install …`."""
    Path(path).write_text(profile_to_uv_lock(profile, plugins=plugins), encoding="utf-8")


def load_profile_file(path: str | Path) -> TargetProfile:
    """A profile from either format: uv's static variant file (`*.toml`) or profile JSON."""
    if Path(path).suffix.lower() == ".toml":
        return load_uv_lock(path)
    return load_profile(path)
