"""Read packse resolver scenarios (TOML, JSON or YAML) into plain records.

The format is packse 0.3.59's: unknown keys are an error there, so they are here too, and the
defaults are packse's (`requires_python` of every package version and of the root ">=3.12",
environment Python "3.12", a wheel tagged `py3-none-any` plus an sdist per version).

Package names inside a scenario are short (`a`, `b`); `Scenario.project(name)` gives the name the
package has on the shared index, `<scenario name>-<package>` normalised, so that one index can hold
every scenario at once. `Scenario.namespaced(requirement)` rewrites a requirement string the same
way (extras, specifiers and markers kept).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

from tests.peers.mini_yaml import load_yaml

#: The directory of the 150 packse 0.3.59 scenarios kept with the tests.
SCENARIOS_DIR = Path(__file__).resolve().parent.parent / "data" / "packse" / "scenarios"

DEFAULT_REQUIRES_PYTHON = ">=3.12"
DEFAULT_PYTHON = "3.12"
DEFAULT_WHEEL_TAG = "py3-none-any"


class ScenarioFormatError(ValueError):
    """A scenario file that does not follow packse's format."""


@dataclass(frozen=True)
class PackageVersion:
    version: str
    requires: tuple[str, ...] = ()
    #: extra name → its requirements, as written.
    extras: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: None when the scenario disables it explicitly (packse allows a null value in JSON).
    requires_python: str | None = DEFAULT_REQUIRES_PYTHON
    sdist: bool = True
    wheel: bool = True
    yanked: bool = False
    #: Wheel tags as written; empty means one `py3-none-any` wheel.
    wheel_tags: tuple[str, ...] = ()
    description: str = ""

    @property
    def effective_wheel_tags(self) -> tuple[str, ...]:
        return self.wheel_tags or (DEFAULT_WHEEL_TAG,)


@dataclass(frozen=True)
class Root:
    requires: tuple[str, ...] = ()
    requires_python: str | None = DEFAULT_REQUIRES_PYTHON


@dataclass(frozen=True)
class Expected:
    satisfiable: bool
    #: package (short name) → version; empty means "any resolution will do".
    packages: Mapping[str, str] = field(default_factory=dict)
    explanation: str | None = None


@dataclass(frozen=True)
class Environment:
    #: The Python of the environment the scenario installs into.
    python: str = DEFAULT_PYTHON
    additional_python: tuple[str, ...] = ()


@dataclass(frozen=True)
class ResolverOptions:
    #: A target Python version that overrides the environment's (`--python-version`).
    python: str | None = None
    prereleases: bool = False
    #: Package short names that must come from a wheel.
    no_build: tuple[str, ...] = ()
    #: Package short names that must come from an sdist.
    no_binary: tuple[str, ...] = ()
    universal: bool = False
    python_platform: str | None = None
    required_environments: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Scenario:
    name: str
    #: package short name → version string → that version.
    packages: Mapping[str, Mapping[str, PackageVersion]]
    root: Root
    expected: Expected
    environment: Environment = field(default_factory=Environment)
    resolver_options: ResolverOptions = field(default_factory=ResolverOptions)
    template: str = "package"
    description: str | None = None
    #: The file it came from, relative to the scenarios directory when it lies inside it.
    source: str = ""

    def project(self, package: str) -> str:
        """The name of `package` on the shared index (normalised)."""
        return canonicalize_name(f"{self.name}-{package}")

    def namespaced(self, requirement: str) -> str:
        """`requirement` with its name replaced by the scenario's project name."""
        parsed = Requirement(requirement)
        parsed.name = self.project(parsed.name)
        return str(parsed)

    def short_name(self, project: str) -> str | None:
        """The short package name behind a project name of this scenario, if it is one."""
        wanted = canonicalize_name(project)
        for package in self.packages:
            if self.project(package) == wanted:
                return package
        return None

    @property
    def target_python(self) -> str:
        """The Python version resolution targets: the override, else the environment's."""
        return self.resolver_options.python or self.environment.python


# --- reading -----------------------------------------------------------------------------------


def _check_keys(where: str, data: Mapping[str, Any], allowed: Iterable[str]) -> None:
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise ScenarioFormatError(
            f"{where}: unknown key(s) {', '.join(unknown)}; packse 0.3.59 allows only "
            f"{', '.join(sorted(allowed))}"
        )


def _strings(where: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ScenarioFormatError(f"{where}: expected a list of strings, found {value!r}")
    return tuple(value)


def _version(where: str, version: str, data: Mapping[str, Any]) -> PackageVersion:
    _check_keys(
        where,
        data,
        (
            "requires_python",
            "requires",
            "extras",
            "sdist",
            "wheel",
            "yanked",
            "wheel_tags",
            "description",
        ),
    )
    extras = {
        str(extra): _strings(f"{where}.extras.{extra}", reqs)
        for extra, reqs in data.get("extras", {}).items()
    }
    return PackageVersion(
        version=version,
        requires=_strings(f"{where}.requires", data.get("requires", [])),
        extras=extras,
        requires_python=data.get("requires_python", DEFAULT_REQUIRES_PYTHON),
        sdist=bool(data.get("sdist", True)),
        wheel=bool(data.get("wheel", True)),
        yanked=bool(data.get("yanked", False)),
        wheel_tags=_strings(f"{where}.wheel_tags", data.get("wheel_tags", [])),
        description=str(data.get("description", "")),
    )


def scenario_from_dict(data: Mapping[str, Any], *, source: str = "") -> Scenario:
    """Build a `Scenario` from the decoded document, checking it against packse's format."""
    where = source or str(data.get("name", "<scenario>"))
    _check_keys(
        where,
        data,
        (
            "name",
            "packages",
            "root",
            "expected",
            "environment",
            "resolver_options",
            "template",
            "description",
        ),
    )
    for required in ("name", "packages", "root", "expected"):
        if required not in data:
            raise ScenarioFormatError(f"{where}: the key {required!r} is required")
    packages: dict[str, dict[str, PackageVersion]] = {}
    for package, body in data["packages"].items():
        _check_keys(f"{where}.packages.{package}", body, ("versions",))
        packages[str(package)] = {
            str(version): _version(
                f"{where}.packages.{package}.{version}", str(version), meta or {}
            )
            for version, meta in body["versions"].items()
        }
    root_data = data["root"]
    _check_keys(f"{where}.root", root_data, ("requires", "requires_python"))
    expected_data = data["expected"]
    _check_keys(f"{where}.expected", expected_data, ("satisfiable", "packages", "explanation"))
    environment_data = data.get("environment", {})
    _check_keys(f"{where}.environment", environment_data, ("python", "additional_python"))
    options = data.get("resolver_options", {})
    _check_keys(
        f"{where}.resolver_options",
        options,
        (
            "python",
            "prereleases",
            "no_build",
            "no_binary",
            "universal",
            "python_platform",
            "required_environments",
        ),
    )
    required_environments = options.get("required_environments")
    return Scenario(
        name=str(data["name"]),
        packages=packages,
        root=Root(
            requires=_strings(f"{where}.root.requires", root_data.get("requires", [])),
            requires_python=root_data.get("requires_python", DEFAULT_REQUIRES_PYTHON),
        ),
        expected=Expected(
            satisfiable=bool(expected_data["satisfiable"]),
            packages={str(k): str(v) for k, v in expected_data.get("packages", {}).items()},
            explanation=expected_data.get("explanation"),
        ),
        environment=Environment(
            python=str(environment_data.get("python", DEFAULT_PYTHON)),
            additional_python=_strings(
                f"{where}.environment.additional_python",
                environment_data.get("additional_python", []),
            ),
        ),
        resolver_options=ResolverOptions(
            python=options.get("python"),
            prereleases=bool(options.get("prereleases", False)),
            no_build=_strings(f"{where}.resolver_options.no_build", options.get("no_build", [])),
            no_binary=_strings(f"{where}.resolver_options.no_binary", options.get("no_binary", [])),
            universal=bool(options.get("universal", False)),
            python_platform=options.get("python_platform"),
            required_environments=(
                None
                if required_environments is None
                else _strings(
                    f"{where}.resolver_options.required_environments", required_environments
                )
            ),
        ),
        template=str(data.get("template", "package")),
        description=data.get("description"),
        source=source,
    )


def load_scenario_file(path: Path, *, base: Path | None = None) -> list[Scenario]:
    """Every scenario in one file (a YAML or JSON file may hold a list of them)."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".toml":
        documents: Any = tomllib.loads(text)
    elif path.suffix == ".json":
        documents = json.loads(text)
    elif path.suffix in (".yaml", ".yml"):
        documents = load_yaml(text)
    else:
        raise ScenarioFormatError(f"{path}: not a scenario file (expected .toml, .json or .yaml)")
    if not isinstance(documents, list):
        documents = [documents]
    source = str(path.relative_to(base)) if base is not None else str(path)
    return [scenario_from_dict(document, source=source) for document in documents]


def scenario_files(directory: Path = SCENARIOS_DIR) -> list[Path]:
    """The scenario files under `directory`, in a stable order."""
    return sorted(
        path
        for path in directory.rglob("*")
        if path.is_file() and path.suffix in (".toml", ".json", ".yaml", ".yml")
    )


def load_scenarios(directory: Path = SCENARIOS_DIR) -> list[Scenario]:
    """Every scenario under `directory`, sorted by name."""
    scenarios = [
        scenario
        for path in scenario_files(directory)
        for scenario in load_scenario_file(path, base=directory)
    ]
    return sorted(scenarios, key=lambda scenario: scenario.name)
