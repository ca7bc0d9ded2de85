"""Project pages: PEP 691 JSON and PEP 503 HTML parse into the same model."""

from __future__ import annotations

import json
import logging

import pytest
from packaging.version import Version

from wheelnext_jupyter.index.errors import IndexResponseError, UnsupportedAPIVersion
from wheelnext_jupyter.index.models import (
    FileKind,
    IndexFile,
    PageFiles,
    PendingFile,
    ProjectPage,
    ProjectStatus,
    normalize_project_name,
    project_page_url,
)
from wheelnext_jupyter.index.simple_api import (
    ACCEPT,
    parse_html_page,
    parse_json_page,
    parse_project_page,
)

PAGE = "https://idx.example/simple/demo-pkg/"
SHA_A = "a" * 64
SHA_M = "b" * 64

JSON_DOC = {
    "meta": {"api-version": "1.1"},
    "name": "demo-pkg",
    "versions": ["1.0", "2.0"],
    "files": [
        {
            "filename": "demo_pkg-1.0-py3-none-any.whl",
            "url": "../../files/demo_pkg-1.0-py3-none-any.whl",
            "hashes": {"sha256": SHA_A},
            "requires-python": ">=3.8",
            "core-metadata": {"sha256": SHA_M},
            "yanked": "broken build",
        },
        {
            "filename": "demo_pkg-2.0-py3-none-any-cu12.whl",
            "url": "https://cdn.example/f/demo_pkg-2.0-py3-none-any-cu12.whl",
            "hashes": {},
            "core-metadata": True,
        },
        {
            "filename": "demo_pkg-2.0-variants.json",
            "url": "demo_pkg-2.0-variants.json",
            "hashes": {"sha256": SHA_A},
        },
        {"filename": "demo_pkg-2.0.tar.gz", "url": "/files/demo_pkg-2.0.tar.gz", "hashes": {}},
    ],
}

HTML_DOC = f"""<!DOCTYPE html>
<html><head><meta name="pypi:repository-version" content="1.1"></head><body>
<a href="../../files/demo_pkg-1.0-py3-none-any.whl#sha256={SHA_A}"
   data-requires-python="&gt;=3.8" data-core-metadata="sha256={SHA_M}"
   data-yanked="broken build">demo_pkg-1.0-py3-none-any.whl</a>
<a href="https://cdn.example/f/demo_pkg-2.0-py3-none-any-cu12.whl"
   data-core-metadata="true">demo_pkg-2.0-py3-none-any-cu12.whl</a>
<a href="demo_pkg-2.0-variants.json#sha256={SHA_A}">demo_pkg-2.0-variants.json</a>
<a href="/files/demo_pkg-2.0.tar.gz">demo_pkg-2.0.tar.gz</a>
</body></html>
"""


def _json(doc: object) -> bytes:
    return json.dumps(doc).encode()


def _summary(page: ProjectPage) -> list[tuple[object, ...]]:
    return [
        (
            f.filename,
            f.url,
            dict(f.hashes),
            f.requires_python,
            f.yanked,
            f.yanked_reason,
            f.core_metadata.available,
            dict(f.core_metadata.hashes),
            f.kind,
        )
        for f in page.files
    ]


def test_json_and_html_forms_give_the_same_files() -> None:
    from_json = parse_json_page(_json(JSON_DOC), url=PAGE, name="demo-pkg")
    from_html = parse_html_page(HTML_DOC.encode(), url=PAGE, name="demo-pkg")
    assert _summary(from_json) == _summary(from_html)
    assert from_json.variants_files.keys() == from_html.variants_files.keys()


def test_relative_urls_resolve_against_the_page_and_fragment_is_dropped() -> None:
    page = parse_html_page(HTML_DOC.encode(), url=PAGE, name="demo-pkg")
    urls = [f.url for f in page.files]
    assert urls == [
        "https://idx.example/files/demo_pkg-1.0-py3-none-any.whl",
        "https://cdn.example/f/demo_pkg-2.0-py3-none-any-cu12.whl",
        "https://idx.example/files/demo_pkg-2.0.tar.gz",
    ]


def test_absolute_file_urls_are_kept_as_written_and_fragments_dropped() -> None:
    doc = {
        "meta": {"api-version": "1.1"},
        "name": "demo-pkg",
        "files": [
            {
                "filename": "demo_pkg-1.0-py3-none-any.whl",
                "url": "https://files.example/a/b/demo_pkg-1.0-py3-none-any.whl",
                "hashes": {},
            },
            {
                "filename": "demo_pkg-2.0-py3-none-any.whl",
                "url": "http://files.example/demo_pkg-2.0-py3-none-any.whl#sha256=00",
                "hashes": {},
            },
        ],
    }
    page = parse_json_page(json.dumps(doc).encode(), url=PAGE, name="demo-pkg")
    assert [f.url for f in page.files] == [
        "https://files.example/a/b/demo_pkg-1.0-py3-none-any.whl",
        "http://files.example/demo_pkg-2.0-py3-none-any.whl",
    ]


def test_html_base_href_changes_where_relative_urls_point() -> None:
    doc = '<html><head><base href="https://mirror.example/pkgs/"></head><body>'
    doc += '<a href="demo_pkg-1.0-py3-none-any.whl">demo_pkg-1.0-py3-none-any.whl</a></body></html>'
    page = parse_html_page(doc.encode(), url=PAGE, name="demo-pkg")
    assert page.files[0].url == "https://mirror.example/pkgs/demo_pkg-1.0-py3-none-any.whl"


def test_sha256_fragment_becomes_the_file_hash() -> None:
    page = parse_html_page(HTML_DOC.encode(), url=PAGE, name="demo-pkg")
    assert dict(page.files[0].hashes) == {"sha256": SHA_A}


def test_html_data_attributes_are_unescaped() -> None:
    page = parse_html_page(HTML_DOC.encode(), url=PAGE, name="demo-pkg")
    assert page.files[0].requires_python == ">=3.8"


def test_yanked_file_keeps_its_reason() -> None:
    page = parse_json_page(_json(JSON_DOC), url=PAGE, name="demo-pkg")
    first = page.files[0]
    assert (first.yanked, first.yanked_reason) == (True, "broken build")
    assert page.files[1].yanked is False


def test_html_yanked_attribute_without_value_means_yanked_without_reason() -> None:
    doc = '<a href="demo_pkg-1.0.tar.gz" data-yanked>demo_pkg-1.0.tar.gz</a>'
    file = parse_html_page(doc.encode(), url=PAGE, name="demo-pkg").files[0]
    assert (file.yanked, file.yanked_reason) == (True, None)


def test_json_yanked_true_means_yanked_without_reason() -> None:
    doc = {"meta": {"api-version": "1.0"}, "files": [
        {"filename": "demo_pkg-1.0.tar.gz", "url": "x", "hashes": {}, "yanked": True}
    ]}  # fmt: skip
    file = parse_json_page(_json(doc), url=PAGE, name="demo-pkg").files[0]
    assert (file.yanked, file.yanked_reason) == (True, None)


@pytest.mark.parametrize("key", ["core-metadata", "dist-info-metadata", "data-dist-info-metadata"])
def test_json_metadata_file_is_found_under_every_historical_key(key: str) -> None:
    doc = {"meta": {"api-version": "1.0"}, "files": [
        {"filename": "demo_pkg-1.0-py3-none-any.whl", "url": "x", "hashes": {},
         key: {"sha256": SHA_M}}
    ]}  # fmt: skip
    file = parse_json_page(_json(doc), url=PAGE, name="demo-pkg").files[0]
    assert file.core_metadata.available
    assert dict(file.core_metadata.hashes) == {"sha256": SHA_M}


def test_json_newest_metadata_key_wins_over_legacy_ones() -> None:
    doc = {"meta": {"api-version": "1.0"}, "files": [
        {"filename": "demo_pkg-1.0-py3-none-any.whl", "url": "x", "hashes": {},
         "core-metadata": False, "dist-info-metadata": {"sha256": SHA_M}}
    ]}  # fmt: skip
    file = parse_json_page(_json(doc), url=PAGE, name="demo-pkg").files[0]
    assert not file.core_metadata.available


@pytest.mark.parametrize("attr", ["data-core-metadata", "data-dist-info-metadata"])
def test_html_metadata_attribute_and_legacy_name(attr: str) -> None:
    doc = f'<a href="demo_pkg-1.0-py3-none-any.whl" {attr}="sha256={SHA_M}">x</a>'
    file = parse_html_page(doc.encode(), url=PAGE, name="demo-pkg").files[0]
    assert file.core_metadata.available
    assert dict(file.core_metadata.hashes) == {"sha256": SHA_M}


def test_metadata_url_is_the_file_url_plus_dot_metadata() -> None:
    file = parse_json_page(_json(JSON_DOC), url=PAGE, name="demo-pkg").files[0]
    assert file.metadata_url == "https://idx.example/files/demo_pkg-1.0-py3-none-any.whl.metadata"


def test_variants_json_is_attached_to_its_version_not_listed_as_a_distribution() -> None:
    page = parse_json_page(_json(JSON_DOC), url=PAGE, name="demo-pkg")
    assert all(f.kind is not FileKind.VARIANTS_JSON for f in page.files)
    variants = page.variants_file(Version("2.0"))
    assert variants is not None
    assert variants.url == "https://idx.example/simple/demo-pkg/demo_pkg-2.0-variants.json"
    assert page.variants_file(Version("1.0")) is None


def test_variants_json_of_another_project_is_ignored() -> None:
    doc = '<a href="other-1.0-variants.json">other-1.0-variants.json</a>'
    page = parse_html_page(doc.encode(), url=PAGE, name="demo-pkg")
    assert dict(page.variants_files) == {}


def test_file_kinds_and_parsed_names() -> None:
    page = parse_json_page(_json(JSON_DOC), url=PAGE, name="demo-pkg")
    kinds = [(f.kind, f.name, str(f.version)) for f in page.files]
    assert kinds == [
        (FileKind.WHEEL, "demo-pkg", "1.0"),
        (FileKind.WHEEL, "demo-pkg", "2.0"),
        (FileKind.SDIST, "demo-pkg", "2.0"),
    ]
    assert page.files[1].wheel is not None and page.files[1].wheel.label == "cu12"
    assert page.files[1].is_variant_wheel and not page.files[0].is_variant_wheel


def test_files_of_other_projects_and_unknown_kinds_are_skipped() -> None:
    doc = (
        '<a href="other-1.0-py3-none-any.whl">other-1.0-py3-none-any.whl</a>'
        '<a href="demo_pkg-1.0.exe">demo_pkg-1.0.exe</a>'
        '<a href="demo_pkg-1.0-py3-none-any.whl">demo_pkg-1.0-py3-none-any.whl</a>'
    )
    page = parse_html_page(doc.encode(), url=PAGE, name="Demo_Pkg")
    assert [f.filename for f in page.files] == ["demo_pkg-1.0-py3-none-any.whl"]


def test_invalid_wheel_name_is_skipped_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    doc = '<a href="demo_pkg-1.0-1-2-3-4-5-6.whl">demo_pkg-1.0-1-2-3-4-5-6.whl</a>'
    with caplog.at_level(logging.WARNING):
        page = parse_html_page(doc.encode(), url=PAGE, name="demo-pkg")
    assert page.files == ()
    assert any("demo_pkg-1.0-1-2-3-4-5-6.whl" in w for w in page.warnings)


def test_json_versions_and_name_are_read() -> None:
    page = parse_json_page(_json(JSON_DOC), url=PAGE, name="Demo.Pkg")
    assert page.versions == ("1.0", "2.0")
    assert page.name == "demo-pkg"
    assert page.api_version == (1, 1)


def test_missing_api_version_means_1_0() -> None:
    page = parse_html_page(b"<html><body></body></html>", url=PAGE, name="demo-pkg")
    assert page.api_version == (1, 0)


def test_unknown_major_api_version_is_an_error() -> None:
    doc = {"meta": {"api-version": "2.0"}, "files": []}
    with pytest.raises(UnsupportedAPIVersion, match=r"2\.0"):
        parse_json_page(_json(doc), url=PAGE, name="demo-pkg")


def test_unknown_major_api_version_in_html_meta_is_an_error() -> None:
    doc = b'<html><head><meta name="pypi:repository-version" content="3.1"></head></html>'
    with pytest.raises(UnsupportedAPIVersion):
        parse_html_page(doc, url=PAGE, name="demo-pkg")


def test_newer_minor_api_version_only_warns() -> None:
    doc = {"meta": {"api-version": "1.99"}, "files": []}
    page = parse_json_page(_json(doc), url=PAGE, name="demo-pkg")
    assert page.api_version == (1, 99)
    assert any("1.99" in w for w in page.warnings)


def test_quarantined_project_serves_no_files() -> None:
    doc = dict(JSON_DOC, **{"meta": {"api-version": "1.4"},
               "project-status": {"status": "quarantined", "reason": "malware"}})  # fmt: skip
    page = parse_json_page(_json(doc), url=PAGE, name="demo-pkg")
    assert page.status is ProjectStatus.QUARANTINED
    assert page.files == () and dict(page.variants_files) == {}
    assert page.status_reason == "malware"


def test_quarantined_html_project_serves_no_files() -> None:
    doc = HTML_DOC.replace(
        "</head>", '<meta name="pypi:project-status" content="quarantined"></head>'
    )
    page = parse_html_page(doc.encode(), url=PAGE, name="demo-pkg")
    assert page.status is ProjectStatus.QUARANTINED and page.files == ()


@pytest.mark.parametrize("status", ["archived", "deprecated"])
def test_archived_and_deprecated_projects_warn_but_serve_files(status: str) -> None:
    doc = HTML_DOC.replace(
        "</head>",
        f'<meta name="pypi:project-status" content="{status}">'
        '<meta name="pypi:project-status-reason" content="use other-pkg">'
        "</head>",
    )
    page = parse_html_page(doc.encode(), url=PAGE, name="demo-pkg")
    assert page.status is ProjectStatus(status)
    assert len(page.files) == 3
    assert any(status in w and "use other-pkg" in w for w in page.warnings)


def test_malformed_json_is_a_clear_error() -> None:
    with pytest.raises(IndexResponseError, match="malformed JSON"):
        parse_json_page(b'{"files": [', url=PAGE, name="demo-pkg")


def test_content_type_picks_the_parser() -> None:
    as_json = parse_project_page(
        _json(JSON_DOC), content_type="application/vnd.pypi.simple.v1+json", url=PAGE, name="d"
    )
    as_html = parse_project_page(
        HTML_DOC.encode(), content_type="text/html; charset=utf-8", url=PAGE, name="demo-pkg"
    )
    assert len(as_json.files) == len(as_html.files) == 3


def test_unexpected_content_type_is_an_error() -> None:
    with pytest.raises(IndexResponseError, match="application/pdf"):
        parse_project_page(b"%PDF", content_type="application/pdf", url=PAGE, name="demo-pkg")


def test_credentials_in_page_url_are_redacted_in_the_model() -> None:
    page = parse_html_page(b"<html></html>", url="https://u:s3cret@h.example/simple/x/", name="x")
    assert "s3cret" not in page.source_url
    assert page.source_url == "https://u:****@h.example/simple/x/"


@pytest.mark.parametrize(
    ("given", "normal"),
    [("Foo.Bar", "foo-bar"), ("foo__bar", "foo-bar"), ("FOO-_.bar", "foo-bar"), ("a", "a")],
)
def test_project_names_are_normalised(given: str, normal: str) -> None:
    assert normalize_project_name(given) == normal
    assert project_page_url("https://h.example/simple", given) == (
        f"https://h.example/simple/{normal}/"
    )


def test_accept_header_prefers_json_then_html() -> None:
    assert ACCEPT == (
        "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.1, "
        "text/html;q=0.01"
    )


# --- files made a version at a time ------------------------------------------------------------

RELEASES_DOC = {
    "meta": {"api-version": "1.1"},
    "name": "demo-pkg",
    "files": [
        {"filename": f"demo_pkg-{version}-{tag}.whl", "url": f"f/{version}/{tag}", "hashes": {}}
        | ({"yanked": yanked} if yanked is not None else {})
        for version, tag, yanked in [
            ("1.0", "py3-none-any", None),
            ("2.0", "cp311-cp311-manylinux_2_17_x86_64", "bad build"),
            ("1.0", "py2-none-any", None),
            ("2.0", "py3-none-any", True),
            ("3.0", "py3-none-any", "withdrawn"),
            ("3.0", "py2-none-any", None),
        ]
    ],
}


def _pending(*files: tuple[str, str]) -> list[PendingFile]:
    return [
        PendingFile(Version(version), f"demo_pkg-{version}-{tag}.whl", False, False, None, tag)
        for version, tag in files
    ]


def test_page_files_are_made_when_their_version_is_first_asked_for() -> None:
    made: list[str] = []

    def make(tag: str) -> IndexFile:
        made.append(tag)
        name = normalize_project_name("demo-pkg")
        return IndexFile(tag, tag, {}, FileKind.SDIST, name, Version("1.0"))

    files = PageFiles(_pending(("1.0", "a"), ("2.0", "b"), ("1.0", "c")), make)
    assert list(files.versions()) == [Version("1.0"), Version("2.0")]
    assert len(files) == 3 and files and made == []
    first = files.of_version(Version("1.0"))
    assert made == ["a", "c"] and len(first) == 2
    assert files.of_version(Version("1.0")) is first and made == ["a", "c"]
    assert files.of_version(Version("9.0")) == ()
    list(files)
    assert made == ["a", "c", "b"]


def test_a_json_page_keeps_each_versions_files_in_page_order() -> None:
    page = parse_json_page(_json(RELEASES_DOC), url=PAGE, name="demo-pkg")
    assert list(page.files.versions()) == [Version("1.0"), Version("2.0"), Version("3.0")]
    assert [f.filename for f in page.files.of_version(Version("2.0"))] == [
        "demo_pkg-2.0-cp311-cp311-manylinux_2_17_x86_64.whl",
        "demo_pkg-2.0-py3-none-any.whl",
    ]


def test_page_files_read_whole_are_in_page_order_and_equal_to_a_tuple() -> None:
    page = parse_json_page(_json(RELEASES_DOC), url=PAGE, name="demo-pkg")
    page.files.of_version(Version("3.0"))
    names = [f.filename.removeprefix("demo_pkg-") for f in page.files]
    assert names == [
        "1.0-py3-none-any.whl",
        "2.0-cp311-cp311-manylinux_2_17_x86_64.whl",
        "1.0-py2-none-any.whl",
        "2.0-py3-none-any.whl",
        "3.0-py3-none-any.whl",
        "3.0-py2-none-any.whl",
    ]
    assert page.files == tuple(page.files) and page.files[-1].version == Version("3.0")


def test_a_version_is_yanked_when_every_file_is_with_the_first_reason_given() -> None:
    page = parse_json_page(_json(RELEASES_DOC), url=PAGE, name="demo-pkg")
    assert page.files.yanked(Version("2.0")) == (True, "bad build")
    assert page.files.yanked(Version("3.0")) == (False, "withdrawn")
    assert page.files.yanked(Version("1.0")) == (False, None)
    assert page.files.yanked(Version("9.0")) == (False, None)


def test_json_invalid_wheel_name_is_skipped_with_a_warning() -> None:
    doc = {
        "meta": {"api-version": "1.1"},
        "files": [
            {"filename": "demo_pkg-1.0-py3-none-any.whl", "url": "a", "hashes": {}},
            {"filename": "demo_pkg-2.0-py3-any.whl", "url": "b", "hashes": {}},
        ],
    }
    page = parse_json_page(_json(doc), url=PAGE, name="demo-pkg")
    assert any("demo_pkg-2.0-py3-any.whl" in w for w in page.warnings)
    assert list(page.files.versions()) == [Version("1.0")]
