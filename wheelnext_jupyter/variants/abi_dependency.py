"""The reserved `abi_dependency` namespace (PEP 817): variants built against a dependency's ABI.

A property `abi_dependency :: <name> :: <value>` asks for a distribution `<name>` whose version
matches `=={value}.*`, where `value` is a release segment of one to three numbers: `2` means
`==2.*`, `2.9` means `==2.9.*`, `2.8.0` means `==2.8.0.*` (so `2`, `2.0` and `2.0.0` are three
different ranges). No provider answers for this namespace; the supported values come from the
versions in the environment being built.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from packaging.specifiers import Specifier
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from wheelnext_jupyter.variants.properties import FEATURE_RE, VariantFeatureConfig

#: One to three release numbers, without leading zeros (the spelling the supported values use, so
#: that matching by range and matching by value always agree).
_VALUE_RE = re.compile(r"^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*)){0,2}$")
#: Version components a value may have.
MAX_COMPONENTS = 3
#: Name of the environment variable variantlib reads extra versions from.
OVERRIDE_ENVIRONMENT_VARIABLE = "VARIANT_ABI_DEPENDENCY"


class InvalidAbiDependency(ValueError):
    """An `abi_dependency` value or version override that does not follow PEP 817's rules."""


def feature_name(distribution: str) -> str:
    """The feature name of a distribution: its normalised name with `-` → `_`."""
    return canonicalize_name(distribution).replace("-", "_")


def check_value(value: str) -> str:
    """Return `value` if it is a valid `abi_dependency` value, else raise `InvalidAbiDependency`."""
    if _VALUE_RE.match(value):
        return value
    if "!" in value:
        why = "epochs are not supported"
    elif value.count(".") >= MAX_COMPONENTS:
        why = f"it has more than {MAX_COMPONENTS} components"
    else:
        why = "each component must be a number without leading zeros"
    raise InvalidAbiDependency(
        f"invalid abi_dependency value {value!r}: {why}; "
        "use one to three release numbers such as '2', '2.9' or '2.9.1'"
    )


def _as_version(version: Version | str) -> Version:
    return version if isinstance(version, Version) else Version(version)


def abi_value_matches(value: str, version: Version | str) -> bool:
    """Whether `version` lies in the range of `value` (`=={value}.*`, pre-releases included).

    Raises `InvalidAbiDependency` for an invalid value and packaging's `InvalidVersion` for a
    version that is not PEP 440.
    """
    # Pre-, post- and dev releases belong to their release's range: a 2.9.1rc1 build has 2.9's ABI.
    return Specifier(f"=={check_value(value)}.*").contains(_as_version(version), prereleases=True)


def abi_values(version: Version | str) -> tuple[str, ...]:
    """The values `version` satisfies, most specific first: `X.Y.Z`, `X.Y`, `X`.

    Missing release components count as 0 (`2` gives `2.0.0`, `2.0`, `2`, all of which match it).
    A version with an epoch matches no value and gives none.
    """
    parsed = _as_version(version)
    if parsed.epoch:
        return ()
    release = (*parsed.release, 0, 0)[:MAX_COMPONENTS]
    return tuple(
        ".".join(str(part) for part in release[:length]) for length in range(MAX_COMPONENTS, 0, -1)
    )


def abi_dependency_configs(
    installed: Mapping[str, Version | str],
    overrides: Mapping[str, Version | str] | None = None,
) -> list[VariantFeatureConfig]:
    """The supported configurations of the `abi_dependency` namespace.

    `installed` maps distribution names to the versions the target environment will hold (include
    what the same install puts there); `overrides` (see `parse_abi_dependency_override`) win over
    it. One feature per distribution, in name order; values most specific first, so a wheel built
    against the exact release beats one built for the whole minor or major series. Features are
    multi-value: a wheel may list several ranges, any of which will do. Versions that are not PEP
    440 or carry an epoch give no feature.
    """
    versions: dict[str, Version] = {}
    for source in (installed, overrides or {}):
        for name, version in source.items():
            try:
                versions[feature_name(name)] = _as_version(version)
            except InvalidVersion:
                versions.pop(feature_name(name), None)
    configs = []
    for name in sorted(versions):
        values = abi_values(versions[name])
        if values:
            configs.append(VariantFeatureConfig(name, values, multi_value=True))
    return configs


def parse_abi_dependency_override(text: str) -> dict[str, Version]:
    """Parse `VARIANT_ABI_DEPENDENCY`-style text, `a==1.2,b==3.4`, into feature name → version.

    Blank entries are skipped; a later entry for the same distribution wins. Unlike variantlib,
    which logs and skips a malformed entry, this raises `InvalidAbiDependency`: a typo in an
    override would otherwise silently change which wheel is chosen.
    """
    versions: dict[str, Version] = {}
    for entry in text.split(","):
        entry = entry.strip()
        if not entry:
            continue
        name, separator, version = (part.strip() for part in entry.partition("=="))
        if not separator or not name or not version:
            raise InvalidAbiDependency(
                f"invalid {OVERRIDE_ENVIRONMENT_VARIABLE} entry {entry!r}: "
                "expected NAME==VERSION, e.g. 'torch==2.9.0,numpy==2.3.4'"
            )
        if not FEATURE_RE.match(feature_name(name)):
            raise InvalidAbiDependency(
                f"invalid {OVERRIDE_ENVIRONMENT_VARIABLE} entry {entry!r}: "
                f"{name!r} is not a distribution name"
            )
        try:
            versions[feature_name(name)] = Version(version)
        except InvalidVersion:
            raise InvalidAbiDependency(
                f"invalid {OVERRIDE_ENVIRONMENT_VARIABLE} entry {entry!r}: "
                f"{version!r} is not a valid version"
            ) from None
    return versions
