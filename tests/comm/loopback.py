"""A small variant index for the sidebar's tests (pytest and the browser tests share it)."""

from __future__ import annotations

from pathlib import Path

from tests.support.index_server import IndexTree

#: A package with a CUDA build, an x86-64-v1 build and a plain one. On a machine without an
#: NVIDIA GPU, an x86_64 CPU (every x86_64 CPU is at least v1) chooses `x8664v1`.
PACKAGE = "wnui-demo"
VERSION = "1.0"
CUDA = {"nvidia": {"cuda_version_lower_bound": ["12.0"], "sm_arch": ["80_real"]}}
CPU_V1 = {"x86_64": {"level": ["v1"]}}
EXPECTED_ON_CPU = "x8664v1"


def build_index(root: Path) -> Path:
    tree = IndexTree(root)
    for label, props in (("cu12", CUDA), ("x8664v1", CPU_V1), ("null", {})):
        tree.add_wheel(PACKAGE, VERSION, label=label, variant=props)
    tree.add_variants_json(PACKAGE, VERSION, {"cu12": CUDA, "x8664v1": CPU_V1, "null": {}})
    return root
