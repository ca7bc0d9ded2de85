"""Environment markers that may use the PEP 825 variant names.

`variant_label` is a string; `variant_properties`, `variant_features` and `variant_namespaces` are
sets of strings, evaluated against the *selected* wheel with its properties narrowed to those the
target supports (PEP 825 semantics, not PEP 817's). packaging rejects these names, so this module
parses the marker grammar itself and hands every ordinary comparison to packaging, one comparison at
a time, so that version comparison, `extra` normalisation and the rest stay exactly packaging's.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Mapping
from collections.abc import Set as AbstractSet

from packaging.markers import InvalidMarker, Marker
from packaging.requirements import InvalidRequirement, Requirement

from wheelnext_jupyter.record import Record, field
from wheelnext_jupyter.variants.properties import (
    FEATURE_RE,
    NAMESPACE_RE,
    InvalidVariantProperty,
    SupportedConfigs,
    VariantProperty,
    check_part,
)

VARIANT_LABEL = "variant_label"
VARIANT_PROPERTIES = "variant_properties"
VARIANT_FEATURES = "variant_features"
VARIANT_NAMESPACES = "variant_namespaces"
#: The set-valued variant marker names.
VARIANT_SET_NAMES = frozenset({VARIANT_PROPERTIES, VARIANT_FEATURES, VARIANT_NAMESPACES})
VARIANT_NAMES = VARIANT_SET_NAMES | {VARIANT_LABEL}

#: The marker environment of packaging's `Marker.evaluate`: strings, or sets for `extras` and
#: `dependency_groups` (lock files).
Environment = Mapping[str, str | AbstractSet[str]]


class InvalidVariantMarker(InvalidMarker):
    """A marker that cannot be parsed, or that uses a variant name in a way that means nothing.

    A subclass of packaging's `InvalidMarker`, so callers can catch both with one clause.
    """


# --------------------------------------------------------------------------------------------
# The values the variant names take for one wheel
# --------------------------------------------------------------------------------------------


def feature_string(namespace: str, feature: str) -> str:
    return f"{namespace} :: {feature}"


class VariantMarkerEnvironment(Record):
    """What the variant marker names evaluate to for one selected wheel.

    `properties` are already narrowed to those the target supports; `features` (`"ns :: f"`) and
    `namespaces` derive from them. The default instance is the non-variant wheel: `""` and empty
    sets (PEP 825).
    """

    label: str = ""
    properties: frozenset[VariantProperty] = frozenset()
    #: Features (`"ns :: f"`) kept with all their declared values because the target supports
    #: none of them (see `for_wheel`); empty for any wheel that selection could have chosen.
    unnarrowed_features: frozenset[str] = frozenset()
    features: frozenset[str] = field(init=False)
    namespaces: frozenset[str] = field(init=False)
    #: `properties` as canonical `"ns :: f :: v"` strings, for matching.
    property_strings: frozenset[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not self.label and self.properties:
            raise ValueError(
                "a wheel without a variant label has no variant properties; "
                "pass the label of the variant wheel"
            )
        features = frozenset(feature_string(p.namespace, p.feature) for p in self.properties)
        object.__setattr__(self, "features", features)
        object.__setattr__(self, "namespaces", frozenset(p.namespace for p in self.properties))
        object.__setattr__(self, "property_strings", frozenset(str(p) for p in self.properties))

    @classmethod
    def non_variant(cls) -> VariantMarkerEnvironment:
        return cls()

    @classmethod
    def for_wheel(
        cls,
        label: str | None,
        properties: Iterable[VariantProperty],
        supported: Callable[[VariantProperty], bool],
    ) -> VariantMarkerEnvironment:
        """The marker values of the wheel with `label` and the label's `properties`.

        Each feature keeps only the values the target supports (PEP 825 narrowing). Selection
        guarantees at least one supported value per feature; a wheel picked against that rule
        (for example by an explicit override) keeps *all* declared values of a feature none of
        whose values is supported, rather than losing the feature: the label's features are facts
        about the wheel, and dropping one would make `variant_features` lie about what was
        installed. Such features are listed in `unnarrowed_features`, for a warning.
        """
        declared = tuple(properties)
        if not label:
            if declared:
                raise ValueError(
                    f"a wheel without a variant label has no variant properties, "
                    f"got {', '.join(map(str, declared))}"
                )
            return cls()
        by_feature: dict[tuple[str, str], list[VariantProperty]] = {}
        for prop in declared:
            by_feature.setdefault(prop.feature_key, []).append(prop)
        kept: set[VariantProperty] = set()
        unnarrowed: set[str] = set()
        for (namespace, feature), props in by_feature.items():
            narrowed = [prop for prop in props if supported(prop)]
            if narrowed:
                kept.update(narrowed)
            else:
                kept.update(props)
                unnarrowed.add(feature_string(namespace, feature))
        return cls(label, frozenset(kept), frozenset(unnarrowed))

    def marker_values(self) -> dict[str, str | frozenset[str]]:
        """The four variant marker names and their values (for reports)."""
        return {
            VARIANT_LABEL: self.label,
            VARIANT_PROPERTIES: self.property_strings,
            VARIANT_FEATURES: self.features,
            VARIANT_NAMESPACES: self.namespaces,
        }


def supported_by(configs: SupportedConfigs) -> Callable[[VariantProperty], bool]:
    """A `supported` predicate for `for_wheel` from the target's supported configurations."""
    values = {
        (namespace, config.name): frozenset(config.values)
        for namespace, namespace_configs in configs.items()
        for config in namespace_configs
    }

    def supported(prop: VariantProperty) -> bool:
        return prop.value in values.get(prop.feature_key, frozenset())

    return supported


# --------------------------------------------------------------------------------------------
# Tokens
# --------------------------------------------------------------------------------------------

# The token shapes of packaging's marker tokenizer; names are checked later, by kind.
_TOKEN_RE = re.compile(
    r"""
    (?P<ws>[ \t]+)
    | (?P<lparen>\()
    | (?P<rparen>\))
    | (?P<string>'[^']*'|"[^"]*")
    | (?P<op>===|==|~=|!=|<=|>=|<|>)
    | (?P<name>[A-Za-z0-9_][A-Za-z0-9_.]*)
    """,
    re.VERBOSE,
)
_KEYWORDS = frozenset({"and", "or", "in", "not"})


class _Token(Record):
    kind: str  # "lparen", "rparen", "string", "op", "name", a keyword, or "end"
    text: str
    start: int

    @property
    def end(self) -> int:
        return self.start + len(self.text)


def _syntax_error(source: str, start: int, end: int, message: str) -> InvalidVariantMarker:
    caret = " " * start + "~" * max(end - start - 1, 0) + "^"
    return InvalidVariantMarker(f"{message}\n    {source}\n    {caret}")


def _tokenize(source: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    while position < len(source):
        match = _TOKEN_RE.match(source, position)
        if match is None:
            if source[position] in "'\"":
                message = "Unterminated quoted string"
            else:
                message = "Expected a marker variable, quoted string, operator or parenthesis"
            raise _syntax_error(source, position, position + 1, message)
        kind = match.lastgroup
        assert kind is not None
        text = match.group()
        if kind == "name" and text in _KEYWORDS:
            kind = text
        if kind != "ws":
            tokens.append(_Token(kind, text, position))
        position = match.end()
    tokens.append(_Token("end", "", len(source)))
    return tokens


# --------------------------------------------------------------------------------------------
# Syntax tree
# --------------------------------------------------------------------------------------------


class _Ordinary(Record):
    """One comparison without variant names, evaluated by packaging."""

    marker: Marker

    def evaluate(self, environment: Environment | None, variant: VariantMarkerEnvironment) -> bool:
        return self.marker.evaluate(environment)


class _SetMembership(Record):
    """`"<literal>" in <set name>` or `not in`; the literal is stored canonically."""

    name: str
    literal: str
    negated: bool

    def evaluate(self, environment: Environment | None, variant: VariantMarkerEnvironment) -> bool:
        if self.name == VARIANT_PROPERTIES:
            values = variant.property_strings
        elif self.name == VARIANT_FEATURES:
            values = variant.features
        else:
            values = variant.namespaces
        return (self.literal in values) != self.negated


class _LabelComparison(Record):
    """`variant_label` against a literal, in either operand order (PEP 508 string semantics)."""

    op: str
    literal: str
    label_on_left: bool

    def evaluate(self, environment: Environment | None, variant: VariantMarkerEnvironment) -> bool:
        lhs, rhs = (
            (variant.label, self.literal) if self.label_on_left else (self.literal, variant.label)
        )
        if self.op == "==":
            return lhs == rhs
        if self.op == "!=":
            return lhs != rhs
        if self.op == "in":
            return lhs in rhs
        return lhs not in rhs


class _BoolOp(Record):
    """`and` / `or` over two or more operands."""

    op: str
    operands: tuple[_Node, ...]

    def evaluate(self, environment: Environment | None, variant: VariantMarkerEnvironment) -> bool:
        # Every operand is evaluated, as packaging does, so an operand that cannot be evaluated
        # raises whatever the others say.
        results = [operand.evaluate(environment, variant) for operand in self.operands]
        return all(results) if self.op == "and" else any(results)


_Node = _Ordinary | _SetMembership | _LabelComparison | _BoolOp


def _canonical_literal(name: str, literal: str, source: str, token: _Token) -> str:
    """The literal in the canonical spelling of its set, whitespace around `::` ignored."""
    try:
        if name == VARIANT_PROPERTIES:
            return str(VariantProperty.parse(literal))
        parts = [part.strip() for part in literal.split("::")]
        if name == VARIANT_FEATURES:
            if len(parts) != 2:
                raise InvalidVariantProperty(f"expected 'namespace :: feature', got {literal!r}")
            check_part("namespace", parts[0], NAMESPACE_RE)
            check_part("feature", parts[1], FEATURE_RE)
            return feature_string(parts[0], parts[1])
        if len(parts) != 1:
            raise InvalidVariantProperty(f"expected a namespace, got {literal!r}")
        return check_part("namespace", parts[0], NAMESPACE_RE)
    except InvalidVariantProperty as exc:
        raise _syntax_error(source, token.start, token.end, f"{exc} (in {name})") from None


class _Parser:
    """Recursive descent over PEP 508's marker grammar; `and` binds tighter than `or`."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.tokens = _tokenize(source)
        self.index = 0

    @property
    def current(self) -> _Token:
        return self.tokens[self.index]

    def advance(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def error(self, token: _Token, message: str) -> InvalidVariantMarker:
        return _syntax_error(self.source, token.start, max(token.end, token.start + 1), message)

    def parse(self) -> _Node:
        node = self.parse_or()
        if self.current.kind != "end":
            raise self.error(self.current, "Expected 'and', 'or' or the end of the marker")
        return node

    def parse_or(self) -> _Node:
        operands = [self.parse_and()]
        while self.current.kind == "or":
            self.advance()
            operands.append(self.parse_and())
        return operands[0] if len(operands) == 1 else _BoolOp("or", tuple(operands))

    def parse_and(self) -> _Node:
        operands = [self.parse_atom()]
        while self.current.kind == "and":
            self.advance()
            operands.append(self.parse_atom())
        return operands[0] if len(operands) == 1 else _BoolOp("and", tuple(operands))

    def parse_atom(self) -> _Node:
        if self.current.kind == "lparen":
            opening = self.advance()
            node = self.parse_or()
            if self.current.kind != "rparen":
                raise self.error(
                    self.current, f"Expected matching ')' for '(' at position {opening.start}"
                )
            self.advance()
            return node
        return self.parse_comparison()

    def parse_operand(self) -> _Token:
        if self.current.kind not in ("name", "string"):
            raise self.error(self.current, "Expected a marker variable or quoted string")
        return self.advance()

    def parse_operator(self) -> str:
        token = self.current
        if token.kind == "op" or token.kind == "in":
            self.advance()
            return token.text
        if token.kind == "not":
            self.advance()
            if self.current.kind != "in":
                raise self.error(self.current, "Expected 'in' after 'not'")
            self.advance()
            return "not in"
        raise self.error(
            token, "Expected marker operator, one of <=, <, !=, ==, >=, >, ~=, ===, in, not in"
        )

    def parse_comparison(self) -> _Node:
        left = self.parse_operand()
        op = self.parse_operator()
        right = self.parse_operand()
        if not any(t.kind == "name" and t.text in VARIANT_NAMES for t in (left, right)):
            text = self.source[left.start : right.end]
            try:
                return _Ordinary(Marker(text))
            except InvalidMarker as exc:
                raise InvalidMarker(f"{exc}\n(in marker {self.source!r})") from None
        return self.variant_comparison(left, op, right)

    def variant_comparison(self, left: _Token, op: str, right: _Token) -> _Node:
        for name_token, other in ((left, right), (right, left)):
            is_variant_name = name_token.kind == "name" and name_token.text in VARIANT_NAMES
            if is_variant_name and other.kind != "string":
                raise self.error(
                    other, f"compare {name_token.text} with a quoted string, not {other.text!r}"
                )
        name_token, literal_token = (left, right) if left.kind == "name" else (right, left)
        name = name_token.text
        literal = literal_token.text[1:-1]
        if name in VARIANT_SET_NAMES:
            if name_token is left or op not in ("in", "not in"):
                raise self.error(
                    name_token,
                    f"{name} is a set of strings: test membership with "
                    f"'\"...\" in {name}' or '\"...\" not in {name}'",
                )
            canonical = _canonical_literal(name, literal, self.source, literal_token)
            return _SetMembership(name, canonical, negated=op == "not in")
        if op not in ("==", "!=", "in", "not in"):
            raise self.error(
                name_token,
                f"{VARIANT_LABEL} is a string and labels have no order: "
                f"compare it with ==, !=, in or not in, not {op!r}",
            )
        return _LabelComparison(op, literal, label_on_left=name_token is left)


@functools.lru_cache(maxsize=1024)
def _parse(marker: str) -> _Node:
    return _Parser(marker).parse()


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


class VariantMarker:
    """A parsed marker that may use variant names; evaluate it with `evaluate`."""

    __slots__ = ("_tree", "text")

    def __init__(self, marker: str) -> None:
        self.text = marker
        self._tree = _parse(marker)

    def __repr__(self) -> str:
        return f"VariantMarker({self.text!r})"

    @property
    def uses_variants(self) -> bool:
        return _uses_variants(self._tree)

    def evaluate(
        self,
        environment: Environment | None = None,
        variant: VariantMarkerEnvironment | None = None,
    ) -> bool:
        """True where the marker holds.

        `environment` overrides packaging's default environment exactly as in
        `packaging.markers.Marker.evaluate`; `variant` is the selected wheel's variant values, None
        for a non-variant wheel.
        """
        return self._tree.evaluate(environment, variant or VariantMarkerEnvironment())


def _uses_variants(node: _Node) -> bool:
    if isinstance(node, _BoolOp):
        return any(_uses_variants(operand) for operand in node.operands)
    return not isinstance(node, _Ordinary)


def evaluate_marker(
    marker: str,
    environment: Environment | None,
    variant: VariantMarkerEnvironment | None,
) -> bool:
    """Evaluate a PEP 508 marker that may use the PEP 825 variant names.

    Raises `InvalidVariantMarker` (an `InvalidMarker`) for a malformed marker or a meaningless use
    of a variant name, and packaging's `UndefinedComparison` / `UndefinedEnvironmentName` where
    packaging would.
    """
    return VariantMarker(marker).evaluate(environment, variant)


def marker_uses_variants(marker: str) -> bool:
    """Whether the marker mentions any variant name (then packaging alone cannot evaluate it)."""
    return VariantMarker(marker).uses_variants


def _marker_separator(line: str) -> int:
    """Index of the `;` that starts the marker of a requirement line, or -1.

    A URL may contain `;`, so for `name @ url` the marker starts after the URL, which PEP 508 ends
    at whitespace.
    """
    first = line.find(";")
    if first < 0:
        return -1
    at = line.find("@", 0, first)
    if at < 0:
        return first
    url_start = at + 1
    while url_start < len(line) and line[url_start] in " \t":
        url_start += 1
    url_end = url_start
    while url_end < len(line) and line[url_end] not in " \t":
        url_end += 1
    return line.find(";", url_end)


def parse_requires_dist(line: str) -> tuple[Requirement, str | None]:
    """Split a `Requires-Dist` value into its requirement (without marker) and marker text.

    packaging's `Requirement` rejects markers that use variant names, so the marker is split off
    at the top-level `;` and checked here; the requirement part is parsed by packaging.
    """
    separator = _marker_separator(line)
    if separator < 0:
        return Requirement(line), None
    marker = line[separator + 1 :].strip()
    if not marker:
        raise InvalidRequirement(f"Expected a marker after ';' in {line!r}")
    requirement = Requirement(line[:separator].strip())
    _parse(marker)
    return requirement, marker


def evaluate_requires_dist(
    line: str,
    environment: Environment | None,
    variant: VariantMarkerEnvironment | None,
) -> Requirement | None:
    """The requirement of a `Requires-Dist` value (marker removed) if its marker holds, else None.

    Pass `extra` in `environment` to evaluate the dependencies of an extra, as with packaging.
    """
    requirement, marker = parse_requires_dist(line)
    if marker is None or evaluate_marker(marker, environment, variant):
        return requirement
    return None
