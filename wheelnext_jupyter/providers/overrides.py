"""Our own per-namespace switches, beside the real plugins' `*_FORCE_*` variables.

- `WHEELNEXT_VARIANTS_DISABLE=ns1,ns2` — those namespaces are treated as unsupported.
- `WHEELNEXT_VARIANTS_<NAMESPACE>="feature=v1,v2;feature2=v3"` — the namespace's supported
  configurations, features and values in preference order (best first). An empty value means the
  namespace is unsupported. `feature*=v1,v2` marks a multi-value feature; without `*` a feature
  takes `multi_value` from the namespace's built-in provider where there is one.

Names are upper case: `x86_64` is `WHEELNEXT_VARIANTS_X86_64`. `DISABLE` is reserved.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from wheelnext_jupyter.record import Record
from wheelnext_jupyter.variants.properties import (
    NAMESPACE_RE,
    InvalidVariantProperty,
    VariantFeatureConfig,
)

PREFIX = "WHEELNEXT_VARIANTS_"
DISABLE_VARIABLE = PREFIX + "DISABLE"


class OverrideError(ValueError):
    """An override variable that cannot be parsed; the message names the variable and the fix."""


class NamespaceOverride(Record):
    """The user's replacement answer for one namespace, and the variable it came from."""

    namespace: str
    configs: tuple[VariantFeatureConfig, ...]
    variable: str


class Overrides(Record):
    """Every override found in one environment."""

    disabled: frozenset[str] = frozenset()
    namespaces: Mapping[str, NamespaceOverride] | None = None

    def for_namespace(self, namespace: str) -> NamespaceOverride | None:
        return (self.namespaces or {}).get(namespace)


def variable_for(namespace: str) -> str:
    """The override variable of `namespace`."""
    return PREFIX + namespace.upper()


def relevant_items(environ: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """Our override variables present in `environ`, sorted (part of detection's cache key)."""
    return tuple(sorted((k, v) for k, v in environ.items() if k.startswith(PREFIX)))


def parse_namespace_value(
    namespace: str,
    text: str,
    *,
    variable: str,
    multi_value_of: Callable[[str], bool] | None = None,
) -> tuple[VariantFeatureConfig, ...]:
    """Parse `feature=v1,v2;feature2*=v3` into configs in the order written."""
    configs: list[VariantFeatureConfig] = []
    seen: set[str] = set()
    for chunk in text.split(";"):
        chunk = chunk.strip()
        if not chunk:
            continue
        name, sep, raw_values = chunk.partition("=")
        name = name.strip()
        if not sep or not name:
            raise OverrideError(
                f"{variable}: {chunk!r} is not 'feature=value1,value2' "
                f"(example: {variable}='feature=v1,v2;other=v3'; empty = namespace unsupported)"
            )
        explicit_multi = name.endswith("*")
        name = name.rstrip("*").strip()
        values = tuple(v.strip() for v in raw_values.split(",") if v.strip())
        if not values:
            raise OverrideError(
                f"{variable}: feature {name!r} has no values; list at least one, or drop the "
                "feature (an empty variable makes the whole namespace unsupported)"
            )
        if name in seen:
            raise OverrideError(f"{variable}: feature {name!r} is given twice; give it once")
        seen.add(name)
        multi = explicit_multi or (multi_value_of(name) if multi_value_of else False)
        try:
            configs.append(VariantFeatureConfig(name, values, multi))
        except InvalidVariantProperty as exc:
            raise OverrideError(f"{variable}: {exc}") from None
    return tuple(configs)


def read_overrides(
    environ: Mapping[str, str],
    *,
    multi_value_of: Callable[[str, str], bool] | None = None,
) -> Overrides:
    """Collect the overrides in `environ`.

    `multi_value_of(namespace, feature)` tells whether a feature is multi-value when the variable
    does not say so with `*` (the built-in provider's `get_all_configs()` knows).
    """
    disabled: set[str] = set()
    namespaces: dict[str, NamespaceOverride] = {}
    for variable, value in relevant_items(environ):
        if variable == DISABLE_VARIABLE:
            for name in value.replace(" ", ",").split(","):
                name = name.strip().lower()
                if not name:
                    continue
                if not NAMESPACE_RE.match(name):
                    raise OverrideError(
                        f"{DISABLE_VARIABLE}: {name!r} is not a namespace name "
                        "(use a comma-separated list such as 'nvidia,amd')"
                    )
                disabled.add(name)
            continue
        namespace = variable[len(PREFIX) :].lower()
        if not NAMESPACE_RE.match(namespace):
            raise OverrideError(
                f"{variable}: {namespace!r} is not a namespace name; variables are "
                f"{PREFIX}<NAMESPACE> with the namespace in upper case"
            )

        def feature_multi(feature: str, _ns: str = namespace) -> bool:
            return multi_value_of(_ns, feature) if multi_value_of else False

        configs = parse_namespace_value(
            namespace, value, variable=variable, multi_value_of=feature_multi
        )
        namespaces[namespace] = NamespaceOverride(namespace, configs, variable)
    return Overrides(frozenset(disabled), namespaces)
