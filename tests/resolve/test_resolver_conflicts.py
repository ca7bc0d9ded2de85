"""Unsatisfiable requests end with an explanation a person can follow: the conflicting
requirements, their specifiers, and who asked for them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.resolve.conftest import index_source, make_finder, run, serving
from tests.support.index_server import IndexServer, IndexTree
from wheelnext_jupyter.resolve.resolver import ResolutionError


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    tree = IndexTree(tmp_path_factory.mktemp("conflicts") / "index")
    tree.add_wheel("wnr-left", "1.0", requires_dist=["wnr-core<2"])
    tree.add_wheel("wnr-right", "1.0", requires_dist=["wnr-core>=2"])
    tree.add_wheel("wnr-core", "1.0")
    tree.add_wheel("wnr-core", "2.0")
    tree.add_wheel("wnr-orphan", "1.0", requires_dist=["wnr-ghost>=1"])
    with serving(tree.root) as running:
        yield running


@pytest.fixture
def finder(server, client):
    return make_finder(index_source(server, client))


def failure(finder, *requirements: str) -> str:
    with pytest.raises(ResolutionError) as info:
        run(list(requirements), finder)
    return str(info.value)


def test_two_dependencies_that_disagree_are_both_named_with_who_asked(finder):
    message = failure(finder, "wnr-left", "wnr-right")
    assert "wnr-core:" in message
    assert "wnr-core<2  (requested by wnr-left 1.0)" in message
    assert "wnr-core>=2  (requested by wnr-right 1.0)" in message


def test_a_user_pin_against_a_dependency_names_the_command_line(finder):
    message = failure(finder, "wnr-core==1.0", "wnr-right")
    assert "wnr-core==1.0  (requested by command line)" in message
    assert "wnr-core>=2  (requested by wnr-right 1.0)" in message


def test_a_request_no_version_satisfies_lists_the_versions_passed_over(finder):
    message = failure(finder, "wnr-core>5")
    assert "wnr-core>5  (requested by command line)" in message
    assert "2.0: 2.0 does not satisfy >5" in message
    assert "1.0: 1.0 does not satisfy >5" in message


def test_a_name_on_no_source_says_so(finder, server):
    message = failure(finder, "wnr-nowhere")
    assert "no source has wnr-nowhere" in message
    assert "not-found" in message


def test_a_missing_dependency_names_it_and_its_parent(finder):
    message = failure(finder, "wnr-orphan")
    assert "wnr-ghost>=1  (requested by wnr-orphan 1.0)" in message
    assert "no source has wnr-ghost" in message


def test_the_explanation_says_how_to_get_out(finder):
    message = failure(finder, "wnr-left", "wnr-right")
    assert message.startswith("the requested packages cannot be installed together:")
    assert "Loosen one of the conflicting requirements" in message


def test_a_name_no_source_has_is_not_called_a_conflict_and_the_way_out_adds_a_source(finder):
    message = failure(finder, "wnr-nowhere")
    assert message.startswith("the requested packages cannot be installed:")
    assert message.endswith(
        "No source has wnr-nowhere: check the name, or add the index or directory that has it "
        "(`--extra-index-url URL`, `--find-links PATH`)."
    )
    assert "Loosen" not in message


def test_a_version_no_release_satisfies_is_not_called_a_conflict(finder):
    message = failure(finder, "wnr-core>5")
    assert message.startswith("the requested packages cannot be installed:")
    assert message.splitlines()[-1].startswith(
        "Change or leave out the version asked for, or pick another version of the package "
        "that asks for it"
    )
    assert "Loosen" not in message
