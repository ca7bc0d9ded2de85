"""Requests: PEP 508 text, wheel paths and URLs, brackets kept, markers with variant names."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from packaging.specifiers import SpecifierSet

from wheelnext_jupyter.resolve.requirements import (
    COMMAND_LINE,
    InvalidRequest,
    dependencies,
    marker_applies,
    parse_request,
    request_applies,
    requires_dist_origin,
)
from wheelnext_jupyter.variants.markers import VariantMarkerEnvironment
from wheelnext_jupyter.variants.properties import VariantProperty

LINUX_311 = {"sys_platform": "linux", "python_version": "3.11", "platform_machine": "x86_64"}


# --- brackets: None vs empty set (the PEP 771 trap) ------------------------------------------


@pytest.mark.parametrize(
    ("text", "extras"),
    [
        ("mypkg", None),
        ("mypkg>=1.0", None),
        ("mypkg []", frozenset()),
        ("mypkg[]", frozenset()),
        ("mypkg[]>=1.0", frozenset()),
        ("mypkg[ ]; python_version > '3'", frozenset()),
        ("mypkg[cuda]", frozenset({"cuda"})),
        ("mypkg[CUDA, Extra_Two]", frozenset({"cuda", "extra-two"})),
        ("mypkg; extra == 'x[y]'", None),
    ],
)
def test_extras_brackets_are_kept_apart_from_no_brackets(
    text: str, extras: frozenset[str] | None
) -> None:
    assert parse_request(text).extras == extras


def test_bare_means_written_without_brackets() -> None:
    assert parse_request("mypkg").bare
    assert not parse_request("mypkg[]").bare


# --- fields -----------------------------------------------------------------------------------


def test_name_is_normalised_and_specifier_marker_kept() -> None:
    request = parse_request("Foo.Bar_baz >=1.0, <2 ; python_version >= '3.10'", "-r r.txt (line 3)")
    assert request.name == "foo-bar-baz"
    assert request.specifier == SpecifierSet(">=1.0,<2")
    assert request.marker == "python_version >= '3.10'"
    assert request.comes_from == "-r r.txt (line 3)"
    assert request.url is None


def test_comes_from_defaults_to_command_line() -> None:
    assert parse_request("torch").comes_from == COMMAND_LINE == "command line"


def test_direct_reference_keeps_url_and_marker() -> None:
    request = parse_request(
        "mypkg @ https://example.org/a;b/mypkg-1.0-py3-none-any.whl ; os_name == 'posix'"
    )
    assert request.url == "https://example.org/a;b/mypkg-1.0-py3-none-any.whl"
    assert request.marker == "os_name == 'posix'"
    assert not request.name_from_filename


def test_marker_with_variant_names_is_accepted() -> None:
    request = parse_request(
        "nvidia-cublas ; 'nvidia' in variant_namespaces", requires_dist_origin("torch", "2.9.0")
    )
    assert request.name == "nvidia-cublas"
    assert request.marker == "'nvidia' in variant_namespaces"
    assert request.comes_from == "torch 2.9.0 (Requires-Dist)"


# --- credentials never shown ------------------------------------------------------------------


def test_text_and_repr_hide_the_password_of_a_direct_url() -> None:
    request = parse_request("mypkg @ https://alice:s3cret@example.org/mypkg-1.0-py3-none-any.whl")
    assert request.url == "https://alice:s3cret@example.org/mypkg-1.0-py3-none-any.whl"
    assert "s3cret" not in request.text
    assert "s3cret" not in repr(request)
    assert "s3cret" not in str(request)
    assert request.shown_url == "https://alice:****@example.org/mypkg-1.0-py3-none-any.whl"


def test_error_message_hides_the_password() -> None:
    with pytest.raises(InvalidRequest) as info:
        parse_request("mypkg @ https://alice:s3cret@example.org/x.whl ; bad bad")
    assert "s3cret" not in str(info.value)
    assert "alice:****@" in str(info.value)


def test_shown_text_replaces_expanded_text() -> None:
    request = parse_request(
        "mypkg @ https://example.org/TOKEN123/mypkg-1.0-py3-none-any.whl",
        shown="mypkg @ https://example.org/${TOKEN}/mypkg-1.0-py3-none-any.whl",
    )
    assert request.text == "mypkg @ https://example.org/${TOKEN}/mypkg-1.0-py3-none-any.whl"
    assert "TOKEN123" in (request.url or "")


# --- paths and URLs of wheels -----------------------------------------------------------------


def test_existing_wheel_path_becomes_a_file_url_named_by_the_filename(tmp_path: Path) -> None:
    wheel = tmp_path / "My_Pkg-1.0-py3-none-any.whl"
    wheel.write_bytes(b"")
    request = parse_request(f"{wheel}[cuda]")
    assert request.name == "my-pkg"
    assert request.extras == frozenset({"cuda"})
    assert request.url == wheel.resolve().as_uri()
    assert request.name_from_filename


def test_variant_wheel_url_is_named_by_the_filename() -> None:
    request = parse_request("https://example.org/w/torch-2.9.0-cp311-cp311-linux_x86_64-cu128.whl")
    assert request.name == "torch"
    assert request.extras is None


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("-e .", "editable"),
        ("-e git+https://example.org/x.git#egg=x", "editable"),
        ("--editable=.", "editable"),
        (
            "./does-not-exist/mypkg-1.0-py3-none-any.whl",
            "./does-not-exist/mypkg-1.0-py3-none-any.whl does not exist",
        ),
        ("mypkg>=", "Expected"),
        ("mypkg ; python_version >>> '3'", "marker"),
        ("mypkg ; 'cuda' in variant_label_typo", "marker"),
        ("mypkg ; variant_properties == 'a :: b :: c'", "set of strings"),
        ("", "empty"),
        ("https://example.org/mypkg-1.0.tar.gz", "source distributions"),
        ("https://example.org/not-a-wheel.txt", "wheel"),
    ],
)
def test_invalid_requests_name_the_text_and_the_problem(text: str, fragment: str) -> None:
    with pytest.raises(InvalidRequest) as info:
        parse_request(text, "-r reqs.txt (line 7)")
    message = str(info.value)
    assert fragment in message
    assert "-r reqs.txt (line 7)" in message
    assert repr(text.strip()) in message


def test_source_directory_is_rejected_with_the_way_out(tmp_path: Path) -> None:
    with pytest.raises(InvalidRequest, match="build a wheel first"):
        parse_request(str(tmp_path))


# --- markers: extras, environment, variants ---------------------------------------------------


@pytest.mark.parametrize(
    ("marker", "extras", "expected"),
    [
        (None, frozenset(), True),
        ("extra == 'cuda'", frozenset(), False),
        ("extra == 'cuda'", frozenset({"cuda"}), True),
        ("extra == 'CUDA'", frozenset({"cuda"}), True),
        ("extra == 'cuda'", frozenset({"cpu"}), False),
        ("extra == 'cuda' or extra == 'rocm'", frozenset({"cpu", "rocm"}), True),
        ("python_version < '3.10'", frozenset({"cuda"}), False),
        ("sys_platform == 'linux' and extra == 'cuda'", frozenset({"cuda"}), True),
    ],
)
def test_marker_applies_for_the_base_or_any_requested_extra(
    marker: str | None, extras: frozenset[str], expected: bool
) -> None:
    assert marker_applies(marker, extras=extras, environment=LINUX_311) is expected


def test_marker_with_variant_names_uses_the_selected_wheel() -> None:
    marker = "'nvidia :: cuda_version_lower_bound :: 12.8' in variant_properties"
    cuda = VariantMarkerEnvironment(
        "cu128", frozenset({VariantProperty("nvidia", "cuda_version_lower_bound", "12.8")})
    )
    assert marker_applies(marker, environment=LINUX_311, variant=cuda)
    assert not marker_applies(marker, environment=LINUX_311, variant=None)


def test_dependencies_keeps_the_lines_that_apply_with_their_origin() -> None:
    requires_dist = [
        "filelock",
        "nvidia-cublas-cu12 ; 'nvidia' in variant_namespaces",
        "triton==3.5.0 ; extra == 'compile'",
        "colorama ; sys_platform == 'win32'",
    ]
    cuda = VariantMarkerEnvironment(
        "cu128", frozenset({VariantProperty("nvidia", "cuda_version_lower_bound", "12.8")})
    )
    result = dependencies(
        requires_dist,
        origin=requires_dist_origin("torch", "2.9.0"),
        extras=frozenset({"compile"}),
        environment=LINUX_311,
        variant=cuda,
    )
    assert [r.name for r in result] == ["filelock", "nvidia-cublas-cu12", "triton"]
    assert {r.comes_from for r in result} == {"torch 2.9.0 (Requires-Dist)"}


_LINES_FOR_EXTRAS = [
    "numpy>=1.26",
    "pytest>=8 ; extra == 'test'",
    'sphinx; extra == "doc"',
    'pandas>=1.3.4 ;extra=="Data_Frames"',
    'unicodedata2>=18; python_version <= "3.15" and extra == "unicode"',
    "colorama ; extra == 'cli' or sys_platform == 'win32'",
    "tomli ; 'test' == extra",
    "lib @ https://example.invalid/lib-1.0-py3-none-any.whl ; extra == 'test'",
    # No marker: the `;` belongs to the URL.
    "other @ https://example.invalid/other-1.0-py3-none-any.whl;extra=='doc'",
]


@pytest.mark.parametrize(
    "extras",
    [frozenset(), frozenset({"test"}), frozenset({"data-frames"}), frozenset({"Data.Frames"})],
)
def test_dependencies_passed_over_unparsed_are_those_that_would_not_apply(
    extras: frozenset[str],
) -> None:
    every_line_evaluated = [
        line
        for line in _LINES_FOR_EXTRAS
        if request_applies(
            parse_request(line, "x 1.0 (Requires-Dist)", pep508_only=True),
            extras=extras,
            environment=LINUX_311,
        )
    ]
    result = dependencies(
        _LINES_FOR_EXTRAS, origin="x 1.0 (Requires-Dist)", extras=extras, environment=LINUX_311
    )
    assert [r.text for r in result] == [line.strip() for line in every_line_evaluated]


def test_a_malformed_line_is_reported_when_its_extra_is_asked_for() -> None:
    lines = ["numpy>=>1 ; extra == 'test'"]
    assert dependencies(lines, origin="x 1.0 (Requires-Dist)") == []
    with pytest.raises(InvalidRequest, match=r"numpy>=>1"):
        dependencies(lines, origin="x 1.0 (Requires-Dist)", extras=frozenset({"test"}))


def test_dependencies_do_not_read_paths() -> None:
    with pytest.raises(InvalidRequest, match=r"torch 2\.9\.0"):
        dependencies(["./local/x-1.0-py3-none-any.whl"], origin="torch 2.9.0 (Requires-Dist)")


# --- round trip -------------------------------------------------------------------------------

_names = st.from_regex(r"[A-Za-z][A-Za-z0-9]{0,5}([._-][A-Za-z0-9]{1,4}){0,2}", fullmatch=True)
_extras = st.none() | st.frozensets(
    st.from_regex(r"[a-z][a-z0-9]{0,5}", fullmatch=True), max_size=3
)
_specifiers = st.sampled_from(["", ">=1.0", "==2.0.*", "<3,>=1.1", "~=1.4.2", "!=2.0b1", "===1.0"])


@given(_names, _extras, _specifiers)
def test_parse_request_round_trips_name_extras_and_specifier(
    name: str, extras: frozenset[str] | None, specifier: str
) -> None:
    brackets = "" if extras is None else "[" + ",".join(sorted(extras)) + "]"
    request = parse_request(f"{name}{brackets}{specifier}")
    expected_name = "-".join(
        part for part in name.lower().replace("_", "-").replace(".", "-").split("-") if part
    )
    assert request.name == expected_name
    assert request.extras == extras
    assert request.specifier == SpecifierSet(specifier)
