"""`abi_dependency` variants are judged against the environment being built: what is installed,
overlaid with what the same plan installs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.index_server import IndexServer, IndexTree
from wheelnext_jupyter.detection import detect
from wheelnext_jupyter.engine import InstallRequest, plan
from wheelnext_jupyter.index.config import IndexOptions
from wheelnext_jupyter.providers.profile import TargetProfile

ABI = "https://variants-schema.wheelnext.dev/v0.0.3.json"


def abi_variants(*labels_versions: tuple[str, str]) -> dict[str, dict]:
    return {
        label: {"abi_dependency": {"wje_torch": [version]}} for label, version in labels_versions
    }


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    tree = IndexTree(tmp_path_factory.mktemp("index"))
    tree.add_wheel("wje-torch", "1.5")
    tree.add_wheel("wje-torch", "2.9.1")
    variants = abi_variants(("torch1", "1"), ("torch29", "2.9"))
    for label, properties in variants.items():
        tree.add_wheel(
            "wje-ext", "1.0", label=label, variant=properties, requires_dist=["wje-torch"]
        )
    tree.add_wheel("wje-ext", "1.0", requires_dist=["wje-torch"])
    tree.add_variants_json("wje-ext", "1.0", variants)
    with IndexServer(tree.root) as server:
        yield server


def planned(index: IndexServer, *requirements: str) -> dict[str, tuple[str, str | None]]:
    request = InstallRequest(
        requirements=list(requirements), index=IndexOptions(index_url=index.index_url)
    )
    result = plan(request, detection=detect(profile=TargetProfile(providers={})))
    return {p.name: (str(p.version), p.pick.label) for p in result.plan.packages}


def test_extension_matches_the_torch_installed_by_the_same_plan(index):
    assert planned(index, "wje-ext") == {
        "wje-ext": ("1.0", "torch29"),
        "wje-torch": ("2.9.1", None),
    }


def test_extension_follows_a_pinned_older_torch(index):
    assert planned(index, "wje-ext", "wje-torch==1.5") == {
        "wje-ext": ("1.0", "torch1"),
        "wje-torch": ("1.5", None),
    }
