"""AMD detection from recorded KFD topology nodes and ROCm version files."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.host_trees import kfd_node, write
from wheelnext_jupyter.host.amd import detect_amd, gfx_name

# Trimmed KFD `properties` files of real nodes (key order and spelling as the kernel writes them).
CPU_NODE = (
    "cpu_cores_count 64\nsimd_count 0\nmem_banks_count 1\ncaches_count 0\n"
    "gfx_target_version 0\nvendor_id 0\ndevice_id 0\nlocation_id 0\ndrm_render_minor 0\n"
)
MI250X_NODE = (
    "cpu_cores_count 0\nsimd_count 440\nmem_banks_count 1\nwave_front_size 64\n"
    "gfx_target_version 90010\nvendor_id 4098\ndevice_id 29704\nlocation_id 49664\n"
    "domain 0\ndrm_render_minor 128\nnum_sdma_engines 2\n"
)
MI300X_NODE = (
    "cpu_cores_count 0\nsimd_count 1216\nmem_banks_count 1\nwave_front_size 64\n"
    "gfx_target_version 90402\nvendor_id 4098\ndevice_id 29857\nlocation_id 3072\n"
    "domain 0\ndrm_render_minor 136\nnum_sdma_engines 2\n"
)
RX7900XTX_NODE = (
    "cpu_cores_count 0\nsimd_count 192\nmem_banks_count 1\nwave_front_size 32\n"
    "gfx_target_version 110000\nvendor_id 4098\ndevice_id 29772\nlocation_id 768\n"
    "domain 0\ndrm_render_minor 144\nnum_sdma_engines 2\n"
)


def amd_host(root: Path) -> None:
    kfd_node(root, 0, CPU_NODE)
    kfd_node(root, 1, MI250X_NODE)
    kfd_node(root, 2, RX7900XTX_NODE)
    kfd_node(root, 3, MI300X_NODE)
    kfd_node(root, 4, MI250X_NODE)
    write(root, "/opt/rocm/.info/version", "6.3.1-48\n")


@pytest.mark.parametrize(
    ("target", "name"),
    [
        (90010, "gfx90a"),
        (90402, "gfx942"),
        (90500, "gfx950"),
        (100300, "gfx1030"),
        (110000, "gfx1100"),
        (110501, "gfx1151"),
        (120001, "gfx1201"),
    ],
)
def test_gfx_target_version_maps_to_llvm_target_name(target: int, name: str) -> None:
    assert gfx_name(target) == name


def test_gpu_nodes_are_found_and_cpu_nodes_skipped(tmp_path: Path) -> None:
    amd_host(tmp_path)
    info = detect_amd(root=tmp_path, environ={})
    assert [(g.node, g.gfx) for g in info.gpus] == [
        (1, "gfx90a"),
        (2, "gfx1100"),
        (3, "gfx942"),
        (4, "gfx90a"),
    ]
    assert info.gpus[0].render_node == "/dev/dri/renderD128"
    assert info.gpus[0].device_id == 0x7408


def test_gfx_archs_are_distinct_and_sorted_lexically(tmp_path: Path) -> None:
    amd_host(tmp_path)
    # Lexical order puts gfx1100 before gfx90a, as the plugin's sorted(set(...)) does.
    assert detect_amd(root=tmp_path, environ={}).gfx_archs == ["gfx1100", "gfx90a", "gfx942"]


def test_rocm_version_file_is_read_from_opt_rocm(tmp_path: Path) -> None:
    amd_host(tmp_path)
    info = detect_amd(root=tmp_path, environ={})
    assert info.rocm_version == (6, 3, 1)
    assert info.to_json()["rocm_version"] == "6.3.1"


def test_rocm_path_replaces_opt_rocm(tmp_path: Path) -> None:
    amd_host(tmp_path)
    write(tmp_path, "/usr/local/rocm-7.0/.info/version", "7.0.2\n")
    info = detect_amd(root=tmp_path, environ={"ROCM_PATH": "/usr/local/rocm-7.0"})
    assert info.rocm_version == (7, 0, 2)


def test_no_kfd_and_no_rocm_is_an_empty_answer(tmp_path: Path) -> None:
    info = detect_amd(root=tmp_path, environ={})
    assert info.gpus == ()
    assert info.rocm_version is None
    assert info.to_json()["gfx_archs"] == []


def test_unreadable_version_file_gives_no_version(tmp_path: Path) -> None:
    write(tmp_path, "/opt/rocm/.info/version", "unknown\n")
    assert detect_amd(root=tmp_path, environ={}).rocm_version is None
