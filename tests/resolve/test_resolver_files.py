"""Which file of a version the resolver takes for the target, and the decision it records."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from packaging.version import Version

from tests.resolve.conftest import (
    CUDA_12,
    index_source,
    make_finder,
    package,
    run,
    serving,
    target,
    write_buildable_sdist,
)
from tests.support.index_server import IndexServer, IndexTree
from tests.support.wheels import write_sdist
from wheelnext_jupyter.index.http import HttpClient
from wheelnext_jupyter.resolve.build import BuildError, SourceBuilder
from wheelnext_jupyter.resolve.provider import MetadataSource
from wheelnext_jupyter.resolve.resolver import Plan

CU12 = {"nvidia": {"cuda_version_lower_bound": ["12.0"]}}
#: A platform no interpreter of this test run supports.
FOREIGN = {"python_tag": "cp27", "abi_tag": "cp27mu", "platform_tag": "win32"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    tree = IndexTree(tmp_path_factory.mktemp("files") / "index")
    # A variant package: CUDA build, null variant, and a plain wheel.
    tree.add_wheel("wnr-torchy", "2.0", label="cu12", variant=CU12)
    tree.add_wheel("wnr-torchy", "2.0", label="null", variant={})
    tree.add_wheel("wnr-torchy", "2.0")
    tree.add_variants_json("wnr-torchy", "2.0", {"cu12": CU12, "null": {}})
    # Only a CUDA variant and a plain wheel: without a GPU the plain wheel is the answer.
    tree.add_wheel("wnr-cudaonly", "1.0", label="cu12", variant=CU12)
    tree.add_wheel("wnr-cudaonly", "1.0")
    tree.add_variants_json("wnr-cudaonly", "1.0", {"cu12": CU12})
    # A wheel for a foreign platform next to a pure one; and a foreign-only newer version.
    tree.add_wheel("wnr-tagged", "1.0")
    tree.add_wheel("wnr-tagged", "2.0", **FOREIGN)
    # The index page announces Requires-Python for the newer version.
    tree.add_wheel("wnr-pyreq", "1.0")
    tree.add_wheel("wnr-pyreq", "2.0")
    # A wheel and an sdist of the same version.
    tree.add_wheel("wnr-both", "1.0")
    write_sdist(tree.project_dir("wnr-both"), "wnr-both", "1.0")
    # abi_dependency variants, one per major version of a dependency.
    for major in ("1", "2"):
        tree.add_wheel(
            "wnr-abi",
            "1.0",
            label=f"dep{major}",
            variant={"abi_dependency": {"wnr_dep": [major]}},
        )
    tree.add_variants_json(
        "wnr-abi",
        "1.0",
        {
            "dep1": {"abi_dependency": {"wnr_dep": ["1"]}},
            "dep2": {"abi_dependency": {"wnr_dep": ["2"]}},
        },
    )
    with serving(tree.root) as running:
        running.requires_python["wnr_pyreq-2.0-py3-none-any.whl"] = ">=3.99"
        yield running


def verdicts(plan: Plan, name: str) -> dict[str, str]:
    return {f.filename: f.verdict for f in package(plan, name).pick.files}


# -- variants, the null variant, plain wheels ----------------------------------------------------


def test_the_cuda_variant_is_chosen_when_the_profile_supports_cuda(server, client):
    plan = run(["wnr-torchy"], make_finder(index_source(server, client), providers=CUDA_12))
    chosen = package(plan, "wnr-torchy")
    assert chosen.pick.label == "cu12"
    assert chosen.pick.candidate is not None
    assert chosen.pick.candidate.file.filename == "wnr_torchy-2.0-py3-none-any-cu12.whl"


def test_the_null_variant_is_chosen_when_no_variant_with_properties_fits(server, client):
    plan = run(["wnr-torchy"], make_finder(index_source(server, client)))
    assert package(plan, "wnr-torchy").pick.label == "null"


def test_a_non_variant_wheel_ranks_after_the_null_variant(server, client):
    plan = run(["wnr-torchy"], make_finder(index_source(server, client)))
    assert verdicts(plan, "wnr-torchy") == {
        "wnr_torchy-2.0-py3-none-any-cu12.whl": "rejected",
        "wnr_torchy-2.0-py3-none-any-null.whl": "chosen",
        "wnr_torchy-2.0-py3-none-any.whl": "usable",
    }


def test_the_plain_wheel_is_chosen_when_no_variant_fits_and_there_is_no_null_variant(
    server, client
):
    plan = run(["wnr-cudaonly"], make_finder(index_source(server, client)))
    chosen = package(plan, "wnr-cudaonly")
    assert chosen.pick.label is None
    assert chosen.pick.variant is None
    assert verdicts(plan, "wnr-cudaonly") == {
        "wnr_cudaonly-1.0-py3-none-any-cu12.whl": "rejected",
        "wnr_cudaonly-1.0-py3-none-any.whl": "chosen",
    }


def test_no_variants_rejects_every_variant_wheel_with_the_reason(server, client):
    finder = make_finder(index_source(server, client), providers=CUDA_12, no_variants=True)
    plan = run(["wnr-torchy"], finder)
    files = {f.filename: f for f in package(plan, "wnr-torchy").pick.files}
    assert files["wnr_torchy-2.0-py3-none-any.whl"].verdict == "chosen"
    for label in ("cu12", "null"):
        rejected = files[f"wnr_torchy-2.0-py3-none-any-{label}.whl"]
        assert rejected.verdict == "rejected"
        assert any("--no-variants" in reason for reason in rejected.reasons)


def test_a_rejected_variant_names_the_unsupported_namespace(server, client):
    plan = run(["wnr-torchy"], make_finder(index_source(server, client)))
    files = {f.filename: f for f in package(plan, "wnr-torchy").pick.files}
    reasons = " ".join(files["wnr_torchy-2.0-py3-none-any-cu12.whl"].reasons)
    assert "cu12" in reasons
    assert "nvidia" in reasons


def test_variant_properties_are_recorded_on_the_planned_package(server, client):
    plan = run(["wnr-torchy"], make_finder(index_source(server, client), providers=CUDA_12))
    pick = package(plan, "wnr-torchy").pick
    assert pick.variant is not None
    shown = {(p.namespace, p.feature, p.value) for p in pick.variant.properties}
    assert shown == {("nvidia", "cuda_version_lower_bound", "12.0")}
    assert {(p.namespace, p.feature, p.value) for p in pick.narrowed} == shown


# -- abi_dependency ------------------------------------------------------------------------------


@pytest.mark.parametrize(("installed", "label"), [("1.4.2", "dep1"), ("2.0.1", "dep2")])
def test_abi_dependency_variant_follows_the_installed_version(server, client, installed, label):
    finder = make_finder(
        index_source(server, client), installed_versions={"wnr-dep": Version(installed)}
    )
    plan = run(["wnr-abi"], finder)
    assert package(plan, "wnr-abi").pick.label == label


def test_abi_dependency_variants_do_not_fit_without_the_dependency(server, client):
    from wheelnext_jupyter.resolve.resolver import ResolutionError

    with pytest.raises(ResolutionError) as info:
        run(["wnr-abi"], make_finder(index_source(server, client)))
    assert "wnr-abi" in str(info.value)


# -- tags and Requires-Python --------------------------------------------------------------------


def test_a_wheel_whose_tags_do_not_fit_the_target_is_passed_over(server, client):
    plan = run(["wnr-tagged"], make_finder(index_source(server, client)))
    chosen = package(plan, "wnr-tagged")
    assert str(chosen.version) == "1.0"
    assert chosen.passed_over["2.0"] == (
        "no file of this version fits: its tags (cp27-cp27mu-win32) do not fit the target "
        "interpreter"
    )
    (foreign,) = chosen.rejected_files["2.0"]
    assert foreign.filename == "wnr_tagged-2.0-cp27-cp27mu-win32.whl"
    assert foreign.verdict == "rejected"
    assert "tags" in foreign.reasons[0]


def test_requires_python_on_the_index_page_excludes_the_version(server, client):
    plan = run(["wnr-pyreq"], make_finder(index_source(server, client)))
    chosen = package(plan, "wnr-pyreq")
    assert str(chosen.version) == "1.0"
    (file,) = chosen.rejected_files["2.0"]
    running = ".".join(map(str, target().version))
    assert file.reasons == (f"requires Python >=3.99; the target runs Python {running}",)


# -- the decision record -------------------------------------------------------------------------


def test_the_planned_package_records_its_source_name_and_url(server, client):
    plan = run(["wnr-torchy"], make_finder(index_source(server, client, name="team")))
    source = package(plan, "wnr-torchy").pick.source
    assert source is not None
    assert source.name == "team"
    assert source.url == server.index_url


def test_every_file_of_the_chosen_version_has_a_verdict_and_a_reason(server, client):
    plan = run(["wnr-torchy"], make_finder(index_source(server, client), providers=CUDA_12))
    files = package(plan, "wnr-torchy").pick.files
    assert sorted(f.filename for f in files) == [
        "wnr_torchy-2.0-py3-none-any-cu12.whl",
        "wnr_torchy-2.0-py3-none-any-null.whl",
        "wnr_torchy-2.0-py3-none-any.whl",
    ]
    for file in files:
        assert file.reasons, file.filename
        assert file.source == f"main ({server.index_url})"


def test_a_wheel_wins_over_the_sdist_of_the_same_version_without_building(server, client):
    plan = run(["wnr-both"], make_finder(index_source(server, client)))
    files = {f.filename: f for f in package(plan, "wnr-both").pick.files}
    assert files["wnr_both-1.0-py3-none-any.whl"].verdict == "chosen"
    assert files["wnr_both-1.0.tar.gz"].verdict == "usable"
    assert files["wnr_both-1.0.tar.gz"].reasons == ("a wheel fits, so no build",)


# -- source distributions ------------------------------------------------------------------------


@pytest.fixture
def sdist_server(tmp_path: Path) -> Iterator[IndexServer]:
    tree = IndexTree(tmp_path / "index")
    write_buildable_sdist(
        tree.project_dir("wnr-fromsrc"), "wnr-fromsrc", "1.0", requires_dist=["wnr-srcdep"]
    )
    tree.add_wheel("wnr-srcdep", "1.0")
    write_buildable_sdist(
        tree.project_dir("wnr-broken"),
        "wnr-broken",
        "1.0",
        fail="error: the frobnicator header frob.h is missing",
    )
    with serving(tree.root) as running:
        yield running


def builder_metadata(finder, tmp_path: Path) -> MetadataSource:
    builder = SourceBuilder(finder.sources, target().python, tmp_path / "built")
    return MetadataSource(finder, builder)


@pytest.mark.usefixtures("offline_pip")
def test_an_sdist_only_version_is_built_and_its_dependencies_followed(
    sdist_server, client: HttpClient, tmp_path
):
    finder = make_finder(index_source(sdist_server, client))
    plan = run(["wnr-fromsrc"], finder, metadata=builder_metadata(finder, tmp_path))
    chosen = package(plan, "wnr-fromsrc")
    assert chosen.pick.is_sdist
    (file,) = chosen.pick.files
    assert (file.filename, file.verdict) == ("wnr_fromsrc-1.0.tar.gz", "chosen")
    assert file.reasons == ("no wheel fits the target; built from source",)
    assert str(package(plan, "wnr-srcdep").version) == "1.0"


@pytest.mark.usefixtures("offline_pip")
def test_a_failed_build_raises_build_error_carrying_the_build_output(
    sdist_server, client: HttpClient, tmp_path
):
    finder = make_finder(index_source(sdist_server, client))
    with pytest.raises(BuildError) as info:
        run(["wnr-broken"], finder, metadata=builder_metadata(finder, tmp_path))
    message = str(info.value)
    assert "wnr_broken-1.0.tar.gz" in message
    assert "the frobnicator header frob.h is missing" in message


def test_an_sdist_is_not_chosen_when_source_builds_are_off(sdist_server, client):
    from wheelnext_jupyter.resolve.resolver import ResolutionError

    finder = make_finder(index_source(sdist_server, client), only_binary=True)
    with pytest.raises(ResolutionError) as info:
        run(["wnr-fromsrc"], finder)
    assert "wnr-fromsrc" in str(info.value)
    assert "no file of this version fits: source builds are off (--only-binary)" in str(info.value)


def test_an_sdist_pick_without_a_builder_says_builds_are_unavailable(sdist_server, client):
    with pytest.raises(BuildError) as info:
        run(["wnr-fromsrc"], make_finder(index_source(sdist_server, client)))
    assert "wnr-fromsrc 1.0 has only a source distribution" in str(info.value)
