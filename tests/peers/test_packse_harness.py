"""The packse harness itself: reading scenarios, building their index, judging outcomes, peers."""

from __future__ import annotations

import importlib.util
import tarfile
import zipfile
from collections.abc import Iterator
from email.parser import Parser
from pathlib import Path

import httpx
import pytest

from tests.peers.mini_yaml import YamlSubsetError, load_yaml
from tests.peers.packse_index import build_index, requires_dist, write_buildable_sdist
from tests.peers.packse_runner import (
    Resolved,
    Unsatisfiable,
    judge,
    run_scenario,
    scenario_run,
)
from tests.peers.packse_scenarios import (
    SCENARIOS_DIR,
    ScenarioFormatError,
    load_scenario_file,
    load_scenarios,
    scenario_files,
    scenario_from_dict,
)
from tests.peers.packse_scenarios import Scenario as ScenarioRecord
from tests.peers.peer_runners import (
    find_interpreters,
    parse_compile_output,
    pick_interpreter,
    pip_resolver,
)
from tests.support.index_server import IndexServer

Scenarios = dict[str, ScenarioRecord]

# --- loading ------------------------------------------------------------------------------------


def test_all_150_scenario_files_load() -> None:
    files = scenario_files()
    assert len(files) == 150
    assert len(load_scenarios()) == 150


def test_scenario_names_are_unique() -> None:
    names = [scenario.name for scenario in load_scenarios()]
    assert len(set(names)) == len(names)


def test_project_names_are_unique_across_all_scenarios() -> None:
    projects = [s.project(p) for s in load_scenarios() for p in s.packages]
    assert len(set(projects)) == len(projects)


def test_unset_fields_take_packse_defaults(scenarios: Scenarios) -> None:
    scenario = scenarios["example-toml"]
    b3 = scenario.packages["b"]["3.0.0"]
    assert b3.requires == ("c",)
    assert b3.requires_python == ">=3.12"
    assert (b3.sdist, b3.wheel, b3.yanked) == (True, True, False)
    assert b3.effective_wheel_tags == ("py3-none-any",)
    assert scenario.environment.python == "3.12"
    assert scenario.root.requires_python == ">=3.12"
    assert scenario.resolver_options.universal is False
    assert scenario.target_python == "3.12"


def test_wheel_tags_sdist_flag_and_platform_are_read(scenarios: Scenarios) -> None:
    scenario = scenarios["no-sdist-no-wheels-with-matching-platform"]
    a = scenario.packages["a"]["1.0.0"]
    assert a.wheel_tags == ("py3-none-macosx_10_0_ppc64",)
    assert a.sdist is False
    assert scenario.resolver_options.python_platform == "x86_64-manylinux2014"
    assert scenario.expected.satisfiable is False


def test_python_override_is_the_target_python(scenarios: Scenarios) -> None:
    scenario = scenarios["incompatible-python-compatible-override"]
    assert scenario.environment.python == "3.9"
    assert scenario.resolver_options.python == "3.11"
    assert scenario.target_python == "3.11"
    assert scenario.expected.packages == {"a": "1.0.0"}


def test_extras_and_required_environments_are_read(scenarios: Scenarios) -> None:
    extras = scenarios["all-extras-required"].packages["a"]["1.0.0"].extras
    assert extras == {"all": ("a[extra_b]", "a[extra_c]"), "extra_b": ("b",), "extra_c": ("c",)}
    options = scenarios["requires-python-subset"].resolver_options
    assert options.universal is True
    assert options.required_environments == ('sys_platform == "linux"', 'sys_platform == "win32"')


def test_yaml_example_reads_like_the_json_example() -> None:
    (yaml_scenario,) = load_scenario_file(SCENARIOS_DIR / "examples" / "example.yaml")
    (json_scenario,) = load_scenario_file(SCENARIOS_DIR / "examples" / "example.json")
    assert yaml_scenario.name == "example-yaml"
    assert yaml_scenario.packages == json_scenario.packages
    assert yaml_scenario.expected == json_scenario.expected
    assert yaml_scenario.root == json_scenario.root


def test_yaml_subset_folds_plain_scalars_and_nests_lists() -> None:
    text = "- name: x\n  text:\n    one\n    two\n  list:\n    - a\n    - b\n  flag: true\n"
    assert load_yaml(text) == [{"name": "x", "text": "one two", "list": ["a", "b"], "flag": True}]


def test_yaml_subset_refuses_block_scalars() -> None:
    with pytest.raises(YamlSubsetError, match="unsupported"):
        load_yaml("key: |\n  text\n")


def test_unknown_key_is_a_format_error() -> None:
    document = {"name": "x", "packages": {}, "root": {}, "expected": {"satisfiable": True}}
    scenario_from_dict(document)
    with pytest.raises(ScenarioFormatError, match="resolution"):
        scenario_from_dict({**document, "resolver_options": {"resolution": "lowest"}})


def test_names_are_namespaced_per_scenario(scenarios: Scenarios) -> None:
    scenario = scenarios["example-toml"]
    assert scenario.project("a") == "example-toml-a"
    assert scenario.namespaced("b>1.0.0") == "example-toml-b>1.0.0"
    assert (
        scenario.namespaced("a[extra_b]>=1; sys_platform == 'linux'")
        == 'example-toml-a[extra_b]>=1; sys_platform == "linux"'
    )
    assert scenario.short_name("Example_Toml.B") == "b"
    assert scenario.short_name("other-b") is None


# --- the index ----------------------------------------------------------------------------------


def test_extras_become_marked_requires_dist(scenarios: Scenarios) -> None:
    scenario = scenarios["all-extras-required"]
    assert requires_dist(scenario, scenario.packages["a"]["1.0.0"]) == [
        'all-extras-required-a[extra_b]; extra == "all"',
        'all-extras-required-a[extra_c]; extra == "all"',
        'all-extras-required-b; extra == "extra-b"',
        'all-extras-required-c; extra == "extra-c"',
    ]


@pytest.fixture(scope="module")
def small_index(
    scenarios: Scenarios, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[IndexServer]:
    names = [
        "example-toml",
        "package-only-yanked",
        "no-wheels",
        "no-sdist-no-wheels-with-matching-platform",
    ]
    root = tmp_path_factory.mktemp("small") / "index"
    with build_index([scenarios[n] for n in names], root).server(mode="json") as server:
        yield server


def _page(server: IndexServer, project: str) -> dict[str, object]:
    response = httpx.get(f"{server.index_url}{project}/")
    assert response.status_code == 200
    page: dict[str, object] = response.json()
    return page


def test_index_serves_a_wheel_and_an_sdist_per_version(small_index: IndexServer) -> None:
    page = _page(small_index, "example-toml-b")
    files = sorted(f["filename"] for f in page["files"])  # type: ignore[attr-defined]
    assert files == [
        "example_toml_b-1.0.0-py3-none-any.whl",
        "example_toml_b-1.0.0.tar.gz",
        "example_toml_b-2.0.0-py3-none-any.whl",
        "example_toml_b-2.0.0.tar.gz",
        "example_toml_b-3.0.0-py3-none-any.whl",
        "example_toml_b-3.0.0.tar.gz",
    ]
    for item in page["files"]:  # type: ignore[attr-defined]
        assert item["requires-python"] == ">=3.12"
        assert "core-metadata" in item
        assert "yanked" not in item


def test_index_serves_metadata_files_with_requires_dist(small_index: IndexServer) -> None:
    url = f"{small_index.url}/files/example-toml-b/example_toml_b-3.0.0-py3-none-any.whl.metadata"
    metadata = Parser().parsestr(httpx.get(url).text)
    assert metadata["Name"] == "example-toml-b"
    assert metadata["Version"] == "3.0.0"
    assert metadata.get_all("Requires-Dist") == ["example-toml-c"]
    assert metadata["Requires-Python"] == ">=3.12"


def test_index_marks_yanked_versions(small_index: IndexServer) -> None:
    page = _page(small_index, "package-only-yanked-a")
    assert [f["yanked"] for f in page["files"]] == ["Yanked for testing"] * 2  # type: ignore[attr-defined]


def test_index_writes_given_wheel_tags_and_omits_disabled_kinds(small_index: IndexServer) -> None:
    wheel_only = _page(small_index, "no-sdist-no-wheels-with-matching-platform-a")
    assert [f["filename"] for f in wheel_only["files"]] == [  # type: ignore[attr-defined]
        "no_sdist_no_wheels_with_matching_platform_a-1.0.0-py3-none-macosx_10_0_ppc64.whl"
    ]
    sdist_only = _page(small_index, "no-wheels-a")
    assert [f["filename"] for f in sdist_only["files"]] == ["no_wheels_a-1.0.0.tar.gz"]  # type: ignore[attr-defined]


def test_missing_package_is_not_on_the_index(small_index: IndexServer) -> None:
    # example-toml's b 3.0.0 requires `c`, which the scenario never defines.
    assert httpx.get(f"{small_index.index_url}example-toml-c/").status_code == 404


def test_sdist_backend_builds_a_wheel_with_the_same_metadata(tmp_path: Path) -> None:
    pkg_info = "Metadata-Version: 2.4\nName: demo-x\nVersion: 1.2\nRequires-Dist: other\n\n"
    sdist = write_buildable_sdist(tmp_path / "dist", "demo-x", "1.2", pkg_info)
    with tarfile.open(sdist) as archive:
        archive.extractall(tmp_path / "src", filter="data")
    source = tmp_path / "src" / "demo_x-1.2"
    spec = importlib.util.spec_from_file_location("backend", source / "scenario_build_backend.py")
    assert spec is not None and spec.loader is not None
    backend = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(backend)
    (tmp_path / "out").mkdir()
    filename = backend.build_wheel(str(tmp_path / "out"))
    assert filename == "demo_x-1.2-py3-none-any.whl"
    with zipfile.ZipFile(tmp_path / "out" / filename) as wheel:
        assert wheel.read("demo_x-1.2.dist-info/METADATA").decode() == pkg_info
        assert "demo_x-1.2.dist-info/RECORD" in wheel.namelist()


# --- judging ------------------------------------------------------------------------------------


def test_run_carries_namespaced_requirements_and_target_python(scenarios: Scenarios) -> None:
    run = scenario_run(scenarios["incompatible-python-compatible-override"], "http://x/simple/")
    assert run.requirements == ("incompatible-python-compatible-override-a==1.0.0",)
    assert run.python_version == "3.11"
    assert run.environment_python == "3.9"
    no_binary = scenario_run(scenarios["no-binary"], "http://x/simple/")
    assert no_binary.no_binary == ("no-binary-a",)


def test_exact_expected_resolution_passes(scenarios: Scenarios) -> None:
    outcome = Resolved({"example-toml-a": "1.0", "example-toml-b": "2.0.0"})
    assert judge(scenarios["example-toml"], outcome).status == "pass"


def test_wrong_version_fails_and_names_it(scenarios: Scenarios) -> None:
    outcome = Resolved({"example-toml-a": "1.0.0", "example-toml-b": "3.0.0"})
    verdict = judge(scenarios["example-toml"], outcome)
    assert verdict.status == "fail"
    assert verdict.reason == "b 3.0.0 (expected 2.0.0)"


def test_unexpected_extra_package_fails(scenarios: Scenarios) -> None:
    outcome = Resolved({"extra-required-a": "1.0.0", "extra-required-b": "1.0.0", "x": "1"})
    assert judge(scenarios["extra-required"], outcome).status == "fail"


def test_no_resolution_passes_only_unsatisfiable_scenarios(scenarios: Scenarios) -> None:
    assert judge(scenarios["package-only-yanked"], Unsatisfiable("no")).status == "pass"
    assert judge(scenarios["example-toml"], Unsatisfiable("no")).status == "fail"
    assert judge(scenarios["package-only-yanked"], Resolved({})).status == "fail"


def test_any_resolution_passes_when_no_packages_are_expected(scenarios: Scenarios) -> None:
    assert judge(scenarios["no-wheels"], Resolved({"no-wheels-a": "1.0.0"})).status == "pass"


def test_unsupported_option_is_a_skip_with_its_reason(scenarios: Scenarios) -> None:
    from tests.peers.packse_runner import Unsupported

    def refuses(run: object) -> Resolved:
        raise Unsupported("no universal mode")

    verdict = run_scenario(scenarios["fork-basic"], "http://x/simple/", refuses)
    assert (verdict.status, verdict.reason) == ("skip", "no universal mode")


def test_uv_compile_output_with_forks_is_parsed() -> None:
    text = "a==1.0.0 ; sys_platform == 'linux'\na==2.0.0 ; sys_platform == 'darwin'\nb[x]==3\n"
    resolved = parse_compile_output(text)
    assert resolved.packages == {"a": "1.0.0", "b": "3"}
    assert resolved.forks == {"a": ("1.0.0", "2.0.0")}


def test_interpreter_choice_honours_patch_levels() -> None:
    from tests.peers.packse_runner import Unsupported

    interpreters = {"3.9.18": Path("/py39"), "3.12.1": Path("/py312")}
    assert pick_interpreter(interpreters, "3.12") == Path("/py312")
    assert pick_interpreter(interpreters, "3.9") == Path("/py39")
    with pytest.raises(Unsupported, match=r"3\.9\.21"):
        pick_interpreter(interpreters, "3.9.21")


# --- pip as a peer (a few scenarios only: each pip run costs about a second) ------------------


@pytest.fixture(scope="module")
def pip_312() -> object:
    interpreters = find_interpreters()
    if not any(version.startswith("3.12.") for version in interpreters):
        pytest.skip("no Python 3.12 interpreter on this machine for pip to resolve with")
    return pip_resolver(interpreters)


@pytest.mark.slow
@pytest.mark.parametrize(
    "name",
    [
        "example-toml",  # backtracks past b 3.0.0, whose dependency is missing
        "no-binary",  # builds the sdist with the in-tree backend
        "package-only-yanked",  # unsatisfiable: only a yanked version
        "extra-required",  # extras become `extra ==` markers
    ],
)
def test_pip_passes_simple_scenarios(
    name: str, scenarios: Scenarios, packse_index: IndexServer, pip_312: object
) -> None:
    verdict = run_scenario(scenarios[name], packse_index.index_url, pip_312)  # type: ignore[arg-type]
    assert verdict.status == "pass", verdict.reason
