"""The adapter from a packse scenario run to our own resolver (the engine's `plan()`).

Each run resolves against the scenario index as the only source, for the interpreter of the
scenario's Python version when one is installed (its tags and markers), else for this interpreter
with the version overridden. Universal resolution and per-package binary switches are not offered.
"""

from __future__ import annotations

import functools
from pathlib import Path

from tests.peers.packse_runner import Outcome, Resolved, ScenarioRun, Unsatisfiable, Unsupported
from tests.peers.peer_runners import find_interpreters, pick_interpreter
from wheelnext_jupyter.detection import detect
from wheelnext_jupyter.engine import InstallRequest, plan
from wheelnext_jupyter.index.config import IndexOptions
from wheelnext_jupyter.providers.profile import TargetProfile
from wheelnext_jupyter.resolve.resolver import ResolutionError


@functools.cache
def _interpreters() -> dict[str, Path]:
    return find_interpreters()


def run_ours(run: ScenarioRun) -> Outcome:
    if run.universal or run.required_environments:
        raise Unsupported("universal resolution: we resolve for one target environment")
    if run.no_binary or run.no_build:
        raise Unsupported("per-package --no-binary / --only-binary are not offered")
    try:
        python: str | None = str(pick_interpreter(_interpreters(), run.python_version))
    except Unsupported:
        python = None
    request = InstallRequest(
        requirements=list(run.requirements),
        index=IndexOptions(index_url=run.index_url),
        pre=run.prereleases,
        python=python,
        python_version=run.python_version,
        only_binary=run.python_platform is not None,
    )
    # No variants in these scenarios: an empty profile keeps host detection out of the way.
    detection = detect(profile=TargetProfile(providers={}))
    try:
        result = plan(request, detection=detection)
    except ResolutionError as exc:
        return Unsatisfiable(str(exc))
    return Resolved({p.name: str(p.version) for p in result.plan.packages})
