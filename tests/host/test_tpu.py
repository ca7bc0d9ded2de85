"""TPU detection on recorded host trees: PCI ids decide, device nodes only support."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.fake_nvml import RTX_5090, FakeNvml
from tests.support.host_trees import (
    NVIDIA_570_OPEN_VERSION,
    iommu_group,
    nvidia_driver,
    pci_function,
    write,
)
from wheelnext_jupyter.host.nvidia import detect_nvidia
from wheelnext_jupyter.host.tpu import detect_tpu, generation_from_accelerator_type

GOOGLE = 0x1AE0
TPU_CLASS = 0x120000  # processing accelerator


def tpu_v4_host(root: Path) -> None:
    for n in range(4):
        pci_function(root, f"0000:00:{4 + n:02x}.0", GOOGLE, 0x005E, TPU_CLASS)
        write(root, f"/dev/accel{n}")


def tpu_v5e_host(root: Path) -> None:
    pci_function(root, "0000:00:03.0", GOOGLE, 0x0042, 0x020000)  # gVNIC network card
    write(root, "/dev/vfio/vfio")
    for n in range(4):
        address = f"0000:00:{5 + n:02x}.0"
        pci_function(root, address, GOOGLE, 0x0063, TPU_CLASS)
        iommu_group(root, n, address, GOOGLE)


def blackwell_host(root: Path) -> None:
    """An RTX 5090 with driver 570: the driver creates /dev/accel/accel0."""
    pci_function(root, "0000:01:00.0", 0x10DE, 0x2B85, 0x030000)
    nvidia_driver(root, banner=NVIDIA_570_OPEN_VERSION)
    write(root, "/dev/accel/accel0")


def test_tpu_v4_host_has_four_chips_of_generation_v4(tmp_path: Path) -> None:
    tpu_v4_host(tmp_path)
    info = detect_tpu(root=tmp_path, environ={"TPU_ACCELERATOR_TYPE": "v4-8"})
    assert info.present
    assert (info.generation, info.generation_source) == ("v4", "pci")
    assert info.chips == 4
    assert info.accel_devices == ("/dev/accel0", "/dev/accel1", "/dev/accel2", "/dev/accel3")
    assert info.environment == {"TPU_ACCELERATOR_TYPE": "v4-8"}


def test_tpu_v5e_host_counts_vfio_groups_of_google_devices(tmp_path: Path) -> None:
    tpu_v5e_host(tmp_path)
    info = detect_tpu(root=tmp_path, environ={})
    assert (info.present, info.generation, info.chips) == (True, "v5e", 4)
    assert info.vfio_groups == ("/dev/vfio/0", "/dev/vfio/1", "/dev/vfio/2", "/dev/vfio/3")
    assert info.accel_devices == ()


def test_google_network_card_alone_is_not_a_tpu(tmp_path: Path) -> None:
    pci_function(tmp_path, "0000:00:03.0", GOOGLE, 0x0042, 0x020000)
    assert not detect_tpu(root=tmp_path, environ={}).present


def test_blackwell_nvidia_host_with_dev_accel_is_not_a_tpu(tmp_path: Path) -> None:
    blackwell_host(tmp_path)
    info = detect_tpu(root=tmp_path, environ={})
    assert not info.present
    assert info.generation is None
    nvidia = detect_nvidia(root=tmp_path, environ={}, nvml=FakeNvml(gpus=[RTX_5090]))
    assert nvidia.ok and nvidia.gpus[0].compute_capability == (12, 0)


def test_accel_nodes_without_google_pci_are_not_a_tpu_even_with_the_variable(
    tmp_path: Path,
) -> None:
    pci_function(tmp_path, "0000:01:00.0", 0x10DE, 0x2B85, 0x030000)
    write(tmp_path, "/dev/accel0")
    assert not detect_tpu(root=tmp_path, environ={"TPU_ACCELERATOR_TYPE": "v4-8"}).present


def test_vfio_group_of_another_vendor_is_not_counted(tmp_path: Path) -> None:
    tpu_v5e_host(tmp_path)
    iommu_group(tmp_path, 96, "0000:a0:00.0", 0x15B3)  # BlueField bound to vfio-pci
    assert "/dev/vfio/96" not in detect_tpu(root=tmp_path, environ={}).vfio_groups


def test_v2_v3_shared_pci_id_takes_generation_from_accelerator_type(tmp_path: Path) -> None:
    for n in range(4):
        pci_function(tmp_path, f"0000:00:{4 + n:02x}.0", GOOGLE, 0x0027, TPU_CLASS)
    assert detect_tpu(root=tmp_path, environ={"TPU_ACCELERATOR_TYPE": "v3-8"}).generation == "v3"
    unknown = detect_tpu(root=tmp_path, environ={})
    assert unknown.present and unknown.generation is None


def test_no_pci_view_trusts_accelerator_type_with_device_nodes(tmp_path: Path) -> None:
    write(tmp_path, "/dev/accel0")
    info = detect_tpu(root=tmp_path, environ={"TPU_ACCELERATOR_TYPE": "v4-8"})
    assert (info.present, info.generation, info.generation_source) == (True, "v4", "env")


def test_variable_alone_is_not_a_tpu(tmp_path: Path) -> None:
    assert not detect_tpu(root=tmp_path, environ={"TPU_ACCELERATOR_TYPE": "v5e-1"}).present


def test_colab_empty_tpu_flag_is_recorded_but_means_nothing(tmp_path: Path) -> None:
    info = detect_tpu(root=tmp_path, environ={"COLAB_TPU_1VM": "", "HF_TOKEN": "hf_x"})
    assert not info.present
    assert info.environment == {"COLAB_TPU_1VM": ""}


@pytest.mark.parametrize(
    ("value", "generation"),
    [
        ("v2-8", "v2"),
        ("v3-32", "v3"),
        ("v4-8", "v4"),
        ("v5litepod-16", "v5e"),
        ("v5e-1", "v5e"),
        ("v5p-8", "v5p"),
        ("v6e-8", "v6e"),
        ("tpu7x-8", "tpu7x"),
        ("v9z-8", None),
        ("h100", None),
        ("", None),
    ],
)
def test_accelerator_type_prefix_names_the_generation(value: str, generation: str | None) -> None:
    assert generation_from_accelerator_type(value) == generation
