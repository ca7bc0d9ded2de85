"""Variant environment markers (PEP 825 semantics) combined with ordinary PEP 508 markers."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.markers import (
    InvalidMarker,
    Marker,
    UndefinedComparison,
    UndefinedEnvironmentName,
)
from packaging.requirements import InvalidRequirement, Requirement

from wheelnext_jupyter.variants.markers import (
    InvalidVariantMarker,
    VariantMarkerEnvironment,
    evaluate_marker,
    evaluate_requires_dist,
    marker_uses_variants,
    parse_requires_dist,
    supported_by,
)
from wheelnext_jupyter.variants.properties import VariantFeatureConfig, VariantProperty

P = VariantProperty.parse

#: A complete marker environment (CPython 3.11.9 on x86-64 Linux), so no test depends on the
#: interpreter that runs it.
LINUX_311 = {
    "implementation_name": "cpython",
    "implementation_version": "3.11.9",
    "os_name": "posix",
    "platform_machine": "x86_64",
    "platform_release": "6.8.0",
    "platform_system": "Linux",
    "platform_version": "#1 SMP",
    "python_full_version": "3.11.9",
    "platform_python_implementation": "CPython",
    "python_version": "3.11",
    "sys_platform": "linux",
}

#: A CUDA wheel on a target that supports all of its properties.
CU129 = VariantMarkerEnvironment(
    "cu129",
    frozenset(
        {
            P("nvidia :: cuda_version_lower_bound :: 12.9"),
            P("nvidia :: sm_arch :: 120_real"),
            P("x86_64 :: level :: v3"),
        }
    ),
)


def holds(marker: str, variant: VariantMarkerEnvironment | None = CU129, **env: str) -> bool:
    return evaluate_marker(marker, {**LINUX_311, **env}, variant)


# --- narrowing (PEP 825) ----------------------------------------------------------------------

SM_ARCH_WHEEL = [P("nvidia :: sm_arch :: 110_real"), P("nvidia :: sm_arch :: 120_real")]


def only_120(prop: VariantProperty) -> bool:
    return prop.value == "120_real"


def test_narrowing_drops_a_declared_value_the_target_does_not_support() -> None:
    variant = VariantMarkerEnvironment.for_wheel("sm", SM_ARCH_WHEEL, only_120)
    assert not holds('"nvidia :: sm_arch :: 110_real" in variant_properties', variant)


def test_narrowing_keeps_the_supported_value() -> None:
    variant = VariantMarkerEnvironment.for_wheel("sm", SM_ARCH_WHEEL, only_120)
    assert holds('"nvidia :: sm_arch :: 120_real" in variant_properties', variant)


def test_narrowed_wheel_still_has_its_feature_and_namespace() -> None:
    variant = VariantMarkerEnvironment.for_wheel("sm", SM_ARCH_WHEEL, only_120)
    assert variant.features == {"nvidia :: sm_arch"}
    assert variant.namespaces == {"nvidia"}
    assert variant.unnarrowed_features == frozenset()


def test_feature_without_any_supported_value_keeps_all_values_and_is_reported() -> None:
    props = [*SM_ARCH_WHEEL, P("x86_64 :: level :: v4")]
    variant = VariantMarkerEnvironment.for_wheel("forced", props, only_120)
    assert variant.properties == {P("nvidia :: sm_arch :: 120_real"), P("x86_64 :: level :: v4")}
    assert variant.features == {"nvidia :: sm_arch", "x86_64 :: level"}
    assert variant.unnarrowed_features == {"x86_64 :: level"}


def test_supported_by_accepts_exactly_the_configured_values() -> None:
    supported = supported_by(
        {"nvidia": [VariantFeatureConfig("sm_arch", ("120_real", "100_real"))]}
    )
    assert supported(P("nvidia :: sm_arch :: 100_real"))
    assert not supported(P("nvidia :: sm_arch :: 110_real"))
    assert not supported(P("nvidia :: other :: 120_real"))
    assert not supported(P("amd :: sm_arch :: 120_real"))


def test_for_wheel_without_label_is_the_non_variant_environment() -> None:
    assert VariantMarkerEnvironment.for_wheel(None, [], only_120) == VariantMarkerEnvironment()
    assert VariantMarkerEnvironment.for_wheel("", [], only_120).label == ""


def test_properties_without_a_label_are_refused() -> None:
    with pytest.raises(ValueError, match="without a variant label"):
        VariantMarkerEnvironment.for_wheel(None, SM_ARCH_WHEEL, only_120)


def test_null_variant_has_its_label_and_empty_sets() -> None:
    null = VariantMarkerEnvironment.for_wheel("null", [], only_120)
    assert null.marker_values() == {
        "variant_label": "null",
        "variant_properties": frozenset(),
        "variant_features": frozenset(),
        "variant_namespaces": frozenset(),
    }


def test_marker_values_spell_properties_and_features_canonically() -> None:
    values = CU129.marker_values()
    assert values["variant_properties"] == frozenset(
        {
            "nvidia :: cuda_version_lower_bound :: 12.9",
            "nvidia :: sm_arch :: 120_real",
            "x86_64 :: level :: v3",
        }
    )
    assert values["variant_features"] == frozenset(
        {"nvidia :: cuda_version_lower_bound", "nvidia :: sm_arch", "x86_64 :: level"}
    )
    assert values["variant_namespaces"] == frozenset({"nvidia", "x86_64"})


# --- the four variant names ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("marker", "expected"),
    [
        ('"x86_64 :: level :: v3" in variant_properties', True),
        ('"x86_64 :: level :: v4" in variant_properties', False),
        ('"x86_64 :: level :: v4" not in variant_properties', True),
        ('"x86_64 :: level :: v3" not in variant_properties', False),
        ("'nvidia :: sm_arch :: 120_real' in variant_properties", True),
        ('"nvidia :: sm_arch" in variant_features', True),
        ('"nvidia :: cuda" in variant_features', False),
        ('"nvidia :: cuda" not in variant_features', True),
        ('"nvidia" in variant_namespaces', True),
        ('"amd" in variant_namespaces', False),
        ('"amd" not in variant_namespaces', True),
        ('variant_label == "cu129"', True),
        ('"cu129" == variant_label', True),
        ('variant_label == "cu126"', False),
        ('variant_label != "cu126"', True),
        ('"cu129" != variant_label', False),
        ('"cu" in variant_label', True),
        ('"rocm" in variant_label', False),
        ('"rocm" not in variant_label', True),
        ('variant_label in "cu126 cu129"', True),
        ('variant_label not in "cu126 cu129"', False),
    ],
)
def test_variant_names_on_a_variant_wheel(marker: str, expected: bool) -> None:
    assert holds(marker) is expected


@pytest.mark.parametrize(
    "marker",
    [
        '"nvidia::sm_arch::120_real" in variant_properties',
        '"nvidia ::sm_arch::   120_real" in variant_properties',
        '"  nvidia :: sm_arch :: 120_real " in variant_properties',
        '"x86_64::level" in variant_features',
        '"x86_64 ::level" in variant_features',
        '" nvidia " in variant_namespaces',
    ],
)
def test_whitespace_around_separators_is_insignificant(marker: str) -> None:
    assert holds(marker)


@pytest.mark.parametrize(
    ("marker", "expected"),
    [
        ('variant_label == ""', True),
        ('variant_label != ""', False),
        ('variant_label == "null"', False),
        ('"nvidia" in variant_namespaces', False),
        # PEP 825: a non-variant wheel's sets are empty, so `not in` holds (PEP 817 said False).
        ('"nvidia" not in variant_namespaces', True),
        ('"x86_64 :: level :: v3" not in variant_properties', True),
        ('"x86_64 :: level" in variant_features', False),
    ],
)
def test_variant_names_on_a_non_variant_wheel(marker: str, expected: bool) -> None:
    assert holds(marker, variant=None) is expected
    assert holds(marker, variant=VariantMarkerEnvironment.non_variant()) is expected


# --- together with ordinary markers ------------------------------------------------------------


@pytest.mark.parametrize(
    ("python_version", "expected"), [("3.11", True), ("3.10", True), ("3.9", False)]
)
def test_python_version_and_variant_property(python_version: str, expected: bool) -> None:
    marker = 'python_version >= "3.10" and "x86_64 :: level :: v3" in variant_properties'
    assert holds(marker, python_version=python_version) is expected


def test_python_version_compares_as_a_version_not_as_text() -> None:
    # As text "3.10" < "3.9"; as versions it is greater. packaging decides.
    marker = '"nvidia" in variant_namespaces and python_version > "3.9"'
    assert holds(marker, python_version="3.10")


def test_python_full_version_prerelease_comparison_is_packagings() -> None:
    marker = 'python_full_version >= "3.13.0" or "amd" in variant_namespaces'
    expected = Marker('python_full_version >= "3.13.0"').evaluate(
        {**LINUX_311, "python_full_version": "3.13.0rc1"}
    )
    assert holds(marker, python_full_version="3.13.0rc1") is expected is False


@pytest.mark.parametrize(
    ("extra", "expected"), [("cuda", True), ("CUDA", True), ("cpu", False), ("", False)]
)
def test_extra_combined_with_variant_namespace(extra: str, expected: bool) -> None:
    marker = 'extra == "cuda" and "nvidia" in variant_namespaces'
    assert holds(marker, extra=extra) is expected


def test_extra_name_in_marker_is_normalised() -> None:
    assert holds('extra == "Cuda_Extra" and variant_label == "cu129"', extra="cuda-extra")


def test_missing_extra_means_no_extra() -> None:
    assert not evaluate_marker('extra == "cuda" or variant_label == "x"', dict(LINUX_311), CU129)


def test_and_binds_tighter_than_or() -> None:
    marker = 'variant_label == "cu129" or python_version < "3" and "amd" in variant_namespaces'
    assert holds(marker)


def test_parentheses_group() -> None:
    marker = '(variant_label == "cu129" or python_version < "3") and "amd" in variant_namespaces'
    assert not holds(marker)


def test_nested_parentheses_and_negations() -> None:
    marker = (
        '((sys_platform == "linux" and "nvidia :: sm_arch" in variant_features)'
        ' or (sys_platform == "win32" and "nvidia" not in variant_namespaces))'
        ' and platform_machine == "x86_64"'
    )
    assert holds(marker)
    assert not holds(marker, sys_platform="win32")


def test_errors_from_ordinary_comparisons_are_packagings() -> None:
    with pytest.raises(UndefinedComparison):
        holds('os_name ~= "posix" and "nvidia" in variant_namespaces')


def test_every_operand_is_evaluated_like_packaging_does() -> None:
    # packaging evaluates every comparison, so an undefined one raises even after a true `or`.
    with pytest.raises(UndefinedComparison):
        holds('"nvidia" in variant_namespaces or os_name === "posix"')


def test_environment_omitted_falls_back_to_the_running_interpreter() -> None:
    assert evaluate_marker('python_version >= "3" and variant_label == ""', None, None)


# --- invalid uses ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("marker", "message"),
    [
        ('variant_properties == "x86_64 :: level :: v3"', "set of strings"),
        ('variant_features != "x86_64 :: level"', "set of strings"),
        ('variant_namespaces in "nvidia"', "set of strings"),
        ('variant_properties not in "x"', "set of strings"),
        ('"x86_64" >= variant_namespaces', "set of strings"),
        ('variant_label < "cu129"', "labels have no order"),
        ('"cu129" >= variant_label', "labels have no order"),
        ('variant_label ~= "1.0"', "labels have no order"),
        ('variant_label === "cu129"', "labels have no order"),
        ("variant_label == python_version", "quoted string"),
        ("python_version == variant_label", "quoted string"),
        ('"x86_64" in variant_properties', "namespace :: feature :: value"),
        ('"x86_64 :: level" in variant_properties', "namespace :: feature :: value"),
        ('"x86_64 :: level :: V3" in variant_properties', "0-9 a-z _ ."),
        ('"x86_64 :: level :: v3" in variant_features', "namespace :: feature"),
        ('"x86_64" in variant_features', "namespace :: feature"),
        ('"x86_64 :: level" in variant_namespaces', "namespace"),
        ('"X86" in variant_namespaces', "0-9 a-z _"),
        ('"" in variant_namespaces', "non-empty"),
        ('("nvidia" in variant_namespaces', "Expected matching ')'"),
        ('"nvidia" in variant_namespaces)', "Expected 'and', 'or'"),
        ('"nvidia" in variant_namespaces and', "Expected a marker variable"),
        ('"nvidia" not variant_namespaces', "Expected 'in' after 'not'"),
        ('"nvidia" variant_namespaces', "Expected marker operator"),
        ('"nvidia in variant_namespaces', "Unterminated quoted string"),
        ('"nvidia" in variant_namespaces; os_name == "nt"', "Expected a marker variable"),
        ("", "Expected a marker variable"),
    ],
)
def test_invalid_variant_marker_is_rejected_with_a_clear_message(marker: str, message: str) -> None:
    with pytest.raises(InvalidVariantMarker, match=re.escape(message)) as caught:
        holds(marker)
    assert marker in str(caught.value)


def test_invalid_variant_marker_is_an_invalid_marker() -> None:
    assert issubclass(InvalidVariantMarker, InvalidMarker)


def test_unknown_marker_name_is_rejected_by_packaging() -> None:
    with pytest.raises(InvalidMarker, match="variant_lable"):
        holds('variant_lable == "cu129" and "nvidia" in variant_namespaces')


@pytest.mark.parametrize(
    ("marker", "expected"),
    [
        ('python_version >= "3.10"', False),
        ('extra == "cuda" or (os_name == "nt" and sys_platform == "win32")', False),
        ('variant_label == "cu129"', True),
        ('python_version >= "3.10" and ("a :: b :: c" in variant_properties)', True),
        ('"a" not in variant_namespaces', True),
        ('"variant_label" == extra', False),
    ],
)
def test_marker_uses_variants(marker: str, expected: bool) -> None:
    assert marker_uses_variants(marker) is expected


# --- Requires-Dist ----------------------------------------------------------------------------


def test_requires_dist_without_marker() -> None:
    requirement, marker = parse_requires_dist("numpy[blas]>=2.0,<3")
    assert requirement == Requirement("numpy[blas]>=2.0,<3")
    assert marker is None


def test_requires_dist_with_variant_marker_is_split_at_the_semicolon() -> None:
    requirement, marker = parse_requires_dist(
        'nvidia-cublas-cu12==12.9.1.4; "nvidia :: cuda_version_lower_bound :: 12.9" '
        'in variant_properties and platform_machine == "x86_64"'
    )
    assert str(requirement) == "nvidia-cublas-cu12==12.9.1.4"
    assert requirement.marker is None
    assert marker == (
        '"nvidia :: cuda_version_lower_bound :: 12.9" in variant_properties '
        'and platform_machine == "x86_64"'
    )


def test_requires_dist_url_may_contain_a_semicolon() -> None:
    requirement, marker = parse_requires_dist(
        'pkg @ https://example.org/pkg.whl;param=1 ; variant_label == "cu129"'
    )
    assert requirement.url == "https://example.org/pkg.whl;param=1"
    assert marker == 'variant_label == "cu129"'


def test_requires_dist_without_space_before_semicolon() -> None:
    requirement, marker = parse_requires_dist('torch>=2.9;"nvidia" in variant_namespaces')
    assert str(requirement.specifier) == ">=2.9"
    assert marker == '"nvidia" in variant_namespaces'


def test_requires_dist_with_empty_marker_is_invalid() -> None:
    with pytest.raises(InvalidRequirement, match="marker after ';'"):
        parse_requires_dist("torch>=2.9 ;  ")


def test_requires_dist_with_invalid_variant_marker_is_invalid() -> None:
    with pytest.raises(InvalidVariantMarker, match="set of strings"):
        parse_requires_dist('torch; variant_namespaces == "nvidia"')


def test_requires_dist_with_invalid_requirement_is_packagings_error() -> None:
    with pytest.raises(InvalidRequirement):
        parse_requires_dist('torch>=>2; "nvidia" in variant_namespaces')


@pytest.mark.parametrize(
    ("line", "variant", "extra", "expected"),
    [
        ('cupy-cuda12x; "nvidia" in variant_namespaces', CU129, "", "cupy-cuda12x"),
        ('cupy-cuda12x; "nvidia" in variant_namespaces', None, "", None),
        ('mkl; "nvidia" not in variant_namespaces', None, "", "mkl"),
        ('triton; extra == "cuda" and "nvidia" in variant_namespaces', CU129, "cuda", "triton"),
        ('triton; extra == "cuda" and "nvidia" in variant_namespaces', CU129, "", None),
        ("filelock>=3", None, "", "filelock>=3"),
        ('pywin32; sys_platform == "win32"', CU129, "", None),
    ],
)
def test_evaluate_requires_dist(
    line: str, variant: VariantMarkerEnvironment | None, extra: str, expected: str | None
) -> None:
    result = evaluate_requires_dist(line, {**LINUX_311, "extra": extra}, variant)
    assert (None if result is None else str(result)) == expected


# --- agreement with packaging (properties) -------------------------------------------------

_VARIABLES = [
    "python_version",
    "python_full_version",
    "os_name",
    "sys_platform",
    "platform_release",
    "platform_system",
    "platform_machine",
    "platform_python_implementation",
    "implementation_name",
    "implementation_version",
    "extra",
    "os.name",
    "sys.platform",
]
_OPS = ["==", "!=", "<", "<=", ">", ">=", "~=", "===", "in", "not in"]
_LITERALS = [
    "3.9",
    "3.10",
    "3.11",
    "3.11.9",
    "3.13.0rc1",
    "3",
    "posix",
    "nt",
    "linux",
    "win32",
    "x86_64",
    "aarch64",
    "CPython",
    "cpython",
    "cuda",
    "Cuda_Extra",
    "6.8.0",
    "",
    "lin",
]


@st.composite
def _ordinary_atom(draw: st.DrawFn) -> str:
    variable = draw(st.sampled_from(_VARIABLES))
    quote = draw(st.sampled_from(["'", '"']))
    literal = f"{quote}{draw(st.sampled_from(_LITERALS))}{quote}"
    op = draw(st.sampled_from(_OPS))
    # Word operators need whitespace next to a name; symbols may touch their operands.
    space = " " if "in" in op else draw(st.sampled_from(["", " ", "  ", "\t"]))
    if draw(st.booleans()):
        return f"{variable}{space}{op}{space}{literal}"
    return f"{literal}{space}{op}{space}{variable}"


def _expression(atoms: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    def extend(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        return st.one_of(
            st.builds(lambda a, b: f"{a} and {b}", children, children),
            st.builds(lambda a, b: f"{a} or {b}", children, children),
            children.map(lambda a: f"({a})"),
            children.map(lambda a: f"( {a} )"),
        )

    return st.recursive(atoms, extend, max_leaves=8)


_ENVIRONMENTS = st.fixed_dictionaries(
    {
        "python_version": st.sampled_from(["3.9", "3.10", "3.11", "3.13"]),
        "python_full_version": st.sampled_from(["3.9.18", "3.10.0", "3.11.9", "3.13.0rc1"]),
        "os_name": st.sampled_from(["posix", "nt"]),
        "sys_platform": st.sampled_from(["linux", "win32", "darwin"]),
        "platform_release": st.sampled_from(["6.8.0", "23.1.0", "10"]),
        "platform_system": st.sampled_from(["Linux", "Windows"]),
        "platform_machine": st.sampled_from(["x86_64", "aarch64", "AMD64"]),
        "platform_python_implementation": st.sampled_from(["CPython", "PyPy"]),
        "implementation_name": st.sampled_from(["cpython", "pypy"]),
        "implementation_version": st.sampled_from(["3.11.9", "7.3.15"]),
        "extra": st.sampled_from(["", "cuda", "Cuda-Extra", "cpu"]),
    }
)


def _outcome(evaluate: object) -> object:
    assert callable(evaluate)
    try:
        return evaluate()
    except InvalidMarker:
        return InvalidMarker
    except (UndefinedComparison, UndefinedEnvironmentName) as exc:
        return type(exc)


@settings(max_examples=400, deadline=None)
@given(marker=_expression(_ordinary_atom()), environment=_ENVIRONMENTS)
def test_ordinary_markers_agree_with_packaging(marker: str, environment: dict[str, str]) -> None:
    ours = _outcome(lambda: evaluate_marker(marker, environment, CU129))
    theirs = _outcome(lambda: Marker(marker).evaluate(environment))
    assert ours == theirs


_VARIANT_ATOMS = [
    # (atom, its truth for CU129)
    ('"x86_64 :: level :: v3" in variant_properties', True),
    ('"x86_64::level::v4" in variant_properties', False),
    ('"nvidia :: sm_arch" not in variant_features', False),
    ('"amd" not in variant_namespaces', True),
    ('variant_label == "cu129"', True),
    ('"cu126" == variant_label', False),
]


@st.composite
def _mixed_atom(draw: st.DrawFn) -> tuple[str, str]:
    """An atom and its stand-in: the same atom, or an ordinary one with the variant atom's truth."""
    if draw(st.booleans()):
        atom = draw(_ordinary_atom().filter(lambda a: "~=" not in a and "===" not in a))
        return atom, atom
    atom, truth = draw(st.sampled_from(_VARIANT_ATOMS))
    return atom, 'os_name == "posix"' if truth else 'os_name == "nt"'


@st.composite
def _mixed_expression(draw: st.DrawFn, depth: int = 3) -> tuple[str, str]:
    if depth == 0 or draw(st.integers(0, 2)) == 0:
        return draw(_mixed_atom())
    left = draw(_mixed_expression(depth - 1))
    right = draw(_mixed_expression(depth - 1))
    shape = draw(st.sampled_from(["{} and {}", "{} or {}", "({} and {})", "({} or {})"]))
    return shape.format(left[0], right[0]), shape.format(left[1], right[1])


@settings(max_examples=300, deadline=None)
@given(pair=_mixed_expression(), environment=_ENVIRONMENTS)
def test_variant_atoms_combine_like_ordinary_atoms_of_the_same_truth(
    pair: tuple[str, str], environment: dict[str, str]
) -> None:
    marker, stand_in = pair
    environment = {**environment, "os_name": "posix"}
    ours = _outcome(lambda: evaluate_marker(marker, environment, CU129))
    theirs = _outcome(lambda: Marker(stand_in).evaluate(environment))
    assert ours == theirs
