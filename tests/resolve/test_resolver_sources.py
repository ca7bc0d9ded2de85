"""Where candidates come from when several indexes are configured (PEP 766), and the
dependency-confusion defence: a public index with a higher version of a private name."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.resolve.conftest import index_source, make_finder, package, run, serving
from tests.support.index_server import IndexServer, IndexTree
from wheelnext_jupyter.index.http import HttpClient
from wheelnext_jupyter.index.priority import Strategy
from wheelnext_jupyter.resolve.candidates import CandidateFinder
from wheelnext_jupyter.resolve.resolver import ResolutionError


@pytest.fixture(scope="module")
def private(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    tree = IndexTree(tmp_path_factory.mktemp("private") / "index")
    tree.add_wheel("wnr-internal", "1.0")
    tree.add_wheel("wnr-shared", "1.0")
    tree.add_wheel("wnr-service", "1.0", requires_dist=["wnr-internal"])
    # Only a build for another platform: present, but nothing the target can install.
    tree.add_wheel("wnr-native", "1.0", python_tag="cp27", abi_tag="cp27mu", platform_tag="win32")
    with serving(tree.root) as running:
        yield running


@pytest.fixture(scope="module")
def public(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    tree = IndexTree(tmp_path_factory.mktemp("public") / "index")
    # The attacker's upload: the private name at a much higher version.
    tree.add_wheel("wnr-internal", "9.0")
    tree.add_wheel("wnr-shared", "2.0")
    tree.add_wheel("wnr-publiconly", "1.0")
    tree.add_wheel("wnr-native", "1.0")
    with serving(tree.root) as running:
        yield running


def finder_for(
    private: IndexServer,
    public: IndexServer,
    client: HttpClient,
    strategy: Strategy = Strategy.FIRST_INDEX,
    pins: dict[str, str] | None = None,
) -> CandidateFinder:
    return make_finder(
        index_source(private, client, "private"),
        index_source(public, client, "public"),
        strategy=strategy,
        pins=pins,
    )


def origin(plan, name: str) -> tuple[str, str | None]:
    chosen = package(plan, name)
    source = chosen.pick.source
    return str(chosen.version), source.name if source is not None else None


def test_first_index_takes_a_private_name_from_the_private_index(private, public, client):
    plan = run(["wnr-internal"], finder_for(private, public, client))
    assert origin(plan, "wnr-internal") == ("1.0", "private")


def test_first_index_keeps_a_dependency_on_the_private_index(private, public, client):
    plan = run(["wnr-service"], finder_for(private, public, client))
    assert origin(plan, "wnr-internal") == ("1.0", "private")


def test_first_index_never_falls_through_for_a_version_the_first_index_lacks(
    private, public, client
):
    with pytest.raises(ResolutionError) as info:
        run(["wnr-internal>=2"], finder_for(private, public, client))
    assert "wnr-internal>=2  (requested by command line)" in str(info.value)


def test_first_index_takes_a_name_only_the_public_index_has_from_there(private, public, client):
    plan = run(["wnr-publiconly"], finder_for(private, public, client))
    assert origin(plan, "wnr-publiconly") == ("1.0", "public")


def test_first_match_moves_on_when_the_first_index_has_no_matching_version(private, public, client):
    plan = run(["wnr-shared>=2"], finder_for(private, public, client, Strategy.FIRST_MATCH))
    assert origin(plan, "wnr-shared") == ("2.0", "public")


def test_first_match_stays_on_the_first_index_when_it_has_a_match(private, public, client):
    plan = run(["wnr-internal"], finder_for(private, public, client, Strategy.FIRST_MATCH))
    assert origin(plan, "wnr-internal") == ("1.0", "private")


def test_best_match_takes_the_highest_version_of_any_index(private, public, client):
    # The documented risk of best-match: the public upload wins.
    plan = run(["wnr-internal"], finder_for(private, public, client, Strategy.BEST_MATCH))
    assert origin(plan, "wnr-internal") == ("9.0", "public")


def test_a_pinned_name_comes_from_its_index_even_under_best_match(private, public, client):
    finder = finder_for(
        private, public, client, Strategy.BEST_MATCH, pins={"wnr-internal": "private"}
    )
    plan = run(["wnr-service"], finder)
    assert origin(plan, "wnr-internal") == ("1.0", "private")


def test_a_pinned_name_missing_from_its_index_is_not_taken_from_another(private, public, client):
    finder = finder_for(private, public, client, pins={"wnr-publiconly": "private"})
    with pytest.raises(ResolutionError) as info:
        run(["wnr-publiconly"], finder)
    assert "no source has wnr-publiconly" in str(info.value)


def test_first_match_moves_on_also_when_several_names_are_requested(private, public, client):
    finder = finder_for(private, public, client, Strategy.FIRST_MATCH)
    plan = run(["wnr-shared>=2", "wnr-internal"], finder)
    assert origin(plan, "wnr-shared") == ("2.0", "public")


def test_first_match_judges_each_requirement_of_a_name_on_its_own(private, public, client):
    # The first look at wnr-shared (any version) stops at the private index; a later, stricter
    # requirement from a dependency must look again rather than reuse that answer.
    finder = finder_for(private, public, client, Strategy.FIRST_MATCH)
    plan = run(["wnr-shared", "wnr-shared>=2"], finder)
    assert origin(plan, "wnr-shared") == ("2.0", "public")


def test_first_match_moves_on_when_the_first_index_has_only_files_the_target_cannot_use(
    private, public, client
):
    plan = run(["wnr-native"], finder_for(private, public, client, Strategy.FIRST_MATCH))
    assert origin(plan, "wnr-native") == ("1.0", "public")


def test_first_index_stays_on_the_first_index_even_when_its_files_do_not_fit(
    private, public, client
):
    with pytest.raises(ResolutionError):
        run(["wnr-native"], finder_for(private, public, client))
