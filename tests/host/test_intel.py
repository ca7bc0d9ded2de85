"""Intel GPU detection: PCI scan of a recorded sysfs tree, then a fake Level Zero."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.fake_level_zero import ARC_A770, UHD_770, FakeLevelZero
from tests.support.host_trees import pci_function
from wheelnext_jupyter.host.intel import detect_intel
from wheelnext_jupyter.host.level_zero import (
    CtypesLevelZero,
    LevelZeroDevice,
    LevelZeroError,
    format_ip_version,
)


def arc_host(root: Path) -> None:
    pci_function(root, "0000:00:00.0", 0x8086, 0xA700, 0x060000)  # host bridge
    pci_function(root, "0000:00:02.0", 0x8086, 0xA780, 0x030000)  # UHD 770 (VGA)
    pci_function(root, "0000:03:00.0", 0x8086, 0x56A0, 0x030000)  # Arc A770 (VGA)
    pci_function(root, "0000:04:00.0", 0x8086, 0x56A0, 0x040300)  # its HD audio function


def test_gmdid_decodes_to_architecture_release_revision() -> None:
    assert format_ip_version((12 << 22) | (55 << 14) | 8) == "12.55.8"
    assert format_ip_version((20 << 22) | (1 << 14) | 0) == "20.1.0"


def test_arc_host_lists_display_functions_and_level_zero_ips(tmp_path: Path) -> None:
    arc_host(tmp_path)
    info = detect_intel(root=tmp_path, environ={}, level_zero=FakeLevelZero((UHD_770, ARC_A770)))
    assert [f.address for f in info.pci_gpus] == ["0000:00:02.0", "0000:03:00.0"]
    assert info.level_zero == "ok"
    assert [(g.name, g.ip_version) for g in info.gpus] == [
        ("Intel(R) UHD Graphics 770", "12.2.0"),
        ("Intel(R) Arc(TM) A770 Graphics", "12.55.8"),
    ]


def test_no_intel_display_device_never_loads_level_zero(tmp_path: Path) -> None:
    pci_function(tmp_path, "0000:00:00.0", 0x8086, 0x1237, 0x060000)
    fake = FakeLevelZero((ARC_A770,))
    info = detect_intel(root=tmp_path, environ={}, level_zero=fake)
    assert info.level_zero == "not-queried"
    assert fake.calls == []


def test_missing_loader_is_reported_not_raised(tmp_path: Path) -> None:
    arc_host(tmp_path)
    info = detect_intel(root=tmp_path, environ={}, level_zero=FakeLevelZero(missing=True))
    assert info.level_zero == "unavailable"
    assert info.gpus == ()
    assert len(info.pci_gpus) == 2


def test_non_intel_level_zero_devices_are_ignored(tmp_path: Path) -> None:
    arc_host(tmp_path)
    other = LevelZeroDevice(0x1002, 0x744C, "other vendor", 0)
    info = detect_intel(root=tmp_path, environ={}, level_zero=FakeLevelZero((other, ARC_A770)))
    assert [g.device_id for g in info.gpus] == [0x56A0]


def test_real_loader_absent_on_this_machine_raises_level_zero_error() -> None:
    with pytest.raises(LevelZeroError, match="not found"):
        CtypesLevelZero("libze_loader_that_does_not_exist.so.1").devices()
