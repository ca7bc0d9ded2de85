"""PEP 771 default extras, one test per rule of the PEP (standards reference §10)."""

from __future__ import annotations

from random import Random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wheelnext_jupyter.resolve.default_extras import (
    ExtrasMetadata,
    Occurrence,
    choose_extras,
    read_extras_metadata,
)
from wheelnext_jupyter.resolve.requirements import parse_request

#: mypkg provides cuda, cpu and docs; cuda is its default extra.
MYPKG = ExtrasMetadata(provides=frozenset({"cuda", "cpu", "docs"}), defaults=("cuda",))


def bare(who: str) -> Occurrence:
    return Occurrence(None, who)


def with_extras(who: str, *extras: str) -> Occurrence:
    return Occurrence(frozenset(extras), who)


# --- the rules --------------------------------------------------------------------------------


def test_no_brackets_installs_the_defaults() -> None:
    choice = choose_extras("mypkg", [bare("command line")], MYPKG)
    assert choice.extras == {"cuda"}
    assert choice.defaults_applied


def test_explicit_extras_replace_the_defaults() -> None:
    choice = choose_extras("mypkg", [with_extras("command line", "cpu")], MYPKG)
    assert choice.extras == {"cpu"}
    assert not choice.defaults_applied


def test_empty_brackets_opt_out_of_defaults() -> None:
    choice = choose_extras("mypkg", [with_extras("command line")], MYPKG)
    assert choice.extras == frozenset()
    assert not choice.defaults_applied


def test_any_bare_occurrence_brings_the_defaults_with_the_others_extras() -> None:
    occurrences = [with_extras("command line", "cpu"), bare("torch 2.9.0 (Requires-Dist)")]
    choice = choose_extras("mypkg", occurrences, MYPKG)
    assert choice.extras == {"cpu", "cuda"}
    assert choice.defaults_applied


def test_empty_brackets_lose_to_a_bare_occurrence_elsewhere() -> None:
    occurrences = [with_extras("command line"), bare("other 1.0 (Requires-Dist)")]
    assert choose_extras("mypkg", occurrences, MYPKG).extras == {"cuda"}


def test_a_cycle_back_to_the_bare_package_re_enables_defaults() -> None:
    # mypkg[cpu] -> middle -> mypkg: the bare edge of the cycle counts like any other.
    occurrences = [with_extras("command line", "cpu"), bare("middle 1.0 (Requires-Dist)")]
    assert choose_extras("mypkg", occurrences, MYPKG).extras == {"cpu", "cuda"}


def test_self_reference_with_an_extra_keeps_defaults_only_when_named() -> None:
    # An extra `recommended = ["mypkg[cuda]"]` is how an author keeps the defaults.
    occurrences = [
        with_extras("command line", "docs"),
        with_extras("mypkg 1.0 (Requires-Dist)", "cuda"),
    ]
    assert choose_extras("mypkg", occurrences, MYPKG).extras == {"docs", "cuda"}


def test_request_whose_extras_are_all_unknown_counts_as_empty_brackets() -> None:
    choice = choose_extras("mypkg", [with_extras("command line", "gpu", "fast")], MYPKG)
    assert choice.extras == frozenset()
    assert not choice.defaults_applied
    assert any("`fast`, `gpu`" in w and "command line" in w for w in choice.warnings)
    assert any("counts as mypkg[]" in w for w in choice.warnings)


def test_unknown_extras_next_to_a_known_one_are_ignored_with_a_warning() -> None:
    choice = choose_extras("mypkg", [with_extras("command line", "cpu", "gpu")], MYPKG)
    assert choice.extras == {"cpu"}
    assert not choice.defaults_applied
    assert any("`gpu`" in w for w in choice.warnings)


def test_default_extra_missing_from_provides_extra_is_ignored_with_a_warning() -> None:
    metadata = ExtrasMetadata(provides=frozenset({"cuda"}), defaults=("cuda", "rocm"))
    choice = choose_extras("mypkg", [bare("command line")], metadata)
    assert choice.extras == {"cuda"}
    assert any("`rocm`" in w and "Provides-Extra" in w for w in choice.warnings)


def test_package_without_defaults_installs_no_extras_when_bare() -> None:
    metadata = ExtrasMetadata(provides=frozenset({"cuda"}))
    choice = choose_extras("mypkg", [bare("command line")], metadata)
    assert choice.extras == frozenset()
    assert not choice.defaults_applied


def test_no_default_extras_switch_turns_defaults_off() -> None:
    choice = choose_extras("mypkg", [bare("command line")], MYPKG, no_default_extras=True)
    assert choice.extras == frozenset()
    assert any("switched off" in r for r in choice.reasons)


def test_extras_are_compared_normalised() -> None:
    metadata = ExtrasMetadata(provides=frozenset({"Big_GPU"}), defaults=("big.gpu",))
    assert choose_extras("mypkg", [bare("command line")], metadata).extras == {"big-gpu"}


def test_trap_requirement_parsing_keeps_the_opt_out() -> None:
    # packaging reads `mypkg[]` as `mypkg`; the request must not.
    occurrences = [parse_request("mypkg[]")]
    assert choose_extras("mypkg", occurrences, MYPKG).extras == frozenset()
    assert choose_extras("mypkg", [parse_request("mypkg")], MYPKG).extras == {"cuda"}


# --- reasons ----------------------------------------------------------------------------------


def test_reason_names_the_default_and_who_asked_bare() -> None:
    choice = choose_extras("mypkg", [bare("torch 2.9.0")], MYPKG)
    assert choice.reasons == ("default extra `cuda` from bare `mypkg` requested by torch 2.9.0",)


def test_reason_explains_defaults_left_out() -> None:
    choice = choose_extras("mypkg", [with_extras("command line", "cpu")], MYPKG)
    assert choice.reasons == (
        "extra `cpu` requested by command line",
        "default extra `cuda` of mypkg not installed: every request names its extras (command line)",
    )


# --- metadata ---------------------------------------------------------------------------------

METADATA = """\
Metadata-Version: 2.4
Name: mypkg
Version: 1.0
Provides-Extra: cuda
Provides-Extra: CPU
Provides-Extra: docs
Default-Extra: cuda
Default-Extra: cpu
Requires-Dist: torch; extra == "cuda"

Default-Extra: not-a-header
"""


def test_metadata_reader_takes_default_extra_under_any_metadata_version() -> None:
    metadata = read_extras_metadata(METADATA)
    assert metadata.provides == {"cuda", "cpu", "docs"}
    assert metadata.defaults == ("cuda", "cpu")


def test_metadata_without_extras() -> None:
    assert read_extras_metadata("Metadata-Version: 2.1\nName: x\nVersion: 1\n") == ExtrasMetadata()


# --- order independence -----------------------------------------------------------------------

_occurrence = st.builds(
    Occurrence,
    st.none() | st.frozensets(st.sampled_from(["cuda", "cpu", "docs", "unknown"]), max_size=3),
    st.sampled_from(["command line", "a 1 (Requires-Dist)", "b 2 (Requires-Dist)"]),
)


@given(st.lists(_occurrence, max_size=6), st.randoms())
def test_choice_does_not_depend_on_the_order_of_occurrences(
    occurrences: list[Occurrence], random: Random
) -> None:
    shuffled = list(occurrences)
    random.shuffle(shuffled)
    assert choose_extras("mypkg", occurrences, MYPKG) == choose_extras("mypkg", shuffled, MYPKG)


@given(st.lists(_occurrence, max_size=6))
def test_choice_is_the_union_of_valid_explicit_extras_plus_defaults_when_any_is_bare(
    occurrences: list[Occurrence],
) -> None:
    explicit: set[str] = set()
    for occurrence in occurrences:
        if occurrence.extras:
            explicit |= occurrence.extras & MYPKG.provides
    any_bare = any(o.extras is None for o in occurrences)
    expected = explicit | ({"cuda"} if any_bare else set())
    assert choose_extras("mypkg", occurrences, MYPKG).extras == expected


@pytest.mark.parametrize("count", [1, 3])
def test_duplicate_bare_requests_are_named_once_each(count: int) -> None:
    occurrences = [bare("command line")] * count + [bare("a 1 (Requires-Dist)")]
    (reason,) = choose_extras("mypkg", occurrences, MYPKG).reasons
    assert reason.endswith("requested by a 1 (Requires-Dist), command line")
