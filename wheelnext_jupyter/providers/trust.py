"""Which external provider plugins the user trusts: exact `NAME==VERSION` pairs, nothing looser.

Sources: `--trust-provider NAME==VERSION` (repeatable) and the user configuration file
`<user config dir>/wheelnext-jupyter/config.toml`, key `trusted-providers = ["NAME==VERSION", …]`.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version

from wheelnext_jupyter.paths import user_config_path
from wheelnext_jupyter.record import Record

CONFIG_KEY = "trusted-providers"


class TrustError(ValueError):
    """A trust entry or configuration file that cannot be used; says what to write instead."""


class TrustList(Record):
    """Trusted plugin packages by canonical name and exact version."""

    entries: frozenset[tuple[NormalizedName, Version]] = frozenset()

    @classmethod
    def from_specs(cls, specs: Iterable[str], *, source: str = "--trust-provider") -> TrustList:
        return cls(frozenset(parse_trust_spec(spec, source=source) for spec in specs))

    def __or__(self, other: TrustList) -> TrustList:
        return TrustList(self.entries | other.entries)

    def is_trusted(self, name: str, version: Version | str) -> bool:
        return (canonicalize_name(name), Version(str(version))) in self.entries

    def trusted_versions(self, name: str) -> list[Version]:
        """Trusted versions of `name`, newest first."""
        wanted = canonicalize_name(name)
        return sorted((v for n, v in self.entries if n == wanted), reverse=True)

    def specs(self) -> list[str]:
        return sorted(f"{name}=={version}" for name, version in self.entries)


def parse_trust_spec(
    spec: str, *, source: str = "--trust-provider"
) -> tuple[NormalizedName, Version]:
    """`NAME==VERSION` → (canonical name, version); anything looser is refused."""
    hint = f"{source}: trust needs an exact 'NAME==VERSION', e.g. 'my-variant-provider==1.2.0'"
    try:
        req = Requirement(spec)
    except InvalidRequirement:
        raise TrustError(f"{hint}; got {spec!r}") from None
    pins = list(req.specifier)
    if req.url or req.extras or req.marker or len(pins) != 1 or pins[0].operator != "==":
        raise TrustError(f"{hint}; got {spec!r}")
    if "*" in pins[0].version:
        raise TrustError(f"{hint} (no wildcards); got {spec!r}")
    try:
        version = Version(pins[0].version)
    except InvalidVersion:
        raise TrustError(f"{hint}; got {spec!r}") from None
    return canonicalize_name(req.name), version


def _read_config(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise TrustError(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise TrustError(f"cannot read {path}: {exc}") from None
    # Imported only for a file that exists (most runs have none): the parser is slow to load.
    from wheelnext_jupyter.toml_text import load_toml

    try:
        data = load_toml(text)
    except ValueError as exc:
        raise TrustError(f"{path}: not valid TOML ({exc})") from None
    return data


def load_trust_list(specs: Iterable[str] = (), *, config_path: Path | None = None) -> TrustList:
    """The trust list from the configuration file plus `specs` (from `--trust-provider`)."""
    path = user_config_path() if config_path is None else config_path
    raw = _read_config(path).get(CONFIG_KEY, [])
    if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
        raise TrustError(f'{path}: {CONFIG_KEY} must be a list of "NAME==VERSION" strings')
    return TrustList.from_specs(raw, source=f"{path} {CONFIG_KEY}") | TrustList.from_specs(specs)
