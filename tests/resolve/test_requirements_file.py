"""Requirements and constraints files, read as pip reads them, from real files in tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging.specifiers import SpecifierSet

from wheelnext_jupyter.resolve.requirements_file import (
    RequirementsFileError,
    expand_variables,
    read_requirements_file,
)

SHA = "a" * 64


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def names(requests: tuple[object, ...]) -> list[str]:
    return [r.name for r in requests]  # type: ignore[attr-defined]


# --- lines ------------------------------------------------------------------------------------


def test_comments_blank_lines_and_comes_from(tmp_path: Path) -> None:
    reqs = write(tmp_path / "reqs.txt", "# top\n\ntorch==2.9.0  # pinned\nnumpy\n")
    result = read_requirements_file(reqs, environ={})
    assert names(result.requests) == ["torch", "numpy"]
    assert result.requests[0].specifier == SpecifierSet("==2.9.0")
    assert result.requests[0].comes_from == f"-r {reqs} (line 3)"
    assert result.requests[1].comes_from == f"-r {reqs} (line 4)"


def test_hash_sign_inside_a_url_is_not_a_comment(tmp_path: Path) -> None:
    url = f"https://example.org/mypkg-1.0-py3-none-any.whl#sha256={SHA}"
    reqs = write(tmp_path / "r.txt", f"mypkg @ {url}\n")
    assert read_requirements_file(reqs, environ={}).requests[0].url == url


def test_line_continuation_joins_lines_and_keeps_the_first_line_number(tmp_path: Path) -> None:
    reqs = write(tmp_path / "r.txt", "numpy\ntorch \\\n  >=2.0 \\\n  ,<3\nrich\n")
    result = read_requirements_file(reqs, environ={})
    assert names(result.requests) == ["numpy", "torch", "rich"]
    assert result.requests[1].specifier == SpecifierSet(">=2.0,<3")
    assert result.requests[1].comes_from.endswith("(line 2)")
    assert result.requests[2].comes_from.endswith("(line 5)")


def test_comment_line_ends_a_continuation(tmp_path: Path) -> None:
    reqs = write(tmp_path / "r.txt", "torch>=2.0 \\\n# note\nrich\n")
    assert names(read_requirements_file(reqs, environ={}).requests) == ["torch", "rich"]


def test_extras_brackets_survive_a_file(tmp_path: Path) -> None:
    reqs = write(tmp_path / "r.txt", "mypkg[]\nother\nthird[cuda]\n")
    assert [r.extras for r in read_requirements_file(reqs, environ={}).requests] == [
        frozenset(),
        None,
        frozenset({"cuda"}),
    ]


def test_utf8_bom_is_skipped(tmp_path: Path) -> None:
    reqs = tmp_path / "r.txt"
    reqs.write_bytes(b"\xef\xbb\xbftorch\n")
    assert names(read_requirements_file(reqs, environ={}).requests) == ["torch"]


def test_utf16_file_with_bom_is_read(tmp_path: Path) -> None:
    reqs = tmp_path / "r.txt"
    reqs.write_bytes("torch\nnumpy\n".encode("utf-16"))
    assert names(read_requirements_file(reqs, environ={}).requests) == ["torch", "numpy"]


# --- nested files -----------------------------------------------------------------------------


def test_nested_requirement_files_are_relative_to_the_including_file(tmp_path: Path) -> None:
    top = write(tmp_path / "top.txt", "-r sub/base.txt\ntorch\n")
    write(tmp_path / "sub" / "base.txt", "numpy\n--requirement=deeper/more.txt\n")
    write(tmp_path / "sub" / "deeper" / "more.txt", "rich\n")
    result = read_requirements_file(top, environ={})
    assert names(result.requests) == ["numpy", "rich", "torch"]
    assert (
        result.requests[1].comes_from == f"-r {tmp_path / 'sub' / 'deeper' / 'more.txt'} (line 1)"
    )


def test_constraints_file_from_a_requirements_file(tmp_path: Path) -> None:
    top = write(tmp_path / "top.txt", "-c constraints.txt\ntorch\n")
    write(tmp_path / "constraints.txt", "torch<2.9\nnumpy==2.0.0\n")
    result = read_requirements_file(top, environ={})
    assert names(result.requests) == ["torch"]
    assert names(result.constraints) == ["torch", "numpy"]
    assert result.constraints[0].comes_from == f"-c {tmp_path / 'constraints.txt'} (line 1)"


def test_top_level_constraints_file(tmp_path: Path) -> None:
    constraints = write(tmp_path / "c.txt", "numpy<2\n")
    result = read_requirements_file(constraints, constraint=True, environ={})
    assert result.requests == ()
    assert names(result.constraints) == ["numpy"]


@pytest.mark.parametrize(
    ("line", "fragment"),
    [
        ("numpy[extra]<2", "cannot have extras"),
        ("{tmp}/numpy-1.0-py3-none-any.whl", "needs a name"),
    ],
)
def test_constraints_must_be_name_and_version(tmp_path: Path, line: str, fragment: str) -> None:
    write(tmp_path / "numpy-1.0-py3-none-any.whl", "")
    constraints = write(tmp_path / "c.txt", line.format(tmp=tmp_path) + "\n")
    with pytest.raises(RequirementsFileError, match=fragment):
        read_requirements_file(constraints, constraint=True, environ={})


def test_include_cycle_is_an_error_naming_the_chain(tmp_path: Path) -> None:
    a = write(tmp_path / "a.txt", "-r b.txt\n")
    write(tmp_path / "b.txt", "-r ./a.txt\n")
    with pytest.raises(RequirementsFileError) as info:
        read_requirements_file(a, environ={})
    message = str(info.value)
    assert "includes itself" in message
    assert f"{a.resolve()} -> {(tmp_path / 'b.txt').resolve()} -> {a.resolve()}" in message


def test_self_include_is_a_cycle(tmp_path: Path) -> None:
    a = write(tmp_path / "a.txt", "torch\n-r a.txt\n")
    with pytest.raises(RequirementsFileError, match="includes itself"):
        read_requirements_file(a, environ={})


def test_the_same_file_included_twice_without_a_cycle_is_fine(tmp_path: Path) -> None:
    top = write(tmp_path / "top.txt", "-r a.txt\n-r b.txt\n")
    write(tmp_path / "a.txt", "-r common.txt\n")
    write(tmp_path / "b.txt", "-r common.txt\n")
    write(tmp_path / "common.txt", "numpy\n")
    assert names(read_requirements_file(top, environ={}).requests) == ["numpy", "numpy"]


def test_missing_nested_file_names_the_including_line(tmp_path: Path) -> None:
    top = write(tmp_path / "top.txt", "torch\n-r missing.txt\n")
    with pytest.raises(RequirementsFileError) as info:
        read_requirements_file(top, environ={})
    assert "missing.txt" in str(info.value)
    assert f"-r {top} (line 2)" in str(info.value)


def test_remote_include_is_refused_without_showing_credentials(tmp_path: Path) -> None:
    top = write(tmp_path / "top.txt", "-r https://bob:hunter2@example.org/reqs.txt\n")
    with pytest.raises(RequirementsFileError) as info:
        read_requirements_file(top, environ={})
    assert "hunter2" not in str(info.value)
    assert "bob:****@" in str(info.value)


# --- options ----------------------------------------------------------------------------------


def test_index_options(tmp_path: Path) -> None:
    write(tmp_path / "wheels" / "keep", "")
    reqs = write(
        tmp_path / "r.txt",
        "-i https://first.example/simple\n"
        "--index-url=https://second.example/simple\n"
        "--extra-index-url https://extra.example/simple\n"
        "-f wheels\n"
        "--find-links https://links.example/\n"
        "--pre\n"
        "--trusted-host extra.example\n"
        "torch\n",
    )
    result = read_requirements_file(reqs, environ={})
    assert result.index_url is not None
    assert result.index_url.value == "https://second.example/simple"
    assert result.index_url.comes_from == f"-r {reqs} (line 2)"
    assert [o.value for o in result.extra_index_urls] == ["https://extra.example/simple"]
    assert [o.value for o in result.find_links] == [
        str(tmp_path / "wheels"),
        "https://links.example/",
    ]
    assert result.pre
    assert [o.value for o in result.trusted_hosts] == ["extra.example"]
    assert not result.no_index


def test_no_index_and_require_hashes(tmp_path: Path) -> None:
    reqs = write(tmp_path / "r.txt", "--no-index\n--require-hashes\n")
    result = read_requirements_file(reqs, environ={})
    assert result.no_index
    assert result.require_hashes


def test_hashes_belong_to_their_requirement(tmp_path: Path) -> None:
    other = "B" * 64
    reqs = write(
        tmp_path / "r.txt",
        f"torch==2.9.0 --hash=sha256:{SHA} \\\n    --hash sha256:{other}\nnumpy\n",
    )
    result = read_requirements_file(reqs, environ={})
    assert result.requests[0].hashes == {f"sha256:{SHA}", f"sha256:{other.lower()}"}
    assert result.requests[1].hashes == frozenset()


@pytest.mark.parametrize(
    ("line", "fragment"),
    [
        ("torch --hash=md5:abc", "is not `sha256:<hex>`"),
        ("torch --hash=sha256:abc", "has 3 hex digits, sha256 needs 64"),
        ("--no-deps", "--no-deps is a command-line option"),
        ("-U torch", "-U is a command-line option"),
        ("--frobnicate", "option --frobnicate is not allowed"),
        ("torch --index-url https://x.example/", "cannot follow a requirement"),
        ("-e .", "editable installs (-e) are not supported"),
        ("--editable ./src", "editable installs (-e) are not supported"),
        ("-i", "-i needs a value"),
        ("--pre=yes", "--pre takes no value"),
        ("torch>=", "invalid requirement 'torch>='"),
    ],
)
def test_rejected_lines_name_file_line_and_problem(
    tmp_path: Path, line: str, fragment: str
) -> None:
    reqs = write(tmp_path / "r.txt", "numpy\n" + line + "\n")
    with pytest.raises(RequirementsFileError) as info:
        read_requirements_file(reqs, environ={})
    assert fragment in str(info.value)
    assert f"-r {reqs} (line 2)" in str(info.value)


def test_pip_file_options_without_effect_are_warned_about(tmp_path: Path) -> None:
    reqs = write(tmp_path / "r.txt", "--prefer-binary\n--only-binary :all:\ntorch\n")
    result = read_requirements_file(reqs, environ={})
    assert names(result.requests) == ["torch"]
    assert len(result.warnings) == 2
    assert "--prefer-binary" in result.warnings[0]


def test_unambiguous_long_option_prefix_is_accepted(tmp_path: Path) -> None:
    reqs = write(tmp_path / "r.txt", "--extra-index https://extra.example/simple\n")
    result = read_requirements_file(reqs, environ={})
    assert [o.value for o in result.extra_index_urls] == ["https://extra.example/simple"]


def test_wheel_paths_in_a_file_are_relative_to_the_working_directory_as_in_pip(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "dist" / "mypkg-1.0-py3-none-any.whl", "")
    reqs = write(tmp_path / "sub" / "r.txt", "./dist/mypkg-1.0-py3-none-any.whl\n")
    monkeypatch.chdir(tmp_path)
    (request,) = read_requirements_file(reqs, environ={}).requests
    assert request.url == (tmp_path / "dist" / "mypkg-1.0-py3-none-any.whl").resolve().as_uri()


def test_missing_top_level_file(tmp_path: Path) -> None:
    with pytest.raises(RequirementsFileError, match="cannot open requirements file"):
        read_requirements_file(tmp_path / "nope.txt", environ={})


# --- environment variables and secrets --------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "environ", "expected"),
    [
        ("${HOST}/simple", {"HOST": "https://h.example"}, "https://h.example/simple"),
        ("${UNSET}/simple", {}, "${UNSET}/simple"),
        ("${EMPTY}/simple", {"EMPTY": ""}, "${EMPTY}/simple"),
        ("$HOST/simple", {"HOST": "x"}, "$HOST/simple"),  # only the braced form
        ("${host}/simple", {"host": "x"}, "${host}/simple"),  # upper case only
        ("${A_1}${A_1}", {"A_1": "z"}, "zz"),
    ],
)
def test_expand_variables_follows_pip(line: str, environ: dict[str, str], expected: str) -> None:
    assert expand_variables(line, environ) == expected


def test_index_url_with_expanded_token_is_used_but_never_shown(tmp_path: Path) -> None:
    reqs = write(
        tmp_path / "r.txt",
        "--index-url https://__token__:${INDEX_TOKEN}@private.example/simple\n"
        "--extra-index-url https://${PATH_TOKEN}@other.example/simple\n",
    )
    environ = {"INDEX_TOKEN": "tok-123-secret", "PATH_TOKEN": "tok-456-secret"}
    result = read_requirements_file(reqs, environ=environ)
    assert result.index_url is not None
    assert result.index_url.value == "https://__token__:tok-123-secret@private.example/simple"
    assert result.index_url.shown == "https://__token__:****@private.example/simple"
    assert result.extra_index_urls[0].shown == "https://****@other.example/simple"
    assert "secret" not in repr(result)


def test_requirement_with_expanded_secret_shows_the_line_as_written(tmp_path: Path) -> None:
    reqs = write(
        tmp_path / "r.txt", "mypkg @ https://files.example/${TOKEN}/mypkg-1.0-py3-none-any.whl\n"
    )
    (request,) = read_requirements_file(reqs, environ={"TOKEN": "s3cr3t"}).requests
    assert request.url == "https://files.example/s3cr3t/mypkg-1.0-py3-none-any.whl"
    assert "s3cr3t" not in request.text
    assert "s3cr3t" not in repr(request)


def test_error_on_a_line_with_an_expanded_secret_shows_the_line_as_written(tmp_path: Path) -> None:
    reqs = write(tmp_path / "r.txt", "mypkg @ https://u:${TOKEN}@files.example/x.whl ; bad bad\n")
    with pytest.raises(RequirementsFileError) as info:
        read_requirements_file(reqs, environ={"TOKEN": "s3cr3t"})
    assert "s3cr3t" not in str(info.value)


def test_expansion_reads_os_environ_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WNJ_TEST_VERSION", "2.9.0")
    reqs = write(tmp_path / "r.txt", "torch==${WNJ_TEST_VERSION}\n")
    assert read_requirements_file(reqs).requests[0].specifier == SpecifierSet("==2.9.0")
