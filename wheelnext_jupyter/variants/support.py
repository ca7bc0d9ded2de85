"""Which namespaces a package version's variants can use on the target, and with which values.

Combines three inputs: the metadata's provider information (ahead-of-time static values, `optional`,
`enable-if`), the supported configurations reported for the target (detection or a profile), and the
user's switches. Every disabled namespace carries the reason and the way to enable it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from packaging.markers import InvalidMarker, Marker, UndefinedComparison, UndefinedEnvironmentName

from wheelnext_jupyter.record import Record
from wheelnext_jupyter.variants.metadata import ProviderInfo, VariantMetadata
from wheelnext_jupyter.variants.properties import (
    ABI_DEPENDENCY_NAMESPACE,
    SupportedConfigs,
    VariantFeatureConfig,
)


class NamespaceSupport(Record):
    """The supported features of one namespace on the target, or why there are none."""

    namespace: str
    #: Features in preference order, values best first; None when the namespace is disabled.
    features: tuple[VariantFeatureConfig, ...] | None
    #: Where the values come from: "target" (detection or profile), "static" (ahead-of-time
    #: metadata), or "disabled".
    source: str
    #: For a disabled namespace: why, and how to change that.
    reason: str | None = None

    @property
    def enabled(self) -> bool:
        return self.features is not None

    def feature(self, name: str) -> VariantFeatureConfig | None:
        for config in self.features or ():
            if config.name == name:
                return config
        return None


def _enable_if_holds(
    provider: ProviderInfo, environment: Mapping[str, str]
) -> tuple[bool, str | None]:
    if not provider.enable_if:
        return True, None
    try:
        marker = Marker(provider.enable_if)
    except InvalidMarker:
        return False, (
            f"the metadata's enable-if marker {provider.enable_if!r} for namespace "
            f"`{provider.namespace}` is invalid, so its variants cannot be used"
        )
    try:
        holds = marker.evaluate(dict(environment))
    except (UndefinedComparison, UndefinedEnvironmentName) as exc:
        return False, f"enable-if {provider.enable_if!r} cannot be evaluated: {exc}"
    if holds:
        return True, None
    used = {
        name: environment[name]
        for name in environment
        if name in provider.enable_if and isinstance(environment[name], str)
    }
    facts = ", ".join(f"{name} = {value!r}" for name, value in sorted(used.items()))
    return False, (
        f"provider `{provider.namespace}` applies only where {provider.enable_if!r}, "
        f"which is false for the target environment" + (f" ({facts})" if facts else "")
    )


def resolve_support(
    metadata: VariantMetadata,
    supported: SupportedConfigs,
    *,
    environment: Mapping[str, str],
    enabled_optional: Iterable[str] = (),
    unavailable: Mapping[str, str] | None = None,
) -> dict[str, NamespaceSupport]:
    """Support for every namespace the metadata mentions.

    `supported` holds the target's configurations for install-time providers (from detection or a
    profile; the `abi_dependency` namespace too, when the caller knows the environment's versions).
    `environment` is the target's marker environment, for `enable-if`. `unavailable` maps a namespace
    to the reason its provider gave no answer (untrusted plugin, plugin failure), overriding the
    generic "not provided" reason.
    """
    enabled = set(enabled_optional)
    namespaces: dict[str, None] = dict.fromkeys(metadata.namespace_priorities)
    namespaces.update(dict.fromkeys(metadata.providers))
    for variant in metadata.variants.values():
        namespaces.update(dict.fromkeys(variant.namespaces))
    result: dict[str, NamespaceSupport] = {}
    for ns in namespaces:
        result[ns] = _support_for(
            ns, metadata.providers.get(ns), supported, environment, enabled, unavailable or {}
        )
    return result


def _disabled(ns: str, reason: str) -> NamespaceSupport:
    return NamespaceSupport(ns, None, "disabled", reason)


def _support_for(
    ns: str,
    provider: ProviderInfo | None,
    supported: SupportedConfigs,
    environment: Mapping[str, str],
    enabled: set[str],
    unavailable: Mapping[str, str],
) -> NamespaceSupport:
    if ns == ABI_DEPENDENCY_NAMESPACE:
        if ns in supported:
            return NamespaceSupport(ns, tuple(supported[ns]), "target")
        return _disabled(
            ns,
            "`abi_dependency` variants need the versions installed in the target environment, "
            "which were not given",
        )
    if provider is not None:
        if provider.optional and ns not in enabled:
            return _disabled(
                ns,
                f"provider `{ns}` is optional and off by default; "
                f"enable it with --enable-provider {ns}",
            )
        holds, why = _enable_if_holds(provider, environment)
        if not holds:
            return _disabled(ns, why or "")
        if provider.is_ahead_of_time:
            if provider.static_properties is None:
                return _disabled(
                    ns,
                    f"ahead-of-time provider `{ns}` publishes no static properties in the metadata, "
                    "so its variants cannot be checked",
                )
            return NamespaceSupport(ns, provider.static_properties, "static")
    if ns in supported:
        return NamespaceSupport(ns, tuple(supported[ns]), "target")
    if ns in unavailable:
        return _disabled(ns, unavailable[ns])
    return _disabled(
        ns,
        f"namespace `{ns}` is not supported on this target: no provider reported it "
        "(no such hardware detected, or absent from the profile)",
    )
