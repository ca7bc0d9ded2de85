"""PEP 766 strategies, pins and the dependency-confusion defence, over two real loopback indexes."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from packaging.version import Version

from tests.support.index_server import Fault, IndexServer, IndexTree
from wheelnext_jupyter.index.errors import ConfigError
from wheelnext_jupyter.index.http import HttpClient
from wheelnext_jupyter.index.priority import Outcome, SourceSet, SourceUnavailable, Strategy
from wheelnext_jupyter.index.sources import Candidate, IndexSource


@pytest.fixture
def private(tmp_path: Path) -> Iterator[IndexServer]:
    tree = IndexTree(tmp_path / "private")
    tree.add_wheel("corp-lib", "1.0")
    tree.add_wheel("shared", "1.0")
    with IndexServer(tree.root) as server:
        yield server


@pytest.fixture
def public(tmp_path: Path) -> Iterator[IndexServer]:
    tree = IndexTree(tmp_path / "public")
    # The attacker's copy of the private name, at a higher version.
    tree.add_wheel("corp-lib", "99.0")
    tree.add_wheel("shared", "2.0")
    tree.add_wheel("only-public", "3.0")
    with IndexServer(tree.root) as server:
        yield server


@pytest.fixture
def client(tmp_path: Path) -> Iterator[HttpClient]:
    with HttpClient(cache_dir=None, backoff=0.0, retries=1) as http:
        yield http


def _sources(
    private: IndexServer,
    public: IndexServer,
    client: HttpClient,
    *,
    private_explicit: bool = False,
    **options: object,
) -> SourceSet:
    return SourceSet(
        [
            IndexSource(private.index_url, client, name="private", explicit=private_explicit),
            IndexSource(public.index_url, client, name="public"),
        ],
        **options,  # type: ignore[arg-type]
    )


def _versions(candidates: tuple[Candidate, ...]) -> list[tuple[str, str]]:
    return sorted((c.source.name, str(c.version)) for c in candidates)


def test_first_index_takes_every_candidate_from_the_first_index_that_has_the_name(
    private: IndexServer, public: IndexServer, client: HttpClient
) -> None:
    lookup = _sources(private, public, client).find("corp-lib")
    assert _versions(lookup.candidates) == [("private", "1.0")]


def test_first_index_never_asks_a_lower_index_about_a_name_found_higher(
    private: IndexServer, public: IndexServer, client: HttpClient
) -> None:
    lookup = _sources(private, public, client).find("corp-lib")
    assert public.requests_for("/simple/corp-lib/") == []
    assert [a.outcome for a in lookup.attempts] == [Outcome.SUPPLIED, Outcome.NOT_ASKED]


def test_first_index_is_the_default_strategy(
    private: IndexServer, public: IndexServer, client: HttpClient
) -> None:
    assert _sources(private, public, client).strategy is Strategy.FIRST_INDEX


def test_first_index_does_not_fall_through_for_a_higher_version(
    private: IndexServer, public: IndexServer, client: HttpClient
) -> None:
    # Even a request only the public copy satisfies stays on the private index.
    lookup = _sources(private, public, client).find(
        "corp-lib", viable=lambda c: c.version >= Version("2")
    )
    assert _versions(lookup.candidates) == [("private", "1.0")]


def test_name_absent_on_the_first_index_comes_from_the_next(
    private: IndexServer, public: IndexServer, client: HttpClient
) -> None:
    lookup = _sources(private, public, client).find("only-public")
    assert _versions(lookup.candidates) == [("public", "3.0")]
    assert [a.outcome for a in lookup.attempts] == [Outcome.NOT_FOUND, Outcome.SUPPLIED]


def test_each_package_restarts_at_the_first_index(
    private: IndexServer, public: IndexServer, client: HttpClient
) -> None:
    sources = _sources(private, public, client)
    sources.find("only-public")
    lookup = sources.find("shared")
    assert _versions(lookup.candidates) == [("private", "1.0")]


def test_pinned_name_comes_only_from_its_index_even_under_best_match(
    private: IndexServer, public: IndexServer, client: HttpClient
) -> None:
    sources = _sources(
        private, public, client, strategy=Strategy.BEST_MATCH, pins={"Corp_Lib": "private"}
    )
    lookup = sources.find("corp-lib")
    assert _versions(lookup.candidates) == [("private", "1.0")]
    assert lookup.pinned_to == "private"
    assert public.requests_for("/simple/corp-lib/") == []


def test_pinned_name_missing_on_its_index_is_not_taken_from_elsewhere(
    private: IndexServer, public: IndexServer, client: HttpClient
) -> None:
    sources = _sources(private, public, client, pins={"only-public": "private"})
    lookup = sources.find("only-public")
    assert lookup.candidates == ()
    assert any("pinned" in w for w in lookup.warnings)


def test_pin_can_name_the_index_by_url(
    private: IndexServer, public: IndexServer, client: HttpClient
) -> None:
    sources = _sources(private, public, client, pins={"shared": public.index_url})
    assert _versions(sources.find("shared").candidates) == [("public", "2.0")]


def test_pin_to_an_unknown_index_is_a_config_error(
    private: IndexServer, public: IndexServer, client: HttpClient
) -> None:
    with pytest.raises(ConfigError, match="'private', 'public'"):
        _sources(private, public, client, pins={"x": "nowhere"})


def test_explicit_index_serves_only_pinned_names(
    private: IndexServer, public: IndexServer, client: HttpClient
) -> None:
    sources = _sources(private, public, client, private_explicit=True, pins={"corp-lib": "private"})
    assert _versions(sources.find("shared").candidates) == [("public", "2.0")]
    assert private.requests_for("/simple/shared/") == []
    assert _versions(sources.find("corp-lib").candidates) == [("private", "1.0")]


def test_first_match_falls_through_when_no_candidate_is_viable(
    private: IndexServer, public: IndexServer, client: HttpClient
) -> None:
    sources = _sources(private, public, client, strategy=Strategy.FIRST_MATCH)
    lookup = sources.find("shared", viable=lambda c: c.version >= Version("2"))
    assert _versions(lookup.candidates) == [("public", "2.0")]
    assert _versions(lookup.passed_over) == [("private", "1.0")]
    assert [a.outcome for a in lookup.attempts] == [Outcome.NO_VIABLE, Outcome.SUPPLIED]


def test_first_match_stays_on_the_first_index_with_a_viable_candidate(
    private: IndexServer, public: IndexServer, client: HttpClient
) -> None:
    sources = _sources(private, public, client, strategy=Strategy.FIRST_MATCH)
    lookup = sources.find("shared", viable=lambda c: c.version >= Version("1"))
    assert _versions(lookup.candidates) == [("private", "1.0")]


def test_first_match_with_nothing_viable_anywhere_offers_nothing(
    private: IndexServer, public: IndexServer, client: HttpClient
) -> None:
    sources = _sources(private, public, client, strategy=Strategy.FIRST_MATCH)
    lookup = sources.find("shared", viable=lambda c: False)
    assert lookup.candidates == ()
    assert len(lookup.passed_over) == 2


def test_best_match_collates_every_index(
    private: IndexServer, public: IndexServer, client: HttpClient
) -> None:
    sources = _sources(private, public, client, strategy=Strategy.BEST_MATCH)
    lookup = sources.find("shared")
    assert _versions(lookup.candidates) == [("private", "1.0"), ("public", "2.0")]


def test_a_lookup_gives_the_files_of_one_version_of_one_source_in_page_order(
    private: IndexServer, public: IndexServer, client: HttpClient, tmp_path: Path
) -> None:
    sources = _sources(private, public, client, strategy=Strategy.BEST_MATCH)
    lookup = sources.find("shared")
    public_ref = next(c.source for c in lookup.candidates if c.source.name == "public")
    private_ref = next(c.source for c in lookup.candidates if c.source.name == "private")
    assert [c.file.filename for c in lookup.of_version(Version("2.0"), public_ref)] == [
        c.file.filename
        for c in lookup.candidates
        if c.version == Version("2.0") and c.source == public_ref
    ]
    assert lookup.of_version(Version("2.0"), public_ref)
    assert lookup.of_version(Version("2.0"), private_ref) == ()
    assert lookup.of_version(Version("3.0"), public_ref) == ()


def test_a_lookup_gives_one_versions_candidates_once_the_same_as_in_the_whole_list(
    private: IndexServer, public: IndexServer, client: HttpClient
) -> None:
    sources = _sources(private, public, client, strategy=Strategy.BEST_MATCH)
    lookup = sources.find("shared")
    public_ref = next(offer.ref for offer in lookup.offers if offer.ref.name == "public")
    first = lookup.of_version(Version("2.0"), public_ref)
    assert lookup.of_version(Version("2.0"), public_ref) is first
    assert all(any(c is listed for listed in lookup.candidates) for c in first)
    assert not lookup.is_empty


def test_every_candidate_records_its_source_with_a_redacted_url(
    private: IndexServer, public: IndexServer, client: HttpClient
) -> None:
    private.credentials = ("alice", "s3cret")
    sources = SourceSet(
        [IndexSource(private.url_with_credentials(), client, name="private")],
    )
    lookup = sources.find("corp-lib")
    (candidate,) = lookup.candidates
    assert candidate.source.name == "private"
    assert candidate.source.url == private.url_with_credentials().replace("s3cret", "****")


def test_unnamed_index_is_named_by_its_redacted_url(
    private: IndexServer, public: IndexServer, client: HttpClient
) -> None:
    source = IndexSource(public.index_url, client)
    assert source.ref.name == source.ref.url == public.index_url


def test_network_error_on_a_higher_index_aborts_naming_it(
    private: IndexServer, public: IndexServer, client: HttpClient
) -> None:
    private.faults["/simple/only-public/"] = Fault("status", status=503)
    with pytest.raises(SourceUnavailable, match="private") as info:
        _sources(private, public, client).find("only-public")
    assert info.value.source.name == "private"
    assert public.requests_for("/simple/only-public/") == []


def test_network_error_message_redacts_credentials(
    private: IndexServer, public: IndexServer, client: HttpClient
) -> None:
    private.credentials = ("alice", "s3cret")
    private.faults["/simple/corp-lib/"] = Fault("reset")
    sources = SourceSet(
        [
            IndexSource(private.url_with_credentials(), client),
            IndexSource(public.index_url, client),
        ]
    )
    with pytest.raises(SourceUnavailable) as info:
        sources.find("corp-lib")
    assert "s3cret" not in str(info.value)
    assert "alice:****@" in str(info.value)


def test_network_error_falls_through_when_allowed(
    private: IndexServer, public: IndexServer, client: HttpClient
) -> None:
    private.faults["/simple/shared/"] = Fault("status", status=500)
    lookup = _sources(private, public, client, allow_fallthrough=True).find("shared")
    assert _versions(lookup.candidates) == [("public", "2.0")]
    assert lookup.attempts[0].outcome is Outcome.FAILED
    assert any("private" in w and "falling through" in w for w in lookup.warnings)


def test_best_match_also_aborts_on_a_failing_index(
    private: IndexServer, public: IndexServer, client: HttpClient
) -> None:
    public.faults["/simple/shared/"] = Fault("status", status=500)
    sources = _sources(private, public, client, strategy=Strategy.BEST_MATCH)
    with pytest.raises(SourceUnavailable, match="public"):
        sources.find("shared")


def test_find_many_looks_up_every_name(
    private: IndexServer, public: IndexServer, client: HttpClient
) -> None:
    found = _sources(private, public, client).find_many(["corp-lib", "Only_Public", "absent"])
    assert {n: _versions(lk.candidates) for n, lk in found.items()} == {
        "corp-lib": [("private", "1.0")],
        "only-public": [("public", "3.0")],
        "absent": [],
    }


@pytest.mark.parametrize(
    ("text", "strategy"),
    [
        ("first-index", Strategy.FIRST_INDEX),
        ("unsafe-first-match", Strategy.FIRST_MATCH),
        ("Best-Match", Strategy.BEST_MATCH),
    ],
)
def test_strategy_names_parse(text: str, strategy: Strategy) -> None:
    assert Strategy.parse(text) is strategy


def test_unknown_strategy_names_the_choices() -> None:
    with pytest.raises(ConfigError, match="first-index, first-match, best-match"):
        Strategy.parse("newest")


def test_describe_names_strategy_and_order(
    private: IndexServer, public: IndexServer, client: HttpClient
) -> None:
    text = _sources(private, public, client, private_explicit=True).describe()
    assert text.startswith("index strategy first-index: private")
    assert "[explicit]" in text and text.index("private") < text.index("public")


def test_variant_metadata_comes_from_the_candidates_own_source(
    tmp_path: Path, client: HttpClient
) -> None:
    cuda = {"nvidia": {"cuda_version_lower_bound": ["12.0"]}}
    first, second = IndexTree(tmp_path / "one"), IndexTree(tmp_path / "two")
    first.add_wheel("gpu", "1.0", label="cu12", variant=cuda)
    first.add_variants_json("gpu", "1.0", {"cu12": cuda})
    second.add_wheel("gpu", "1.0", label="cu13", variant=cuda)
    second.add_variants_json("gpu", "1.0", {"cu13": cuda})
    with IndexServer(first.root) as one, IndexServer(second.root) as two:
        sources = SourceSet(
            [IndexSource(one.index_url, client, name="one"), IndexSource(two.index_url, client)],
            strategy=Strategy.BEST_MATCH,
        )
        lookup = sources.find("gpu")
        two_name = two.index_url
        labels = {
            c.source.name: sources.variant_metadata(lookup, c).labels()  # type: ignore[union-attr]
            for c in lookup.candidates
        }
    assert labels == {"one": ("cu12",), two_name: ("cu13",)}


# --- asking ahead ------------------------------------------------------------------------------


def _answered(server: IndexServer, path: str) -> None:
    """Wait until `server` has answered `path`."""
    deadline = time.monotonic() + 10
    while not server.requests_for(path):
        assert time.monotonic() < deadline, f"{path} was never asked for"
        time.sleep(0.005)


def test_a_page_asked_ahead_serves_the_lookup_that_follows(
    private: IndexServer, public: IndexServer, client: HttpClient
) -> None:
    sources = _sources(private, public, client)
    sources.ask_ahead(["Corp_Lib"])
    _answered(private, "/simple/corp-lib/")
    # Asked again, the index would fail: the lookup takes the answer it already has.
    private.faults["/simple/corp-lib/"] = Fault("status", status=500)
    lookup = sources.find("corp-lib")
    assert _versions(lookup.candidates) == [("private", "1.0")]
    assert len(private.requests_for("/simple/corp-lib/")) == 1


def test_only_the_first_index_is_asked_ahead_unless_best_match(
    private: IndexServer, public: IndexServer, client: HttpClient
) -> None:
    _sources(private, public, client).ask_ahead(["shared"])
    _answered(private, "/simple/shared/")
    time.sleep(0.3)  # a request to the second index would have been sent with the first
    assert public.requests_for("/simple/shared/") == []
    with HttpClient(cache_dir=None) as other:
        _sources(private, public, other, strategy=Strategy.BEST_MATCH).ask_ahead(["shared"])
        _answered(public, "/simple/shared/")
    assert len(private.requests_for("/simple/shared/")) == 2


def test_a_pinned_name_is_asked_ahead_of_its_own_index_only(
    private: IndexServer, public: IndexServer, client: HttpClient
) -> None:
    sources = _sources(private, public, client, private_explicit=True, pins={"corp-lib": "private"})
    sources.ask_ahead(["corp-lib", "only-public"])
    _answered(private, "/simple/corp-lib/")
    _answered(public, "/simple/only-public/")
    assert public.requests_for("/simple/corp-lib/") == []
    assert private.requests_for("/simple/only-public/") == []


def test_a_page_that_fails_when_asked_ahead_is_reported_by_the_lookup(
    private: IndexServer, public: IndexServer, client: HttpClient
) -> None:
    private.faults["/simple/corp-lib/"] = Fault("status", status=500)
    sources = _sources(private, public, client)
    sources.ask_ahead(["corp-lib"])  # returns at once, raising nothing
    with pytest.raises(SourceUnavailable, match="private"):
        sources.find("corp-lib")
    assert public.requests_for("/simple/corp-lib/") == []
