"""Variant selection cross-checked with uv: on the same loopback index, both pick the same file.

Every scenario publishes one package version as variant wheels (plus, in some, a plain wheel)
with index-level and in-wheel metadata in the shape uv 0.13.9 reads. The expected file is derived
by hand from PEP 825's ordering (a variant fits when each of its features has a supported value;
namespace order, then feature order, then value order decide; more matching properties win; the
null variant fits everywhere and ranks after every other fitting variant; a plain wheel only when
no variant fits). Then uv (`--preview-features wheel-variants`) and our `plan()` must both name it.

Ahead-of-time namespaces take their supported values from the metadata's static properties, so
neither tool looks at the host. For `nvidia` both tools read the plugin's override variables
(`NV_VARIANT_PROVIDER_FORCE_CUDA_DRIVER_VERSION`, `NV_VARIANT_PROVIDER_FORCE_SM_ARCH`): uv through
its vendored provider, we through our built-in one.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.peers.peer_runners import find_uv, isolated_env
from tests.peers.uv_variants import V020_SCHEMA, uv_selected_file
from tests.support.index_server import IndexServer, IndexTree
from tests.support.wheels import Properties, variant_document
from wheelnext_jupyter.detection import Detection, detect
from wheelnext_jupyter.engine import InstallRequest, plan
from wheelnext_jupyter.index.config import IndexOptions
from wheelnext_jupyter.providers.profile import TargetProfile

UV = find_uv()
pytestmark = pytest.mark.skipif(UV is None, reason="uv is not installed (pip install uv)")

VERSION = "1.0"
PLAIN = None  # the expected pick is the non-variant wheel

NVIDIA_PLUGIN_API = "nvidia_variant_provider.plugin:NvidiaVariantPlugin"
#: uv's vendored NVIDIA provider calls itself version 0.0.1: it answers only when the metadata's
#: `requires` admits that version (a bare name does).
NVIDIA_PROVIDER = {"requires": ["nvidia-variant-provider"], "plugin-api": NVIDIA_PLUGIN_API}
#: As torch 2.9.0 publishes it.
NVIDIA_PROVIDER_002 = {
    "requires": ["nvidia-variant-provider>=0.0.2,<1.0.0"],
    "plugin-api": NVIDIA_PLUGIN_API,
}


def blas(*providers: str, interface: Sequence[str] = ()) -> Properties:
    props: dict[str, list[str]] = {"provider": list(providers)}
    if interface:
        props["interface"] = list(interface)
    return {"blas_lapack": props}


def static(
    feature_values: Mapping[str, Sequence[str]], order: Sequence[str] | None = None
) -> dict[str, object]:
    """An ahead-of-time provider entry: supported values best first, features in `order`."""
    entry: dict[str, object] = {
        "static-properties": {k: list(v) for k, v in feature_values.items()}
    }
    if order is not None:
        entry["feature-order"] = list(order)
    return entry


@dataclass(frozen=True)
class Scenario:
    id: str
    variants: Mapping[str, Properties]
    providers: Mapping[str, Mapping[str, object]]
    #: The expected label, or PLAIN for the non-variant wheel.
    expected: str | None
    #: Namespace priority; default: the order of `providers`.
    namespaces: Sequence[str] = ()
    #: Also publish a plain (non-variant) wheel of the same version.
    plain: bool = False
    #: Provider override variables, given to both tools.
    env: Mapping[str, str] = field(default_factory=dict)

    @property
    def project(self) -> str:
        return f"wjuv-{self.id}"

    @property
    def expected_file(self) -> str:
        suffix = f"-{self.expected}" if self.expected is not None else ""
        return f"{self.project.replace('-', '_')}-{VERSION}-py3-none-any{suffix}.whl"


NULL: Properties = {}

AHEAD_OF_TIME = [
    Scenario(
        "static-value-order-picks-the-first-value",
        {"openblas": blas("openblas"), "mkl": blas("mkl"), "null": NULL},
        {"blas_lapack": static({"provider": ["mkl", "openblas", "accelerate"]})},
        expected="mkl",
    ),
    Scenario(
        "static-value-order-reversed",
        {"openblas": blas("openblas"), "mkl": blas("mkl"), "null": NULL},
        {"blas_lapack": static({"provider": ["openblas", "mkl"]})},
        expected="openblas",
    ),
    Scenario(
        "no-static-match-gives-the-null-variant",
        {"openblas": blas("openblas"), "mkl": blas("mkl"), "null": NULL},
        {"blas_lapack": static({"provider": ["accelerate"]})},
        expected="null",
    ),
    Scenario(
        "null-variant-beats-the-plain-wheel",
        {"mkl": blas("mkl"), "null": NULL},
        {"blas_lapack": static({"provider": ["openblas"]})},
        plain=True,
        expected="null",
    ),
    Scenario(
        "plain-wheel-when-no-variant-fits",
        {"mkl": blas("mkl")},
        {"blas_lapack": static({"provider": ["openblas"]})},
        plain=True,
        expected=PLAIN,
    ),
    Scenario(
        "fitting-variant-beats-the-plain-wheel",
        {"openblas": blas("openblas")},
        {"blas_lapack": static({"provider": ["openblas"]})},
        plain=True,
        expected="openblas",
    ),
    Scenario(
        "any-listed-value-of-a-feature-fits",
        {"either": blas("accelerate", "openblas"), "mkl": blas("mkl"), "null": NULL},
        {"blas_lapack": static({"provider": ["openblas", "mkl"]})},
        expected="either",
    ),
    Scenario(
        "one-unsupported-feature-rejects-the-variant",
        {
            "mkl_ilp64": blas("mkl", interface=["ilp64"]),
            "openblas": blas("openblas"),
            "null": NULL,
        },
        {
            "blas_lapack": static(
                {"provider": ["mkl", "openblas"], "interface": ["lp64"]},
                order=["provider", "interface"],
            )
        },
        expected="openblas",
    ),
    Scenario(
        "more-matching-properties-win",
        {"mkl": blas("mkl"), "mkl_lp64": blas("mkl", interface=["lp64"]), "null": NULL},
        {
            "blas_lapack": static(
                {"provider": ["mkl", "openblas"], "interface": ["lp64", "ilp64"]},
                order=["provider", "interface"],
            )
        },
        expected="mkl_lp64",
    ),
    Scenario(
        "feature-order-decides-before-value-order",
        {
            "openblas_ilp64": blas("openblas", interface=["ilp64"]),
            "mkl_lp64": blas("mkl", interface=["lp64"]),
        },
        {
            "blas_lapack": static(
                {"provider": ["openblas", "mkl"], "interface": ["lp64", "ilp64"]},
                order=["interface", "provider"],
            )
        },
        expected="mkl_lp64",
    ),
    Scenario(
        "priority-namespace-orders-builds-of-one-kind",
        {
            "p1": {"priority": {"order": ["1"]}},
            "p2": {"priority": {"order": ["2"]}},
            "p3": {"priority": {"order": ["3"]}},
        },
        {"priority": static({"order": ["2", "3", "1"]})},
        expected="p2",
    ),
    Scenario(
        "first-namespace-decides",
        {
            "mkl_2": {**blas("mkl"), "priority": {"order": ["2"]}},
            "openblas_1": {**blas("openblas"), "priority": {"order": ["1"]}},
        },
        {
            "blas_lapack": static({"provider": ["mkl", "openblas"]}),
            "priority": static({"order": ["1", "2"]}),
        },
        expected="mkl_2",
    ),
    Scenario(
        "namespace-priority-reversed",
        {
            "mkl_2": {**blas("mkl"), "priority": {"order": ["2"]}},
            "openblas_1": {**blas("openblas"), "priority": {"order": ["1"]}},
        },
        {
            "blas_lapack": static({"provider": ["mkl", "openblas"]}),
            "priority": static({"order": ["1", "2"]}),
        },
        namespaces=["priority", "blas_lapack"],
        expected="openblas_1",
    ),
]


def cuda(lower: str, *sm: str) -> Properties:
    return {"nvidia": {"cuda_version_lower_bound": [lower], "sm_arch": list(sm)}}


CUDA_BUILDS: Mapping[str, Properties] = {
    "cu12": cuda("12.0", "80_real", "86_real"),
    "cu13": cuda("13.0", "86_real", "90_real"),
    "null": NULL,
}


def forced(driver: str, sm: str | None = None) -> dict[str, str]:
    env = {"NV_VARIANT_PROVIDER_FORCE_CUDA_DRIVER_VERSION": driver}
    if sm is not None:
        env["NV_VARIANT_PROVIDER_FORCE_SM_ARCH"] = sm
    return env


NVIDIA = [
    Scenario(
        "nvidia-cuda-12-driver-gets-the-cuda-12-build",
        CUDA_BUILDS,
        {"nvidia": NVIDIA_PROVIDER},
        env=forced("12.9", "8.6"),
        expected="cu12",
    ),
    Scenario(
        "nvidia-cuda-13-driver-prefers-the-cuda-13-build",
        CUDA_BUILDS,
        {"nvidia": NVIDIA_PROVIDER},
        env=forced("13.0", "8.6"),
        expected="cu13",
    ),
    Scenario(
        "nvidia-gpu-architecture-missing-from-the-build-rejects-it",
        CUDA_BUILDS,
        {"nvidia": NVIDIA_PROVIDER},
        env=forced("13.0", "8.0"),
        expected="cu12",
    ),
    Scenario(
        "nvidia-too-old-driver-gets-the-null-variant",
        CUDA_BUILDS,
        {"nvidia": NVIDIA_PROVIDER},
        env=forced("11.8", "8.6"),
        expected="null",
    ),
    Scenario(
        "nvidia-driver-without-architecture-gets-the-null-variant",
        CUDA_BUILDS,
        {"nvidia": NVIDIA_PROVIDER},
        env=forced("13.0"),
        expected="null",
    ),
]

#: Published like torch 2.9.0: uv skips its vendored provider here (see the last test).
NVIDIA_REQUIRES_002 = Scenario(
    "nvidia-provider-requires-0-0-2",
    CUDA_BUILDS,
    {"nvidia": NVIDIA_PROVIDER_002},
    env=forced("12.9", "8.6"),
    expected="cu12",
)

SCENARIOS = AHEAD_OF_TIME + NVIDIA


def publish(tree: IndexTree, scenario: Scenario) -> None:
    namespaces = list(scenario.namespaces or scenario.providers)
    extra = {"providers": {ns: dict(entry) for ns, entry in scenario.providers.items()}}
    for label, props in scenario.variants.items():
        document = variant_document(
            {label: props}, namespaces=namespaces, schema=V020_SCHEMA, extra=extra
        )
        tree.add_wheel(scenario.project, VERSION, label=label, variant_json=document)
    tree.add_variants_json(
        scenario.project,
        VERSION,
        scenario.variants,
        namespaces=namespaces,
        schema=V020_SCHEMA,
        extra=extra,
    )
    if scenario.plain:
        tree.add_wheel(scenario.project, VERSION)


@pytest.fixture(scope="module")
def variant_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    tree = IndexTree(tmp_path_factory.mktemp("uv-variants"))
    for scenario in [*SCENARIOS, NVIDIA_REQUIRES_002]:
        publish(tree, scenario)
    with IndexServer(tree.root) as server:
        yield server


def our_detection(scenario: Scenario) -> Detection:
    if not scenario.env:
        # Ahead-of-time namespaces only: an empty profile keeps the host out of the answer.
        return detect(profile=TargetProfile(providers={}))
    environ = {k: v for k, v in isolated_env().items() if not k.startswith("WHEELNEXT_VARIANTS")}
    environ.update(scenario.env)
    return detect(environ=environ)


def our_selected_file(scenario: Scenario, index_url: str) -> str:
    request = InstallRequest(
        requirements=[scenario.project], index=IndexOptions(index_url=index_url)
    )
    result = plan(request, detection=our_detection(scenario))
    (package,) = [p for p in result.plan.packages if p.name == scenario.project]
    assert package.pick.candidate is not None
    return package.pick.candidate.file.filename


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.id)
def test_uv_and_we_pick_the_same_file(
    scenario: Scenario, variant_index: IndexServer, tmp_path: Path
) -> None:
    assert UV is not None
    theirs = uv_selected_file(
        UV,
        scenario.project,
        variant_index.index_url,
        env=scenario.env,
        cache_dir=tmp_path / "uv-cache",
    )
    ours = our_selected_file(scenario, variant_index.index_url)
    assert (ours, theirs) == (scenario.expected_file, scenario.expected_file)


def test_uv_skips_its_nvidia_provider_when_requires_excludes_its_version(
    variant_index: IndexServer, tmp_path: Path
) -> None:
    """A known difference, kept visible: uv 0.13.9 answers `nvidia` with a vendored provider of
    version 0.0.1, so metadata asking for `nvidia-variant-provider>=0.0.2` (torch 2.9.0's) gets
    the null variant there; we answer the namespace for any provider version."""
    assert UV is not None
    scenario = NVIDIA_REQUIRES_002
    theirs = uv_selected_file(
        UV,
        scenario.project,
        variant_index.index_url,
        env=scenario.env,
        cache_dir=tmp_path / "uv-cache",
    )
    ours = our_selected_file(scenario, variant_index.index_url)
    stem = scenario.project.replace("-", "_")
    assert ours == f"{stem}-1.0-py3-none-any-cu12.whl"
    assert theirs == f"{stem}-1.0-py3-none-any-null.whl"
