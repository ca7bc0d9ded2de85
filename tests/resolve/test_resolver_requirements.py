"""Requirement semantics of the resolver: extras, markers (variant markers included),
Requires-Python, pre-releases, yanked files, constraints, --no-deps, upgrades, installed packages."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.resolve.conftest import (
    CUDA_12,
    index_source,
    installed_dist,
    installed_map,
    make_finder,
    package,
    run,
    serving,
    versions,
)
from tests.support.index_server import IndexServer, IndexTree
from wheelnext_jupyter.resolve.installed import installed_distributions
from wheelnext_jupyter.resolve.provider import ResolveOptions
from wheelnext_jupyter.resolve.resolver import ResolutionError
from wheelnext_jupyter.variants.properties import VariantFeatureConfig

CU12 = {"nvidia": {"cuda_version_lower_bound": ["12.0"]}}
AMPERE_AND_HOPPER = {"nvidia": {"sm_arch": ["80_real", "90_real"]}}
#: A GPU that runs Ampere code but not Hopper code.
AMPERE_GPU = {
    "nvidia": (VariantFeatureConfig("sm_arch", ("86_real", "80_real"), multi_value=True),)
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    tree = IndexTree(tmp_path_factory.mktemp("reqs") / "index")
    tree.add_wheel(
        "wnr-app",
        "1.0",
        requires_dist=[
            "wnr-lib>=1",
            "wnr-gpuextra; extra == 'gpu'",
            "wnr-never; python_version < '3'",
        ],
        provides_extra=["gpu"],
    )
    tree.add_wheel("wnr-lib", "1.0")
    tree.add_wheel("wnr-lib", "2.0")
    tree.add_wheel("wnr-gpuextra", "1.0")
    tree.add_wheel("wnr-never", "1.0")
    # A dependency that only the CUDA variant has.
    for label, props in (("cu12", CU12), ("null", {})):
        tree.add_wheel(
            "wnr-torchy",
            "2.0",
            label=label,
            variant=props,
            requires_dist=["wnr-cudahelper; 'nvidia' in variant_namespaces"],
        )
    tree.add_variants_json("wnr-torchy", "2.0", {"cu12": CU12, "null": {}})
    tree.add_wheel("wnr-cudahelper", "1.0")
    # Markers see the variant's properties narrowed to what the target supports.
    tree.add_wheel(
        "wnr-kernels",
        "1.0",
        label="sm80_90",
        variant=AMPERE_AND_HOPPER,
        requires_dist=[
            "wnr-amperekit; 'nvidia :: sm_arch :: 80_real' in variant_properties",
            "wnr-hopperkit; 'nvidia :: sm_arch :: 90_real' in variant_properties",
        ],
    )
    tree.add_variants_json("wnr-kernels", "1.0", {"sm80_90": AMPERE_AND_HOPPER})
    tree.add_wheel("wnr-amperekit", "1.0")
    tree.add_wheel("wnr-hopperkit", "1.0")
    # Requires-Python only in the metadata of 2.0 (the index page does not announce it).
    tree.add_wheel("wnr-newpy", "1.0")
    tree.add_wheel("wnr-newpy", "2.0", requires_python=">=3.99")
    # Pre-releases.
    tree.add_wheel("wnr-pre", "1.0")
    tree.add_wheel("wnr-pre", "2.0b1")
    tree.add_wheel("wnr-onlypre", "1.0a1")
    # A yanked newest release, and a package whose metadata pins it.
    tree.add_wheel("wnr-yank", "1.0")
    tree.add_wheel("wnr-yank", "2.0")
    tree.add_wheel("wnr-pinsyank", "1.0", requires_dist=["wnr-yank==2.0"])
    with serving(tree.root) as running:
        running.yanked["wnr_yank-2.0-py3-none-any.whl"] = "broken build"
        yield running


@pytest.fixture
def finder(server, client):
    return make_finder(index_source(server, client))


# -- extras and markers --------------------------------------------------------------------------


def test_dependencies_of_the_chosen_version_are_installed(finder):
    assert versions(run(["wnr-app"], finder)) == {"wnr-app": "1.0", "wnr-lib": "2.0"}


def test_an_extra_brings_its_dependencies(finder):
    plan = run(["wnr-app[gpu]"], finder)
    assert versions(plan) == {"wnr-app": "1.0", "wnr-lib": "2.0", "wnr-gpuextra": "1.0"}
    assert package(plan, "wnr-app").extras == {"gpu"}


def test_a_dependency_whose_marker_is_false_is_left_out(finder):
    assert "wnr-never" not in versions(run(["wnr-app[gpu]"], finder))


def test_a_request_whose_marker_is_false_for_the_target_is_left_out(finder):
    assert versions(run(["wnr-lib", "wnr-app; python_version < '3'"], finder)) == {"wnr-lib": "2.0"}


def test_a_variant_marker_dependency_comes_with_the_cuda_variant(server, client):
    plan = run(["wnr-torchy"], make_finder(index_source(server, client), providers=CUDA_12))
    assert package(plan, "wnr-torchy").pick.label == "cu12"
    assert "wnr-cudahelper" in versions(plan)


def test_a_variant_marker_dependency_stays_out_with_the_null_variant(finder):
    plan = run(["wnr-torchy"], finder)
    assert package(plan, "wnr-torchy").pick.label == "null"
    assert "wnr-cudahelper" not in versions(plan)


def test_variant_markers_see_only_the_properties_the_target_supports(server, client):
    plan = run(["wnr-kernels"], make_finder(index_source(server, client), providers=AMPERE_GPU))
    assert versions(plan) == {"wnr-kernels": "1.0", "wnr-amperekit": "1.0"}


# -- Requires-Python -----------------------------------------------------------------------------


def test_requires_python_in_metadata_makes_the_resolver_take_an_older_version(finder):
    assert versions(run(["wnr-newpy"], finder)) == {"wnr-newpy": "1.0"}


def test_a_version_dropped_for_its_metadata_requires_python_is_reported(finder):
    passed_over = package(run(["wnr-newpy"], finder), "wnr-newpy").passed_over
    assert "2.0" in passed_over
    assert ">=3.99" in passed_over["2.0"]


def test_a_pin_to_a_version_whose_requires_python_excludes_the_target_fails(finder):
    with pytest.raises(ResolutionError) as info:
        run(["wnr-newpy==2.0"], finder)
    message = str(info.value)
    assert "Python >=3.99" in message
    assert "Python >=3.99  (requested by wnr-newpy 2.0)" in message
    assert "the target runs Python 3." in message


# -- pre-releases --------------------------------------------------------------------------------


def test_pre_releases_are_skipped_by_default(finder):
    plan = run(["wnr-pre"], finder)
    assert versions(plan) == {"wnr-pre": "1.0"}
    assert "pre-release" in package(plan, "wnr-pre").passed_over["2.0b1"]


def test_pre_flag_admits_pre_releases(finder):
    plan = run(["wnr-pre"], finder, options=ResolveOptions(pre=True))
    assert versions(plan) == {"wnr-pre": "2.0b1"}


def test_a_specifier_naming_a_pre_release_admits_pre_releases(finder):
    assert versions(run(["wnr-pre>=2.0b1"], finder)) == {"wnr-pre": "2.0b1"}


def test_a_pre_release_is_taken_when_no_final_release_exists(finder):
    assert versions(run(["wnr-onlypre"], finder)) == {"wnr-onlypre": "1.0a1"}


# -- yanked files --------------------------------------------------------------------------------


def test_a_yanked_release_is_skipped_for_a_range(finder):
    plan = run(["wnr-yank"], finder)
    assert versions(plan) == {"wnr-yank": "1.0"}
    assert "yanked" in package(plan, "wnr-yank").passed_over["2.0"]


def test_an_exact_user_pin_selects_a_yanked_release_with_a_warning(finder):
    plan = run(["wnr-yank==2.0"], finder)
    assert versions(plan) == {"wnr-yank": "2.0"}
    assert any("yanked" in w and "broken build" in w for w in plan.warnings)


def test_a_dependency_pin_does_not_select_a_yanked_release(finder):
    with pytest.raises(ResolutionError) as info:
        run(["wnr-pinsyank"], finder)
    message = str(info.value)
    assert "wnr-yank==2.0" in message
    assert "requested by wnr-pinsyank 1.0" in message


# -- constraints and --no-deps -------------------------------------------------------------------


def test_a_constraint_limits_the_version_of_a_dependency(finder):
    plan = run(["wnr-app"], finder, constraints=["wnr-lib<2"])
    assert versions(plan) == {"wnr-app": "1.0", "wnr-lib": "1.0"}


def test_a_constraint_alone_installs_nothing(finder):
    plan = run(["wnr-lib"], finder, constraints=["wnr-gpuextra==1.0"])
    assert versions(plan) == {"wnr-lib": "2.0"}


def test_a_constraint_that_excludes_every_version_fails_naming_it(finder):
    with pytest.raises(ResolutionError) as info:
        run(["wnr-lib"], finder, constraints=["wnr-lib>5"])
    assert "wnr-lib" in str(info.value)


def test_no_deps_installs_only_the_named_packages(finder):
    plan = run(["wnr-app[gpu]"], finder, options=ResolveOptions(no_deps=True))
    assert versions(plan) == {"wnr-app": "1.0"}


# -- installed distributions and upgrades --------------------------------------------------------


def test_an_installed_distribution_that_satisfies_the_request_is_kept(finder):
    installed = installed_map(installed_dist("wnr-lib", "1.0"))
    plan = run(["wnr-lib"], finder, installed=installed)
    chosen = package(plan, "wnr-lib")
    assert (str(chosen.version), chosen.action) == ("1.0", "keep")
    assert plan.to_install == ()


def test_upgrade_replaces_an_installed_named_package_with_the_newest(finder):
    installed = installed_map(installed_dist("wnr-lib", "1.0"))
    plan = run(
        ["wnr-lib"],
        finder,
        installed=installed,
        options=ResolveOptions(upgrade=frozenset({"wnr-lib"})),
    )
    chosen = package(plan, "wnr-lib")
    assert (str(chosen.version), chosen.action) == ("2.0", "upgrade")
    assert chosen.replaces is not None and str(chosen.replaces.version) == "1.0"


def test_upgrade_leaves_satisfied_dependencies_alone(finder):
    installed = installed_map(
        installed_dist("wnr-app", "1.0", requires_dist=["wnr-lib>=1"]),
        installed_dist("wnr-lib", "1.0"),
    )
    plan = run(
        ["wnr-app"],
        finder,
        installed=installed,
        options=ResolveOptions(upgrade=frozenset({"wnr-app"})),
    )
    assert package(plan, "wnr-lib").action == "keep"
    assert str(package(plan, "wnr-lib").version) == "1.0"


def test_an_installed_version_outside_the_request_is_upgraded(finder):
    installed = installed_map(installed_dist("wnr-lib", "1.0"))
    plan = run(["wnr-lib>=2"], finder, installed=installed)
    assert package(plan, "wnr-lib").action == "upgrade"


def test_an_installed_dependency_satisfies_a_new_package(finder):
    installed = installed_map(installed_dist("wnr-lib", "1.0"))
    plan = run(["wnr-app"], finder, installed=installed)
    assert package(plan, "wnr-lib").action == "keep"
    assert package(plan, "wnr-app").action == "install"


def test_distributions_read_from_a_real_site_packages_satisfy_requests(finder, tmp_path: Path):
    dist_info = tmp_path / "site-packages" / "wnr_lib-1.0.dist-info"
    dist_info.mkdir(parents=True)
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: wnr-lib\nVersion: 1.0\n\n")
    installed = installed_distributions([tmp_path / "site-packages"])
    plan = run(["wnr-app"], finder, installed=installed)
    assert package(plan, "wnr-lib").action == "keep"
    assert package(plan, "wnr-lib").pick.installed is not None


def test_a_request_left_out_for_its_marker_is_noted(finder):
    plan = run(["wnr-lib", "wnr-app; python_version < '3'"], finder)
    assert any(w.startswith("ignoring wnr-app; python_version < '3'") for w in plan.warnings)


def test_a_passed_over_version_names_the_specifier_that_excluded_it(finder):
    plan = run(["wnr-app"], finder, constraints=["wnr-lib<2"])
    assert package(plan, "wnr-lib").passed_over == {"2.0": "2.0 does not satisfy <2,>=1"}


def test_versions_are_not_reported_as_passed_over_for_the_extras_bookkeeping(finder):
    # `wnr-app[gpu]` resolves through an internal `wnr-app==1.0` edge; it is nobody's reason.
    plan = run(["wnr-app[gpu]", "wnr-lib"], finder)
    assert package(plan, "wnr-lib").passed_over == {}
    assert package(plan, "wnr-app").passed_over == {}
