"""The contract between a packse scenario and a resolver, and the verdict on what it returned.

A resolver is any `Callable[[ScenarioRun], Outcome]`. It gets everything it needs to resolve one
scenario against the loopback index — namespaced root requirements, the target Python version
(scenarios target 3.12 by default while the test venv may be older, so a resolver must resolve for
`python_version`, not for the interpreter it runs in), pre-release and binary/build options, the
target platform — and answers either `Resolved({project: version})` or `Unsatisfiable(message)`.
A resolver that cannot express an option of the scenario raises `Unsupported(reason)`; the
scenario is then skipped for it, with that reason. `judge` compares an outcome with the
scenario's expectation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from tests.peers.packse_scenarios import Scenario


@dataclass(frozen=True)
class ScenarioRun:
    """One resolution request, as a resolver under test receives it."""

    scenario: str
    #: The PEP 503/691 index root, ending in "/simple/".
    index_url: str
    #: Root requirements (PEP 508), names already as they are on the index.
    requirements: tuple[str, ...]
    #: The Python version to resolve for: "3.12", or with a patch level ("3.9.21"). A version
    #: without a patch level means patch 0 (as `--python-version 3.9` does in uv).
    python_version: str
    #: The Python of the environment the scenario installs into (informational).
    environment_python: str
    #: The root project's Requires-Python (the project itself is not on the index).
    requires_python: str | None
    #: Allow pre-releases of every package (pip's `--pre`).
    prereleases: bool = False
    #: Projects that must come from an sdist (pip's `--no-binary NAME`).
    no_binary: tuple[str, ...] = ()
    #: Projects that must come from a wheel (pip's `--only-binary NAME`).
    no_build: tuple[str, ...] = ()
    #: Target platform in uv's spelling (e.g. "x86_64-manylinux2014"); None = this machine.
    python_platform: str | None = None
    #: A single resolution valid for every environment (uv's `--universal`).
    universal: bool = False
    #: Environments a universal resolution must cover (PEP 508 markers).
    required_environments: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Resolved:
    #: project name (as on the index) → version.
    packages: Mapping[str, str]
    #: For universal resolutions: every version a project has across forks, when more than one.
    forks: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Unsatisfiable:
    message: str


Outcome = Resolved | Unsatisfiable
Resolver = Callable[[ScenarioRun], Outcome]


class Unsupported(Exception):
    """The resolver cannot express an option of this scenario (the scenario is skipped)."""


class RunnerError(Exception):
    """The resolver failed in a way that is neither a resolution nor a clear "no solution"."""


Status = Literal["pass", "fail", "skip"]


@dataclass(frozen=True)
class Verdict:
    scenario: str
    status: Status
    reason: str = ""


def scenario_run(scenario: Scenario, index_url: str) -> ScenarioRun:
    """The request for `scenario` against the shared index at `index_url`."""
    options = scenario.resolver_options
    return ScenarioRun(
        scenario=scenario.name,
        index_url=index_url,
        requirements=tuple(scenario.namespaced(req) for req in scenario.root.requires),
        python_version=scenario.target_python,
        environment_python=scenario.environment.python,
        requires_python=scenario.root.requires_python,
        prereleases=options.prereleases,
        no_binary=tuple(scenario.project(name) for name in options.no_binary),
        no_build=tuple(scenario.project(name) for name in options.no_build),
        python_platform=options.python_platform,
        universal=options.universal,
        required_environments=options.required_environments,
    )


def _same_version(a: str, b: str) -> bool:
    try:
        return Version(a) == Version(b)
    except InvalidVersion:
        return a == b


def judge(scenario: Scenario, outcome: Outcome) -> Verdict:
    """pass / fail for one outcome against the scenario's expectation.

    A satisfiable scenario passes on a resolution that installs exactly the expected packages at
    the expected versions (versions compared as PEP 440 versions); when the scenario lists no
    packages, any resolution passes. An unsatisfiable scenario passes on `Unsatisfiable`.
    """
    expected = scenario.expected
    if isinstance(outcome, Unsatisfiable):
        if expected.satisfiable:
            first_line = outcome.message.strip().splitlines()[:1]
            return Verdict(
                scenario.name, "fail", f"expected a resolution, got none: {''.join(first_line)}"
            )
        return Verdict(scenario.name, "pass")
    if not expected.satisfiable:
        listed = ", ".join(f"{name}=={v}" for name, v in sorted(outcome.packages.items()))
        return Verdict(scenario.name, "fail", f"expected no resolution, got {listed or 'nothing'}")
    if not expected.packages:
        return Verdict(scenario.name, "pass")
    got: dict[str, str] = {}
    forks: dict[str, tuple[str, ...]] = {}
    for project, version in outcome.packages.items():
        short = scenario.short_name(project) or canonicalize_name(project)
        got[short] = version
        forks[short] = outcome.forks.get(project, (version,))
    problems = []
    for package, version in sorted(expected.packages.items()):
        if package not in got:
            problems.append(f"{package} missing (expected {version})")
        elif not any(_same_version(version, v) for v in forks[package]):
            problems.append(f"{package} {got[package]} (expected {version})")
    for package in sorted(set(got) - set(expected.packages)):
        problems.append(f"{package} {got[package]} not expected")
    if problems:
        return Verdict(scenario.name, "fail", "; ".join(problems))
    return Verdict(scenario.name, "pass")


def run_scenario(scenario: Scenario, index_url: str, resolver: Resolver) -> Verdict:
    """Run `resolver` on `scenario` and judge the outcome (skip on `Unsupported`)."""
    try:
        outcome = resolver(scenario_run(scenario, index_url))
    except Unsupported as why:
        return Verdict(scenario.name, "skip", str(why))
    except RunnerError as error:
        return Verdict(scenario.name, "fail", f"error: {error}")
    return judge(scenario, outcome)
