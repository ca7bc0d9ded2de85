"""Apple silicon facts from recorded sysctl answers."""

from __future__ import annotations

from wheelnext_jupyter.host.apple import detect_apple

M2_SYSCTL: dict[str, str | int] = {
    "machdep.cpu.brand_string": "Apple M2 Pro",
    "sysctl.proc_translated": 0,
}


def test_linux_is_not_apple_silicon() -> None:
    assert not detect_apple(system="Linux", machine="aarch64", sysctl=M2_SYSCTL.get).apple_silicon


def test_darwin_arm64_is_apple_silicon_with_its_brand() -> None:
    info = detect_apple(system="Darwin", machine="arm64", sysctl=M2_SYSCTL.get)
    assert (info.apple_silicon, info.rosetta, info.brand) == (True, False, "Apple M2 Pro")


def test_x86_64_python_under_rosetta_is_still_apple_silicon() -> None:
    answers = {**M2_SYSCTL, "sysctl.proc_translated": 1}
    info = detect_apple(system="Darwin", machine="x86_64", sysctl=answers.get)
    assert (info.apple_silicon, info.rosetta) == (True, True)


def test_intel_mac_is_not_apple_silicon() -> None:
    answers = {"machdep.cpu.brand_string": "Intel(R) Core(TM) i9-9980HK CPU @ 2.40GHz"}
    assert not detect_apple(system="Darwin", machine="x86_64", sysctl=answers.get).apple_silicon
