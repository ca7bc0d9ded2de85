"""NVIDIA detection on recorded host trees and a fake NVML with recorded device answers."""

from __future__ import annotations

from pathlib import Path

from tests.support.fake_nvml import (
    A100_40GB,
    DRIVER_570,
    H100_SXM,
    RTX_4090,
    TESLA_T4,
    FakeGpu,
    FakeNvml,
)
from tests.support.host_trees import NVIDIA_570_OPEN_VERSION, nvidia_driver, write
from wheelnext_jupyter.host.nvidia import (
    STATUS_ABSENT,
    STATUS_ERROR,
    STATUS_OK,
    STATUS_UNAVAILABLE,
    NvidiaInfo,
    decode_cuda_version,
    detect_nvidia,
    visible_gpu_indices,
)
from wheelnext_jupyter.host.nvml import (
    NVML_ERROR_DRIVER_NOT_LOADED,
    NVML_ERROR_FUNCTION_NOT_FOUND,
    NVML_ERROR_GPU_IS_LOST,
    NVML_ERROR_LIBRARY_NOT_FOUND,
    NVML_ERROR_NOT_SUPPORTED,
)

MIG_A100 = FakeGpu(
    A100_40GB.name,
    A100_40GB.compute_capability,
    A100_40GB.memory_total,
    A100_40GB.uuid,
    mig_mode=(1, 1),
    mig_uuids=(
        "MIG-4d3a1b2c-5e6f-5a7b-8c9d-0e1f2a3b4c5d",
        "MIG-9f8e7d6c-5b4a-5a3b-2c1d-0e9f8a7b6c5d",
    ),
)


def detect(tmp_path: Path, nvml: FakeNvml, **env: str) -> NvidiaInfo:
    return detect_nvidia(root=tmp_path, environ=env, nvml=nvml)


def test_no_driver_files_means_absent_without_loading_nvml(tmp_path: Path) -> None:
    nvml = FakeNvml(gpus=[TESLA_T4])
    info = detect(tmp_path, nvml)
    assert info.status == STATUS_ABSENT
    assert info.gpus == ()
    assert nvml.calls == []


def test_one_gpu_reports_driver_cuda_version_and_device(tmp_path: Path) -> None:
    nvidia_driver(tmp_path)
    info = detect(tmp_path, FakeNvml(gpus=[TESLA_T4]))
    assert info.status == STATUS_OK
    assert info.driver_version == "550.54.15"
    assert info.kernel_module_version == "550.54.15"
    assert info.cuda_driver_version == (12, 4)
    (gpu,) = info.gpus
    assert (gpu.name, gpu.compute_capability) == ("Tesla T4", (7, 5))
    assert gpu.memory_total_bytes == 15360 * 1024 * 1024
    assert gpu.uuid == TESLA_T4.uuid
    assert gpu.mig_enabled is None  # T4 has no MIG: NVML answers "not supported"


def test_open_kernel_module_banner_gives_the_module_version(tmp_path: Path) -> None:
    nvidia_driver(tmp_path, banner=NVIDIA_570_OPEN_VERSION)
    info = detect(tmp_path, FakeNvml(gpus=[RTX_4090], driver=DRIVER_570))
    assert info.kernel_module_version == "570.86.15"
    assert info.cuda_driver_version == (12, 8)


def test_mixed_gpus_are_all_reported_in_nvml_order(tmp_path: Path) -> None:
    nvidia_driver(tmp_path, gpus=3)
    info = detect(tmp_path, FakeNvml(gpus=[TESLA_T4, RTX_4090, H100_SXM]))
    assert [g.compute_capability for g in info.gpus] == [(7, 5), (8, 9), (9, 0)]
    assert info.visible_indices == (0, 1, 2)


def test_mig_mode_and_mig_device_uuids_are_reported(tmp_path: Path) -> None:
    nvidia_driver(tmp_path)
    (gpu,) = detect(tmp_path, FakeNvml(gpus=[MIG_A100])).gpus
    assert gpu.mig_enabled is True
    assert gpu.mig_uuids == MIG_A100.mig_uuids
    assert gpu.compute_capability == (8, 0)


def test_wsl_dxg_device_is_enough_to_query_nvml(tmp_path: Path) -> None:
    write(tmp_path, "/dev/dxg")
    info = detect(tmp_path, FakeNvml(gpus=[RTX_4090]))
    assert info.signals == ("/dev/dxg",)
    assert info.status == STATUS_OK


def test_driver_present_without_nvml_library_is_unavailable_not_an_exception(
    tmp_path: Path,
) -> None:
    nvidia_driver(tmp_path)
    info = detect(tmp_path, FakeNvml(gpus=[TESLA_T4], library_present=False))
    assert info.status == STATUS_UNAVAILABLE
    assert info.error_code == NVML_ERROR_LIBRARY_NOT_FOUND
    assert info.error is not None and "libnvidia-ml.so.1" in info.error
    assert info.kernel_module_version == "550.54.15"


def test_driver_not_loaded_is_unavailable(tmp_path: Path) -> None:
    nvidia_driver(tmp_path)
    nvml = FakeNvml(gpus=[TESLA_T4], failures={"init": NVML_ERROR_DRIVER_NOT_LOADED})
    assert detect(tmp_path, nvml).status == STATUS_UNAVAILABLE


def test_nvml_error_while_counting_devices_is_an_error_status(tmp_path: Path) -> None:
    nvidia_driver(tmp_path)
    nvml = FakeNvml(gpus=[TESLA_T4], failures={"device_count": NVML_ERROR_GPU_IS_LOST})
    info = detect(tmp_path, nvml)
    assert info.status == STATUS_ERROR
    assert info.error_code == NVML_ERROR_GPU_IS_LOST
    assert info.gpus == ()


def test_nvml_is_shut_down_after_an_error(tmp_path: Path) -> None:
    nvidia_driver(tmp_path)
    nvml = FakeNvml(gpus=[TESLA_T4], failures={"device_handle": NVML_ERROR_GPU_IS_LOST})
    detect(tmp_path, nvml)
    assert nvml.calls[-1] == "shutdown"


def test_cuda_version_falls_back_to_v1_when_v2_is_missing(tmp_path: Path) -> None:
    nvidia_driver(tmp_path)
    nvml = FakeNvml(
        gpus=[TESLA_T4],
        failures={"system_cuda_driver_version_v2": NVML_ERROR_FUNCTION_NOT_FOUND},
    )
    info = detect(tmp_path, nvml)
    assert "system_cuda_driver_version" in nvml.calls
    assert info.cuda_driver_version == (12, 4)


def test_unreadable_compute_capability_skips_only_that_value(tmp_path: Path) -> None:
    nvidia_driver(tmp_path)
    nvml = FakeNvml(
        gpus=[TESLA_T4], failures={"device_cuda_compute_capability": NVML_ERROR_NOT_SUPPORTED}
    )
    info = detect(tmp_path, nvml)
    assert info.status == STATUS_OK
    assert info.gpus[0].compute_capability is None
    assert info.gpus[0].name == "Tesla T4"


def test_cuda_version_integer_decodes_as_thousands_and_tens() -> None:
    assert decode_cuda_version(12080) == (12, 8)
    assert decode_cuda_version(11040) == (11, 4)
    assert decode_cuda_version(13000) == (13, 0)


def test_to_json_is_plain_data(tmp_path: Path) -> None:
    nvidia_driver(tmp_path)
    data = detect(tmp_path, FakeNvml(gpus=[H100_SXM])).to_json()
    assert data["cuda_driver_version"] == "12.4"
    assert data["gpus"] == [
        {
            "index": 0,
            "name": "NVIDIA H100 80GB HBM3",
            "uuid": H100_SXM.uuid,
            "compute_capability": "9.0",
            "memory_total_bytes": 85520809984,
            "mig_enabled": None,
            "mig_devices": [],
        }
    ]


# CUDA_VISIBLE_DEVICES, as CUDA interprets it.


def three_gpus(tmp_path: Path) -> NvidiaInfo:
    nvidia_driver(tmp_path, gpus=3)
    return detect(tmp_path, FakeNvml(gpus=[TESLA_T4, RTX_4090, MIG_A100]))


def test_visible_devices_unset_shows_every_gpu(tmp_path: Path) -> None:
    gpus = three_gpus(tmp_path).gpus
    assert visible_gpu_indices(None, gpus) == (0, 1, 2)


def test_visible_devices_empty_string_hides_every_gpu(tmp_path: Path) -> None:
    gpus = three_gpus(tmp_path).gpus
    assert visible_gpu_indices("", gpus) == ()


def test_visible_devices_indices_select_and_order(tmp_path: Path) -> None:
    gpus = three_gpus(tmp_path).gpus
    assert visible_gpu_indices("2,0", gpus) == (2, 0)


def test_visible_devices_invalid_entry_ends_the_list(tmp_path: Path) -> None:
    gpus = three_gpus(tmp_path).gpus
    assert visible_gpu_indices("1,7,0", gpus) == (1,)
    assert visible_gpu_indices("-1", gpus) == ()
    assert visible_gpu_indices("0,bogus,1", gpus) == (0,)


def test_visible_devices_gpu_uuid_and_unique_prefix(tmp_path: Path) -> None:
    gpus = three_gpus(tmp_path).gpus
    assert visible_gpu_indices(RTX_4090.uuid, gpus) == (1,)
    assert visible_gpu_indices("GPU-8932f937", gpus) == (1,)
    assert visible_gpu_indices("8932f937", gpus) == (1,)


def test_visible_devices_mig_uuid_selects_its_parent_gpu(tmp_path: Path) -> None:
    gpus = three_gpus(tmp_path).gpus
    assert visible_gpu_indices(MIG_A100.mig_uuids[1], gpus) == (2,)


def test_visible_devices_legacy_mig_syntax_selects_the_parent(tmp_path: Path) -> None:
    gpus = three_gpus(tmp_path).gpus
    assert visible_gpu_indices(f"MIG-{MIG_A100.uuid}/1/0", gpus) == (2,)


def test_detection_records_the_visible_gpus(tmp_path: Path) -> None:
    nvidia_driver(tmp_path, gpus=2)
    info = detect(tmp_path, FakeNvml(gpus=[TESLA_T4, H100_SXM]), CUDA_VISIBLE_DEVICES=TESLA_T4.uuid)
    assert [g.name for g in info.visible_gpus] == ["Tesla T4"]
    assert len(info.gpus) == 2
