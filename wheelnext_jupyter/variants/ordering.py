"""Variant compatibility and ordering exactly as PEP 825 specifies, with a reason for every verdict.

1. A variant is compatible when every feature it declares has at least one supported value (the null
   variant always is).
2. Its key list holds, for every declared feature, `(namespace index, feature index, index of its best
   value)`, sorted ascending.
3. Key lists compare position by position, smaller first; a list that runs out first loses (more
   matching properties win); equal lists fall back to the label, ascending.

User controls only reorder or narrow the compatible set; none of them can make an unsupported variant
win.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from packaging.tags import Tag

from wheelnext_jupyter.record import Record, field
from wheelnext_jupyter.variants.filename import NULL_LABEL, WheelFilename
from wheelnext_jupyter.variants.metadata import VariantMetadata
from wheelnext_jupyter.variants.properties import (
    FEATURE_RE,
    NAMESPACE_RE,
    VALUE_RE,
    InvalidVariantProperty,
    Variant,
    VariantFeatureConfig,
    VariantProperty,
)
from wheelnext_jupyter.variants.support import NamespaceSupport

#: Beyond every real key, so that a key list that runs out sorts after a longer one.
_END = (1 << 30, 0, 0)
_SHOWN_VALUES = 6

Key = tuple[int, int, int]


class Preference(Record):
    """`--prefer NS`, `NS::FEATURE` or `NS::FEATURE::VALUE`: move this first in its order."""

    namespace: str
    feature: str | None = None
    value: str | None = None

    @classmethod
    def parse(cls, text: str) -> Preference:
        parts = [part.strip() for part in text.split("::")]
        patterns = (NAMESPACE_RE, FEATURE_RE, VALUE_RE)
        if not 1 <= len(parts) <= 3 or not all(
            pattern.match(part) for pattern, part in zip(patterns, parts, strict=False)
        ):
            raise InvalidVariantProperty(
                f"invalid preference {text!r}: write NAMESPACE, NAMESPACE::FEATURE or "
                "NAMESPACE::FEATURE::VALUE (characters 0-9 a-z _, and . in values)"
            )
        return cls(*parts)

    def __str__(self) -> str:
        return " :: ".join(p for p in (self.namespace, self.feature, self.value) if p is not None)


class SelectionOptions(Record):
    """The user's controls over variant choice."""

    exclude: frozenset[str] = frozenset()
    select: str | None = None
    prefer: tuple[Preference, ...] = ()


class VariantVerdict(Record):
    """One label's outcome: whether it may be installed here, its rank, and why."""

    label: str
    #: "chosen", "compatible", "excluded", "incompatible" or "invalid".
    verdict: str
    properties: tuple[VariantProperty, ...]
    reasons: tuple[str, ...]
    #: 1-based position among eligible variants; None when not eligible.
    rank: int | None = None

    @property
    def compatible(self) -> bool:
        return self.verdict in ("chosen", "compatible")

    def to_json(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "compatible": self.compatible,
            "verdict": self.verdict,
            "rank": self.rank,
            "properties": [str(p) for p in self.properties],
            "reasons": list(self.reasons),
        }


class Selection(Record):
    """Eligible labels best first (the null variant included when published) and every verdict."""

    order: tuple[str, ...]
    verdicts: tuple[VariantVerdict, ...]
    namespaces: Mapping[str, NamespaceSupport] = field(default_factory=dict)
    diagnostics: tuple[str, ...] = ()

    @property
    def chosen(self) -> str | None:
        return self.order[0] if self.order else None

    def verdict(self, label: str) -> VariantVerdict:
        for verdict in self.verdicts:
            if verdict.label == label:
                return verdict
        raise KeyError(label)

    def to_json(self) -> dict[str, Any]:
        return {
            "order": list(self.order),
            "variants": [v.to_json() for v in self.verdicts],
            "namespaces": {
                ns: {
                    "enabled": support.enabled,
                    "source": support.source,
                    "reason": support.reason,
                    "features": [
                        {"name": f.name, "values": list(f.values), "multi_value": f.multi_value}
                        for f in support.features or ()
                    ],
                }
                for ns, support in self.namespaces.items()
            },
            "diagnostics": list(self.diagnostics),
        }


def _shown(values: Sequence[str]) -> str:
    if len(values) <= _SHOWN_VALUES:
        return ", ".join(values)
    return ", ".join(values[:_SHOWN_VALUES]) + f", … ({len(values) - _SHOWN_VALUES} more)"


def _moved_first(order: Sequence[str], first: Iterable[str]) -> list[str]:
    front = [item for item in dict.fromkeys(first) if item in order]
    return front + [item for item in order if item not in front]


class _Orders(Record):
    namespaces: list[str]
    features: dict[str, list[str]]
    values: dict[tuple[str, str], list[str]]


def _orders(
    metadata: VariantMetadata,
    namespaces: Mapping[str, NamespaceSupport],
    prefer: Sequence[Preference],
    diagnostics: list[str],
) -> _Orders:
    namespace_order = list(metadata.namespace_priorities)
    # Namespaces the metadata does not rank (the reserved abi_dependency) go last.
    namespace_order += [ns for ns in namespaces if ns not in namespace_order]
    features: dict[str, list[str]] = {}
    values: dict[tuple[str, str], list[str]] = {}
    for ns, support in namespaces.items():
        if support.features is None:
            continue
        provided = [config.name for config in support.features]
        # Schemas up to v0.0.3 let the package put some features and values first (PEP 817).
        features[ns] = _moved_first(provided, metadata.feature_priorities.get(ns, ()))
        for config in support.features:
            first = metadata.value_priorities.get(ns, {}).get(config.name, ())
            values[(ns, config.name)] = _moved_first(list(config.values), first)
    for pref in reversed(prefer):
        known = pref.namespace in namespace_order and (
            pref.feature is None
            or (
                pref.feature in features.get(pref.namespace, ())
                and (pref.value is None or pref.value in values[(pref.namespace, pref.feature)])
            )
        )
        if not known:
            diagnostics.append(f"preference `{pref}` matches nothing this target supports; ignored")
            continue
        if pref.feature is None:
            namespace_order = _moved_first(namespace_order, [pref.namespace])
        elif pref.value is None:
            features[pref.namespace] = _moved_first(features[pref.namespace], [pref.feature])
        else:
            key = (pref.namespace, pref.feature)
            values[key] = _moved_first(values[key], [pref.value])
    return _Orders(namespace_order, features, values)


def _incompatibilities(variant: Variant, namespaces: Mapping[str, NamespaceSupport]) -> list[str]:
    reasons: list[str] = []
    reported_namespaces: set[str] = set()
    for (ns, feature), declared in variant.features().items():
        support = namespaces[ns]
        if not support.enabled:
            if ns not in reported_namespaces:
                reported_namespaces.add(ns)
                reasons.append(support.reason or f"namespace `{ns}` is disabled")
            continue
        config = support.feature(feature)
        if config is None:
            reasons.append(
                f"needs `{ns} :: {feature}` ({_shown(declared)}), "
                "which this target does not provide"
            )
            continue
        if len(declared) > 1 and not config.multi_value and support.source == "target":
            reasons.append(
                f"declares {len(declared)} values for `{ns} :: {feature}`, which its provider "
                "marks single-valued; the wheel's metadata is invalid"
            )
            continue
        if not set(declared) & set(config.values):
            reasons.append(
                f"needs `{ns} :: {feature}` to be one of: {_shown(declared)}; "
                f"this target supports: {_shown(config.values) or 'none'}"
            )
    return reasons


def _key_list(variant: Variant, orders: _Orders) -> tuple[Key, ...]:
    keys: list[Key] = []
    for (ns, feature), declared in variant.features().items():
        value_order = orders.values[(ns, feature)]
        best = min(value_order.index(v) for v in declared if v in value_order)
        keys.append((orders.namespaces.index(ns), orders.features[ns].index(feature), best))
    return tuple(sorted(keys))


def _sort_key(label: str, keys: tuple[Key, ...]) -> tuple[tuple[Key, ...], str]:
    return ((*keys, _END), label)


def _why_better(
    winner: str,
    winner_keys: tuple[Key, ...],
    loser: str,
    loser_keys: tuple[Key, ...],
    orders: _Orders,
) -> str:
    """Why `winner` sorts before `loser`, in terms of properties, not indices."""
    if not loser_keys:
        return f"`{loser}` has no properties, so it ranks after every variant that fits"
    for position, ours in enumerate(winner_keys):
        if position >= len(loser_keys):
            return (
                f"`{winner}` matches more properties ({len(winner_keys)} against "
                f"{len(loser_keys)}) and ties on the rest"
            )
        theirs = loser_keys[position]
        if ours == theirs:
            continue
        ns = orders.namespaces[ours[0]]
        if ours[0] != theirs[0]:
            return (
                f"`{winner}` declares a property in namespace `{ns}`, which ranks before "
                f"`{orders.namespaces[theirs[0]]}`; `{loser}` has nothing there"
            )
        feature = orders.features[ns][ours[1]]
        if ours[1] != theirs[1]:
            return (
                f"`{winner}` declares `{ns} :: {feature}`, which ranks before "
                f"`{ns} :: {orders.features[ns][theirs[1]]}`; `{loser}` does not declare it"
            )
        value_order = orders.values[(ns, feature)]
        return (
            f"on `{ns} :: {feature}` the best value of `{winner}`, {value_order[ours[2]]} "
            f"(preference {ours[2] + 1} on this target), beats {value_order[theirs[2]]} "
            f"(preference {theirs[2] + 1})"
        )
    if len(loser_keys) > len(winner_keys):  # pragma: no cover - impossible for a real winner
        raise AssertionError("loser has more keys")
    return f"`{winner}` and `{loser}` rank equally; `{winner}` wins by label (alphabetical)"


def order_variants(
    metadata: VariantMetadata,
    namespaces: Mapping[str, NamespaceSupport],
    options: SelectionOptions | None = None,
) -> Selection:
    """Judge every variant of `metadata` against the target's `namespaces` support and order them."""
    options = options or SelectionOptions()
    diagnostics = list(metadata.diagnostics)
    verdicts: dict[str, VariantVerdict] = {}

    if metadata.unusable:
        for label in metadata.labels():
            verdicts[label] = VariantVerdict(
                label, "invalid", _properties_of(metadata, label), (metadata.unusable,)
            )
        return Selection(
            (), tuple(verdicts[label] for label in sorted(verdicts)), namespaces, tuple(diagnostics)
        )

    for label, problem in metadata.invalid_variants.items():
        verdicts[label] = VariantVerdict(
            label, "invalid", (), (f"its metadata entry is invalid: {problem}",)
        )
    if options.select is not None and options.select not in metadata.variants:
        diagnostics.append(
            f"--variant {options.select}: no variant with that label is published for this "
            f"version (labels: {', '.join(metadata.labels()) or 'none'})"
        )

    orders = _orders(metadata, namespaces, options.prefer, diagnostics)
    eligible: dict[str, tuple[Key, ...]] = {}
    for label, variant in metadata.variants.items():
        reasons = _incompatibilities(variant, namespaces)
        if reasons:
            if options.select == label:
                reasons.insert(0, f"selected with --variant {label}, but not supported here")
            verdicts[label] = VariantVerdict(
                label, "incompatible", variant.properties, tuple(reasons)
            )
        elif label in options.exclude:
            verdicts[label] = VariantVerdict(
                label, "excluded", variant.properties, ("excluded with --exclude-variant",)
            )
        elif options.select is not None and label != options.select:
            verdicts[label] = VariantVerdict(
                label,
                "excluded",
                variant.properties,
                (f"compatible, but --variant selects `{options.select}`",),
            )
        else:
            eligible[label] = _key_list(variant, orders)

    ranked = sorted(eligible, key=lambda label: _sort_key(label, eligible[label]))
    for rank, label in enumerate(ranked, start=1):
        variant = metadata.variants[label]
        keys = eligible[label]
        if rank == 1:
            if len(ranked) == 1:
                reason = "chosen: the only compatible variant"
                if options.select == label:
                    reason = f"chosen: selected with --variant {label} and supported here"
            else:
                runner_up = ranked[1]
                reason = f"chosen over `{runner_up}`: " + _why_better(
                    label, keys, runner_up, eligible[runner_up], orders
                )
            if label == NULL_LABEL and variant.is_null:
                reason += " (the null variant: no variant with properties fits this target)"
            verdicts[label] = VariantVerdict(label, "chosen", variant.properties, (reason,), rank)
        else:
            winner = ranked[0]
            reason = f"compatible, ranked {rank} after `{winner}`: " + _why_better(
                winner, eligible[winner], label, keys, orders
            )
            verdicts[label] = VariantVerdict(
                label, "compatible", variant.properties, (reason,), rank
            )

    rest = sorted(label for label in verdicts if label not in eligible)
    return Selection(
        order=tuple(ranked),
        verdicts=tuple(verdicts[label] for label in (*ranked, *rest)),
        namespaces=namespaces,
        diagnostics=tuple(diagnostics),
    )


def _properties_of(metadata: VariantMetadata, label: str) -> tuple[VariantProperty, ...]:
    variant = metadata.variants.get(label)
    return variant.properties if variant else ()


def supported_properties(
    variant: Variant, namespaces: Mapping[str, NamespaceSupport]
) -> frozenset[VariantProperty]:
    """The variant's properties that the target supports (PEP 825 marker narrowing)."""
    kept: set[VariantProperty] = set()
    for prop in variant.properties:
        support = namespaces.get(prop.namespace)
        config: VariantFeatureConfig | None = support.feature(prop.feature) if support else None
        if config is not None and prop.value in config.values:
            kept.add(prop)
    return frozenset(kept)


def order_wheels(
    wheels: Iterable[WheelFilename],
    selection: Selection | None,
    supported_tags: Sequence[Tag] | Mapping[Tag, int],
    aliases: Mapping[str, str] | None = None,
) -> list[WheelFilename]:
    """Installable wheels of one version, best first (PEP 825 step 9 / PEP 817 step 9).

    `supported_tags` is the preference list, most preferred first, or each tag's place in it
    (a caller ordering many versions makes that mapping once).

    Tag-incompatible wheels are dropped, and so are variant wheels whose label is not eligible (or all
    of them when `selection` is None: no usable metadata). Groups follow the variant order, the
    non-variant group after the null variant; within a group, the best tag wins, then the higher
    build number. `aliases` maps labels as written in filenames to metadata labels (legacy hash
    labels such as `00000000` for the null variant).
    """
    tag_rank = (
        supported_tags
        if isinstance(supported_tags, Mapping)
        else {tag: index for index, tag in enumerate(supported_tags)}
    )
    group_rank = {label: index for index, label in enumerate(selection.order if selection else ())}
    plain_group = len(group_rank)
    keyed: list[tuple[tuple[int, int, tuple[int, str]], WheelFilename]] = []
    for wheel in wheels:
        ranks = [tag_rank[tag] for tag in wheel.tags if tag in tag_rank]
        if not ranks:
            continue
        label = (aliases or {}).get(wheel.label, wheel.label) if wheel.label else None
        if label is None:
            group = plain_group
        elif label in group_rank:
            group = group_rank[label]
        else:
            continue
        build = wheel.build if wheel.build else (-1, "")
        # A higher build number is better: negate it so that ascending order puts it first.
        keyed.append(((group, min(ranks), (-build[0], build[1])), wheel))
    keyed.sort(key=lambda item: item[0])
    return [wheel for _, wheel in keyed]
