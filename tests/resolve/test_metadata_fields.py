"""Core metadata fields are read as the standard library's header parser reads them, faster."""

from __future__ import annotations

import importlib.metadata
from email.parser import HeaderParser

import pytest

from wheelnext_jupyter.resolve.metadata_fields import read_fields

METADATA = (
    "Metadata-Version: 2.4\n"
    "Name: demo\n"
    "Version: 1.0\n"
    "Requires-Dist: numpy>=2\n"
    "requires-dist: rich; extra == 'cli'\n"
    "Provides-Extra: cli\n"
    "\n"
    "Requires-Dist: not-a-field-this-is-the-description\n"
)


def test_every_value_of_a_field_is_read_whatever_the_case_of_its_name() -> None:
    fields = read_fields(METADATA)
    assert fields.get_all("Requires-Dist") == ["numpy>=2", "rich; extra == 'cli'"]
    assert fields.get("version") == "1.0"


def test_the_body_is_not_read() -> None:
    assert "not-a-field" not in str(read_fields(METADATA).get_all("Requires-Dist"))


def test_an_absent_field_gives_the_default() -> None:
    fields = read_fields(METADATA)
    assert fields.get("Requires-Python") is None
    assert fields.get_all("Default-Extra", []) == []


TRICKY = [
    "Name: a\r\n\tcontinued\r\nVersion: 2 \r\n",
    "Name: a\rVersion: 1\r\rBody: x",
    "From someone\nName: x\n",
    " a continuation first\nName: x\n",
    "Name: a\nnot a field\nVersion: 1\n",
    "Name : a\n",
    "Name: a\n  \nVersion: 1\n",
    "\nName: a\n",
    ":no name\nName: a\n",
    "Name: a\nFrom x\nVersion: 1\n",
    "Name: a\nFrom x",
    "Nämé: x\nName: y\n",
    "Name: a",
    "",
    "Name:\n continued on the next line\n",
    "License: one\n\ttwo\n  three\nName: a\n\tfour",
    " lead\n more lead\nName: x\n",
    ":x\n dropped with it\nName: y\n",
    "Name: a\r\n \r\nVersion: 1\r\n",
    "Name: a\n cont\rVersion: 2\r",
    "Name: a\n\t\nName: b\n",
]


@pytest.mark.parametrize("text", TRICKY)
def test_odd_texts_read_as_the_standard_library_reads_them(text: str) -> None:
    expected = HeaderParser().parsestr(text, headersonly=True)
    fields = read_fields(text)
    for name in {key.lower() for key in expected} | {"name", "version"}:
        assert fields.get_all(name) == expected.get_all(name), name


def test_the_metadata_of_every_installed_distribution_reads_the_same() -> None:
    compared = 0
    for dist in importlib.metadata.distributions():
        text = dist.read_text("METADATA") or dist.read_text("PKG-INFO")
        if not text:
            continue
        expected = HeaderParser().parsestr(text)
        fields = read_fields(text)
        for name in {key.lower() for key in expected}:
            assert fields.get_all(name) == expected.get_all(name), (dist.metadata["Name"], name)
        assert fields.body == expected.get_payload(), dist.metadata["Name"]
        compared += 1
    assert compared > 50


BODIES = [
    *TRICKY,
    "Name: a\n\nThe description.\n",
    "Name: a\r\n\r\nThe description.\r\n",
    "Name: a\n\n\nAfter two empty lines\n",
    "Name: a\nNot a field, so the body\nmore\n",
    "Name: a\nFrom x\n\nbody\n",
    METADATA,
]


@pytest.mark.parametrize("text", BODIES)
def test_the_body_is_what_the_standard_library_takes_for_the_payload(text: str) -> None:
    assert read_fields(text).body == HeaderParser().parsestr(text).get_payload()


def test_fields_are_listed_in_the_order_they_first_appear_with_every_value() -> None:
    assert list(read_fields(METADATA).items()) == [
        ("metadata-version", ["2.4"]),
        ("name", ["demo"]),
        ("version", ["1.0"]),
        ("requires-dist", ["numpy>=2", "rich; extra == 'cli'"]),
        ("provides-extra", ["cli"]),
    ]
