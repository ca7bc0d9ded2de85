"""Target profiles: the static description of a machine's supported variant properties.

Format `wheelnext-profile/1` (JSON): `{"format", "providers": {ns: [{"name", "values", "multi_value"}]},
"host": {...}}`. Feature and value order are preference order, best first. A namespace absent from
`providers` is unsupported.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wheelnext_jupyter.variants.properties import (
    InvalidVariantProperty,
    VariantFeatureConfig,
    check_part,
    NAMESPACE_RE,
)

PROFILE_FORMAT = "wheelnext-profile/1"


class ProfileError(ValueError):
    """A profile file that cannot be used; the message names the file and the problem."""


@dataclass(frozen=True)
class TargetProfile:
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
