"""Wheel filenames with and without a PEP 825 variant label."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st
from packaging.tags import Tag
from packaging.version import Version

from wheelnext_jupyter.variants.filename import (
    InvalidVariantLabel,
    InvalidWheelFilename,
    LongVariantLabelWarning,
    _checked_fields,
    format_wheel_filename,
    parse_variants_json_filename,
    parse_wheel_filename,
    validate_label,
    variants_json_filename,
    wheel_filename_fields,
)


@pytest.mark.parametrize(
    ("filename", "build", "tags", "label"),
    [
        (
            "numpy-2.3.2-cp313-cp313t-musllinux_1_2_x86_64.whl",
            (),
            "cp313-cp313t-musllinux_1_2_x86_64",
            None,
        ),
        (
            "numpy-2.3.2-cp313-cp313t-musllinux_1_2_x86_64-x86_64_v3.whl",
            (),
            "cp313-cp313t-musllinux_1_2_x86_64",
            "x86_64_v3",
        ),
        (
            "numpy-2.3.2-cp313-cp313t-musllinux_1_2_x86_64-null.whl",
            (),
            "cp313-cp313t-musllinux_1_2_x86_64",
            "null",
        ),
        (
            "torch-2.9.0-1-cp311-cp311-manylinux_2_28_x86_64.whl",
            (1, ""),
            "cp311-cp311-manylinux_2_28_x86_64",
            None,
        ),
        (
            "torch-2.9.0-1a-cp311-cp311-manylinux_2_28_x86_64-cuda12.8.whl",
            (1, "a"),
            "cp311-cp311-manylinux_2_28_x86_64",
            "cuda12.8",
        ),
        ("pkg-1.0-py3-none-any-cfdbe307.whl", (), "py3-none-any", "cfdbe307"),
    ],
)
def test_parses_every_shape_of_filename(filename, build, tags, label):
    parsed = parse_wheel_filename(filename)
    assert parsed.build == build
    assert f"{parsed.python_tag}-{parsed.abi_tag}-{parsed.platform_tag}" == tags
    assert parsed.label == label
    assert parsed.is_variant is (label is not None)


def test_six_parts_with_a_digit_in_the_third_is_a_build_tag_not_a_label():
    parsed = parse_wheel_filename("pkg-1.0-2-py3-none-any.whl")
    assert parsed.build == (2, "")
    assert parsed.label is None


def test_name_and_version_are_normalised_and_tags_expanded():
    parsed = parse_wheel_filename("Foo.Bar-1.0.0-py2.py3-none-any-null.whl")
    assert parsed.name == "foo-bar"
    assert parsed.version == Version("1.0")
    assert Tag("py2", "none", "any") in parsed.tags and Tag("py3", "none", "any") in parsed.tags
    assert parsed.is_null_variant


@pytest.mark.parametrize(
    ("filename", "problem"),
    [
        ("pkg-1.0-py3-none-any.zip", "end in '.whl'"),
        ("pkg-1.0-py3-none.whl", "5 to 7 dash-separated parts"),
        ("a-b-c-1.0-1-py3-none-any-x.whl", "5 to 7 dash-separated parts"),
        ("pkg-notaversion-py3-none-any.whl", "not a valid version"),
        ("pkg-1.0-py3-none-any-CUDA.whl", "invalid variant label"),
        ("pkg-1.0-x-py3-none-any-cu12.whl", "build tag 'x' must start with a digit"),
        ("-1.0-py3-none-any.whl", "not a valid distribution name"),
    ],
)
def test_malformed_filenames_name_the_part_that_is_wrong(filename, problem):
    with pytest.raises(InvalidWheelFilename, match=problem):
        parse_wheel_filename(filename)


@pytest.mark.parametrize("label", ["", "Cu12", "cu-12", "cu 12", "cü12"])
def test_labels_outside_the_charset_are_rejected(label):
    with pytest.raises(InvalidVariantLabel, match=r"0-9 a-z _ \."):
        validate_label(label)


def test_long_labels_are_accepted_with_a_warning():
    with pytest.warns(LongVariantLabelWarning, match="longer than 16"):
        parsed = parse_wheel_filename("pkg-1.0-py3-none-any-a_very_long_label_17.whl")
    assert parsed.label == "a_very_long_label_17"


def test_long_labels_are_never_emitted():
    with pytest.raises(InvalidVariantLabel, match="at most 16"):
        format_wheel_filename(
            "pkg", "1.0", python_tag="py3", abi_tag="none", platform_tag="any", label="a" * 17
        )


def test_sixteen_character_label_is_fine_both_ways():
    name = format_wheel_filename(
        "pkg", "1.0", python_tag="py3", abi_tag="none", platform_tag="any", label="a" * 16
    )
    assert parse_wheel_filename(name).label == "a" * 16


def test_format_writes_build_tag_and_label():
    assert (
        format_wheel_filename(
            "My-Pkg",
            "1.0",
            python_tag="py3",
            abi_tag="none",
            platform_tag="any",
            build=(3, "x"),
            label="cu12",
        )
        == "my_pkg-1.0-3x-py3-none-any-cu12.whl"
    )


labels = st.from_regex(r"[0-9a-z_.]{1,16}", fullmatch=True)
builds = st.one_of(
    st.just(()), st.tuples(st.integers(0, 999), st.from_regex(r"[a-z]{0,3}", fullmatch=True))
)


@given(labels | st.none(), builds)
def test_format_then_parse_round_trips(label, build):
    name = format_wheel_filename(
        "pkg",
        "1.0",
        python_tag="cp311",
        abi_tag="cp311",
        platform_tag="linux_x86_64",
        build=build,
        label=label,
    )
    parsed = parse_wheel_filename(name)
    assert (parsed.label, parsed.build) == (label, build)
    assert parsed.format() == name


def test_variants_json_filename_is_normalised_like_wheels():
    assert (
        variants_json_filename("Transformer-Engine.Lib", "2.7")
        == "transformer_engine_lib-2.7-variants.json"
    )
    assert parse_variants_json_filename("transformer_engine_lib-2.7.0-variants.json") == (
        "transformer-engine-lib",
        Version("2.7.0"),
    )
    assert parse_variants_json_filename("torch-2.9.0-cp311-cp311-any.whl") is None


def _outcome(parse: Callable[[str], object], filename: str) -> object:
    try:
        return parse(filename)
    except InvalidWheelFilename as exc:
        return str(exc)


_NAMES = st.one_of(
    # The shape the quick check takes, from characters that mostly make valid parts.
    st.lists(st.text(alphabet="a0._", max_size=4), min_size=5, max_size=5),
    st.lists(st.text(alphabet="aZ09._+!", max_size=5), min_size=4, max_size=8),
)


@given(_NAMES.map(lambda parts: "-".join(parts) + ".whl"))
def test_the_quick_check_of_plain_wheel_names_agrees_with_the_full_one(filename: str) -> None:
    assert _outcome(wheel_filename_fields, filename) == _outcome(_checked_fields, filename)


@pytest.mark.parametrize(
    "filename",
    [
        "Demo.Pkg_x-1.0+cpu.1-py3-none-any.whl",
        "demo-1!2.0.post1-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        "demo-1.0-3py-none-any.whl",
        "demo.-1.0-py3-none-any.whl",
        "_demo-1.0-py3-none-any.whl",
        "demo-1.0.x-py3-none-any.whl",
        "demo-1.0-py3-none-any.WHL",
        "demo-1.0-py3-none-any-cu12.whl",
    ],
)
def test_plain_and_odd_wheel_names_get_the_same_answer_both_ways(filename: str) -> None:
    assert _outcome(wheel_filename_fields, filename) == _outcome(_checked_fields, filename)
