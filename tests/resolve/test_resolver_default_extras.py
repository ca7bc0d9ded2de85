"""PEP 771 default extras through the resolver: `Default-Extra` read from the chosen version's
metadata and applied per the rules over every occurrence of the package in the graph."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.resolve.conftest import index_source, make_finder, package, run, serving, versions
from tests.support.index_server import IndexServer, IndexTree
from wheelnext_jupyter.resolve.provider import ResolveOptions


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    tree = IndexTree(tmp_path_factory.mktemp("extras") / "index")
    tree.add_wheel(
        "wnr-fancy",
        "1.0",
        provides_extra=["cli", "gui"],
        extra_metadata=[("Default-Extra", "cli")],
        requires_dist=["wnr-clikit; extra == 'cli'", "wnr-guikit; extra == 'gui'"],
    )
    tree.add_wheel("wnr-clikit", "1.0")
    tree.add_wheel("wnr-guikit", "1.0")
    tree.add_wheel("wnr-wantsbare", "1.0", requires_dist=["wnr-fancy"])
    tree.add_wheel("wnr-wantsnone", "1.0", requires_dist=["wnr-fancy[]"])
    with serving(tree.root) as running:
        yield running


@pytest.fixture
def finder(server, client):
    return make_finder(index_source(server, client))


def test_a_bare_request_installs_the_default_extras(finder):
    plan = run(["wnr-fancy"], finder)
    assert versions(plan) == {"wnr-fancy": "1.0", "wnr-clikit": "1.0"}
    assert package(plan, "wnr-fancy").extras == {"cli"}


def test_the_reason_for_default_extras_is_recorded(finder):
    notes = package(run(["wnr-fancy"], finder), "wnr-fancy").notes
    assert any("default extras cli" in note and "PEP 771" in note for note in notes)


def test_explicit_extras_replace_the_defaults(finder):
    plan = run(["wnr-fancy[gui]"], finder)
    assert versions(plan) == {"wnr-fancy": "1.0", "wnr-guikit": "1.0"}
    assert package(plan, "wnr-fancy").extras == {"gui"}


def test_empty_brackets_opt_out_of_the_defaults(finder):
    plan = run(["wnr-fancy[]"], finder)
    assert versions(plan) == {"wnr-fancy": "1.0"}
    assert package(plan, "wnr-fancy").extras == frozenset()


def test_a_dependency_with_empty_brackets_opts_out_too(finder):
    assert versions(run(["wnr-wantsnone"], finder)) == {"wnr-wantsnone": "1.0", "wnr-fancy": "1.0"}


def test_defaults_apply_when_any_occurrence_in_the_graph_is_bare(finder):
    plan = run(["wnr-fancy[gui]", "wnr-wantsbare"], finder)
    assert package(plan, "wnr-fancy").extras == {"cli", "gui"}
    assert {"wnr-clikit", "wnr-guikit"} <= set(versions(plan))


def test_a_bare_dependency_brings_the_defaults(finder):
    assert "wnr-clikit" in versions(run(["wnr-wantsbare"], finder))


def test_all_unknown_extras_count_as_empty_brackets(finder):
    plan = run(["wnr-fancy[bogus]"], finder)
    assert versions(plan) == {"wnr-fancy": "1.0"}
    assert package(plan, "wnr-fancy").extras == frozenset()


def test_unknown_extras_are_warned_about(finder):
    plan = run(["wnr-fancy[bogus]"], finder)
    assert any("bogus" in warning and "wnr-fancy" in warning for warning in plan.warnings)


def test_no_default_extras_switches_the_defaults_off(finder):
    plan = run(["wnr-fancy"], finder, options=ResolveOptions(no_default_extras=True))
    assert versions(plan) == {"wnr-fancy": "1.0"}
