"""Hash-checking mode's rules, as pip applies them to `--hash` and `--require-hashes`."""

from __future__ import annotations

import pytest

from wheelnext_jupyter.record import replace
from wheelnext_jupyter.resolve.hash_checking import (
    hash_rules,
    is_pinned,
    needed_algorithms,
    unpinned_message,
    verdict,
)
from wheelnext_jupyter.resolve.requirements import parse_request

A = "a" * 64
B = "b" * 64


def hashed(text: str, *hashes: str):
    return replace(parse_request(text, "-r r.txt (line 1)"), hashes=frozenset(hashes))


@pytest.mark.parametrize(
    ("text", "pinned"),
    [
        ("x==1.0", True),
        ("x===1.0-custom", True),
        ("x==1.*", False),
        ("x>=1", False),
        ("x==1.0,<2", False),
        ("x", False),
        ("x @ https://example.invalid/x-1.0-py3-none-any.whl", True),
    ],
)
def test_a_requirement_is_pinned_by_one_exact_version_or_a_file(text, pinned):
    assert is_pinned(parse_request(text, "command line")) is pinned


def test_the_mode_is_off_without_hashes_or_require_hashes():
    rules = hash_rules([parse_request("x==1", "command line")], require_hashes=False)
    assert not rules.active
    assert rules.for_project("x") is None


def test_one_hash_turns_the_mode_on_for_every_project():
    rules = hash_rules(
        [hashed("x==1", f"sha256:{A}"), parse_request("y==1", "command line")],
        require_hashes=False,
    )
    assert rules.active
    assert rules.for_project("x") == {f"sha256:{A}"}
    assert rules.for_project("y") == frozenset()


def test_hashes_for_one_project_from_several_lines_and_constraints_add_up():
    rules = hash_rules(
        [hashed("x==1", f"sha256:{A}")], [hashed("x==1", f"sha256:{B}")], require_hashes=False
    )
    assert rules.for_project("x") == {f"sha256:{A}", f"sha256:{B}"}


def test_require_hashes_alone_turns_the_mode_on():
    assert hash_rules([], require_hashes=True).active


@pytest.mark.parametrize(
    ("digests", "expected"),
    [
        ({"sha256": A}, True),
        ({"SHA256": A.upper()}, True),
        ({"sha256": B}, False),
        ({"md5": "0" * 32}, None),
        ({}, None),
    ],
)
def test_a_files_digests_match_or_differ_or_cannot_tell(digests, expected):
    assert verdict(frozenset({f"sha256:{A}"}), digests) is expected


def test_any_one_matching_hash_is_enough():
    allowed = frozenset({f"sha256:{B}", f"sha512:{'c' * 128}"})
    assert verdict(allowed, {"sha256": A, "sha512": "c" * 128}) is True


def test_the_algorithms_needed_are_those_of_the_hashes_in_a_fixed_order():
    allowed = frozenset({f"sha512:{'c' * 128}", f"sha256:{A}"})
    assert needed_algorithms(allowed) == ("sha256", "sha512")


def test_the_unpinned_message_names_each_requirement_and_where_it_came_from():
    message = unpinned_message([hashed("x>=1"), parse_request("y==2", "command line")])
    assert message is not None
    assert "x>=1 (-r r.txt (line 1))" in message
    assert "y==2" not in message
    assert unpinned_message([parse_request("y==2", "command line")]) is None
