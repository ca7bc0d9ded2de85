"""Pre-release (PEP 440, pip's behaviour) and yanked-file (PEP 592) admission, with reasons."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from wheelnext_jupyter.resolve.admission import admit, admit_lazily, admitted, is_exact_pin


@dataclass(frozen=True)
class File:
    filename: str
    version: Version
    yanked: bool = False
    yanked_reason: str | None = None


def wheel(version: str, *, yanked: bool = False, reason: str | None = None) -> File:
    return File(f"mypkg-{version}-py3-none-any.whl", Version(version), yanked, reason)


def admitted_versions(files: list[File], spec: str, **options: bool) -> list[str]:
    verdicts = admit(
        files, SpecifierSet(spec), pinned_by_user=options.pop("pinned_by_user", True), **options
    )
    return [str(f.version) for f in admitted(verdicts)]


# --- pre-releases -----------------------------------------------------------------------------

RELEASES = [wheel("1.0"), wheel("2.0b1"), wheel("2.0")]


@pytest.mark.parametrize(
    ("files", "spec", "pre", "expected"),
    [
        (RELEASES, "", False, ["1.0", "2.0"]),
        (RELEASES, "", True, ["1.0", "2.0b1", "2.0"]),
        (RELEASES, ">=2.0b1", False, ["2.0b1", "2.0"]),  # the specifier names a pre-release
        (RELEASES, "==2.0b1", False, ["2.0b1"]),
        (RELEASES, "<2.0", True, ["1.0"]),  # PEP 440: <2.0 excludes 2.0's pre-releases
        ([wheel("2.0b1"), wheel("2.1a1")], "", False, ["2.0b1", "2.1a1"]),  # only pre-releases
        ([wheel("1.0"), wheel("2.0b1")], ">=1.5", False, ["2.0b1"]),  # only a pre-release matches
        ([wheel("1.0"), wheel("2.0.dev1")], ">=1.0", False, ["1.0"]),  # dev releases too
    ],
)
def test_pre_release_admission(
    files: list[File], spec: str, pre: bool, expected: list[str]
) -> None:
    assert admitted_versions(files, spec, pre=pre) == expected


def test_yanked_final_release_still_blocks_the_pre_release_fallback() -> None:
    # pip counts yanked files when deciding whether any final release matches.
    files = [wheel("1.0", yanked=True), wheel("2.0b1")]
    assert admitted_versions(files, "") == []


def test_rejected_pre_release_says_how_to_allow_it() -> None:
    verdicts = admit(RELEASES, SpecifierSet(">=1.0"), pinned_by_user=True)
    assert verdicts[1].reason == (
        "2.0b1 is a pre-release; pass --pre or name a pre-release in the specifier "
        "(e.g. >=2.0b1) to allow it"
    )


@pytest.mark.parametrize(
    ("spec", "pre", "reason"),
    [
        (">=1.5", True, "pre-release 2.0b1 satisfies >=1.5 and --pre is given"),
        (">=2.0a1", False, "pre-release 2.0b1 satisfies >=2.0a1, which names a pre-release"),
        (
            ">=1.5,<3",
            False,
            "pre-release 2.0b1 admitted because no final release satisfies <3,>=1.5",
        ),
    ],
)
def test_admitted_pre_release_says_why(spec: str, pre: bool, reason: str) -> None:
    (verdict,) = [
        v
        for v in admit(
            [wheel("1.0"), wheel("2.0b1")], SpecifierSet(spec), pre=pre, pinned_by_user=True
        )
        if v.admitted
    ]
    assert verdict.reason == reason


def test_version_outside_the_specifier_is_rejected_with_the_specifier() -> None:
    (verdict,) = admit([wheel("1.0")], SpecifierSet(">=2"), pinned_by_user=True)
    assert not verdict.admitted
    assert verdict.reason == "1.0 does not satisfy >=2"


# --- yanked files -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("==2.0", True),
        ("===2.0", True),
        ("==2.0,>=1", True),
        ("==2.*", False),
        (">=2.0", False),
        ("~=2.0", False),
        ("", False),
    ],
)
def test_exact_pin(spec: str, expected: bool) -> None:
    assert is_exact_pin(SpecifierSet(spec)) is expected


def test_yanked_file_is_ignored_when_another_file_matches() -> None:
    files = [wheel("1.0"), wheel("2.0", yanked=True, reason="broken ABI")]
    verdicts = admit(files, SpecifierSet(">=1.0"), pinned_by_user=True)
    assert [v.admitted for v in verdicts] == [True, False]
    assert "broken ABI" in verdicts[1].reason


def test_yanked_file_is_ignored_when_only_yanked_match_without_a_pin() -> None:
    (verdict,) = admit([wheel("2.0", yanked=True)], SpecifierSet(">=1.0"), pinned_by_user=True)
    assert not verdict.admitted
    assert "no reason given" in verdict.reason
    assert "exact pin" in verdict.reason


@pytest.mark.parametrize("spec", ["==2.0", "===2.0"])
def test_yanked_file_pinned_by_the_user_is_admitted_with_a_warning(spec: str) -> None:
    files = [wheel("1.0"), wheel("2.0", yanked=True, reason="broken ABI")]
    verdicts = admit(files, SpecifierSet(spec), pinned_by_user=True)
    assert [v.admitted for v in verdicts] == [False, True]
    assert verdicts[1].warning == "installing yanked file mypkg-2.0-py3-none-any.whl: broken ABI"


def test_wildcard_pin_does_not_admit_a_yanked_file() -> None:
    (verdict,) = admit([wheel("2.0", yanked=True)], SpecifierSet("==2.*"), pinned_by_user=True)
    assert not verdict.admitted


def test_yanked_file_pinned_only_by_a_dependency_is_not_admitted() -> None:
    # packse: transitive-yanked-and-unyanked-dependency expects failure.
    (verdict,) = admit([wheel("2.0", yanked=True)], SpecifierSet("==2.0"), pinned_by_user=False)
    assert not verdict.admitted
    assert "dependency's pin" in verdict.reason


def test_one_unyanked_file_of_the_pinned_version_wins_over_its_yanked_files() -> None:
    files = [
        File("mypkg-2.0-py3-none-any.whl", Version("2.0"), yanked=True),
        File("mypkg-2.0-cp311-cp311-linux_x86_64.whl", Version("2.0")),
    ]
    verdicts = admit(files, SpecifierSet("==2.0"), pinned_by_user=True)
    assert [v.admitted for v in verdicts] == [False, True]


def test_yanked_pre_release_pinned_exactly_is_admitted() -> None:
    files = [wheel("2.0rc1", yanked=True, reason="bad build")]
    (verdict,) = admit(files, SpecifierSet("==2.0rc1"), pinned_by_user=True)
    assert verdict.admitted
    assert verdict.warning is not None and "bad build" in verdict.warning


def test_verdicts_keep_the_input_order_and_length() -> None:
    files = [wheel("3.0"), wheel("1.0"), wheel("2.0b1"), wheel("2.0", yanked=True)]
    verdicts = admit(files, SpecifierSet(), pinned_by_user=True)
    assert [v.candidate for v in verdicts] == files
    assert [v.admitted for v in verdicts] == [True, True, False, False]


class Unread:
    """A candidate that fails the test when admission reads it."""

    filename = "mypkg-0.1-py3-none-any.whl"
    yanked_reason = None

    @property
    def version(self) -> Version:
        raise AssertionError("admission read a candidate it did not need")

    @property
    def yanked(self) -> bool:
        raise AssertionError("admission read a candidate it did not need")


def test_the_newest_matching_release_is_admitted_without_reading_the_older_ones() -> None:
    verdicts = admit_lazily([wheel("2.0"), Unread()], SpecifierSet(">=1"), pinned_by_user=False)
    first = next(verdicts)
    assert first.admitted and first.reason == "2.0 satisfies >=1"
