"""Looking ahead of the resolver: what it fetches early, and that it never changes an answer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.resolve.conftest import (
    index_source,
    installed_dist,
    installed_map,
    make_finder,
    run,
    serving,
    versions,
)
from tests.support.index_server import Fault, IndexServer, IndexTree
from wheelnext_jupyter.index.errors import IndexClientError
from wheelnext_jupyter.index.http import HttpClient
from wheelnext_jupyter.index.sources import read_wheel_metadata
from wheelnext_jupyter.resolve.candidates import Pick
from wheelnext_jupyter.resolve.provider import MetadataSource
from wheelnext_jupyter.resolve.requirements import parse_request
from wheelnext_jupyter.resolve.resolver import resolve

SIBLINGS = [f"wnr-la-sib{i}" for i in range(6)]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[IndexServer]:
    tree = IndexTree(tmp_path / "index")
    tree.add_wheel("wnr-la-root", "1.0", requires_dist=SIBLINGS)
    for name in SIBLINGS:
        tree.add_wheel(name, "1.0")
    # A guess that is wrong under a constraint: 2.0 needs a package 1.0 does not.
    tree.add_wheel("wnr-la-app", "1.0", requires_dist=["wnr-la-dep"])
    tree.add_wheel("wnr-la-dep", "1.0")
    tree.add_wheel("wnr-la-dep", "2.0", requires_dist=["wnr-la-only-in-two"])
    tree.add_wheel("wnr-la-only-in-two", "1.0")
    # Installed at 1.0 (see the test); 2.0 on the index needs a package 1.0 does not.
    tree.add_wheel("wnr-la-uses-have", "1.0", requires_dist=["wnr-la-have"])
    tree.add_wheel("wnr-la-have", "1.0", requires_dist=["wnr-la-leaf"])
    tree.add_wheel("wnr-la-have", "2.0", requires_dist=["wnr-la-newer-leaf"])
    tree.add_wheel("wnr-la-leaf", "1.0")
    tree.add_wheel("wnr-la-newer-leaf", "1.0")
    # A dependency whose page the index cannot serve.
    tree.add_wheel("wnr-la-needs-broken", "1.0", requires_dist=["wnr-la-broken"])
    with serving(tree.root) as running:
        yield running


def _metadata_path(server: IndexServer, name: str, version: str) -> str:
    dist = name.replace("-", "_")
    return f"/files/{name}/{dist}-{version}-py3-none-any.whl.metadata"


def test_the_metadata_of_sibling_dependencies_is_fetched_at_once(
    server: IndexServer, client: HttpClient
) -> None:
    for name in SIBLINGS:
        # Slow enough that requests made one after another could never overlap.
        server.faults[_metadata_path(server, name, "1.0")] = Fault("slow", delay=0.3)
    plan = run(["wnr-la-root"], make_finder(index_source(server, client)))
    assert set(versions(plan)) == {"wnr-la-root", *SIBLINGS}
    assert server.peak_in_flight(".whl.metadata") >= 3


def test_a_wrong_guess_costs_a_request_and_never_changes_the_plan(
    server: IndexServer, client: HttpClient
) -> None:
    plan = run(
        ["wnr-la-app"],
        make_finder(index_source(server, client)),
        constraints=["wnr-la-dep<2"],
    )
    assert versions(plan) == {"wnr-la-app": "1.0", "wnr-la-dep": "1.0"}
    # The lookahead cannot see the constraint: it fetched 2.0's metadata, then went no further
    # than the resolver needed.
    assert server.requests_for(_metadata_path(server, "wnr-la-dep", "2.0"))


def test_installed_versions_that_are_kept_are_not_looked_up_ahead_on_the_index(
    server: IndexServer, client: HttpClient
) -> None:
    installed = installed_map(
        installed_dist("wnr-la-have", "1.0", requires_dist=["wnr-la-leaf"]),
        installed_dist("wnr-la-leaf", "1.0"),
    )
    plan = run(["wnr-la-uses-have"], make_finder(index_source(server, client)), installed=installed)
    assert versions(plan) == {"wnr-la-uses-have": "1.0", "wnr-la-have": "1.0", "wnr-la-leaf": "1.0"}
    assert not server.requests_for(_metadata_path(server, "wnr-la-have", "2.0"))
    assert not server.requests_for("/simple/wnr-la-newer-leaf/")


def test_an_index_error_met_while_looking_ahead_is_reported_by_the_resolver(
    server: IndexServer, client: HttpClient
) -> None:
    server.faults["/simple/wnr-la-broken/"] = Fault("status", status=403)
    with pytest.raises(IndexClientError, match="wnr-la-broken"):
        run(["wnr-la-needs-broken"], make_finder(index_source(server, client)))


def test_without_metadata_files_the_lookahead_follows_wheels_read_from_their_downloads(
    tmp_path: Path, client: HttpClient
) -> None:
    tree = IndexTree(tmp_path / "index")
    tree.add_wheel("wnr-nm-app", "1.0", requires_dist=["wnr-nm-lib"], metadata_file=False)
    tree.add_wheel("wnr-nm-lib", "1.0", requires_dist=["wnr-nm-leaf"], metadata_file=False)
    tree.add_wheel("wnr-nm-leaf", "1.0", metadata_file=False)
    guessed: list[str] = []
    read: list[str] = []

    def from_download(pick: Pick, wait: bool) -> bytes | None:
        # Stands in for the install's download of the wheel (see the engine's prefetcher),
        # which is never here before it is waited for.
        assert pick.candidate is not None
        if not wait:
            return None
        read.append(pick.name)
        wheel = client.get(pick.candidate.file.url).body
        return read_wheel_metadata(wheel, filename=pick.candidate.file.filename)

    with serving(tree.root) as server:
        finder = make_finder(index_source(server, client))
        plan = resolve(
            [parse_request("wnr-nm-app")],
            finder=finder,
            installed={},
            metadata=MetadataSource(finder, from_downloads=from_download),
            on_guess=lambda pick: guessed.append(pick.name),
        )
    assert versions(plan) == {"wnr-nm-app": "1.0", "wnr-nm-lib": "1.0", "wnr-nm-leaf": "1.0"}
    # Each wheel's metadata was read once, for the lookahead and the resolver together, and the
    # lookahead went all the way down (without `from_downloads` it stops at the first wheel).
    assert sorted(read) == ["wnr-nm-app", "wnr-nm-leaf", "wnr-nm-lib"]
    assert sorted(guessed) == ["wnr-nm-app", "wnr-nm-leaf", "wnr-nm-lib"]
    assert not [r for r in server.requests if r.path.endswith(".metadata")]
