"""CPU detection from recorded `/proc/cpuinfo` files (tests/data/cpuinfo, archspec's recordings).

Each recorded file is named `<os>-<image>-<target>`, where `<target>` is the microarchitecture that
archspec detects on that machine.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from wheelnext_jupyter.host.cpu import (
    CpuInfo,
    darwin_cpu,
    detect_cpu,
    match_target,
    normalize_machine,
    psabi_level,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "cpuinfo"

X86_FILES = [
    "linux-centos7-cascadelake",
    "linux-rhel6-piledriver",
    "linux-rhel7-broadwell",
    "linux-rhel7-haswell",
    "linux-rhel7-ivybridge",
    "linux-rhel7-skylake_avx512",
    "linux-rhel7-x86_64_v3",
    "linux-rhel7-zen",
    "linux-rocky8.5-zen4",
    "linux-rocky9-zen5",
    "linux-scientific7-k10",
    "linux-scientific7-piledriver",
    "linux-scientificfermi6-bulldozer",
    "linux-scientificfermi6-piledriver",
    "linux-ubuntu18.04-broadwell",
    "linux-ubuntu20.04-zen3",
    "linux-ubuntu24.04-alderlake",
    "linux-ubuntu26.04-arrowlake_s",
    "linux-unknown-sapphirerapids",
]
AARCH64_FILES = [
    "linux-amazon-cortex_a72",
    "linux-amazon-neoverse_n1",
    "linux-amazon-neoverse_v1",
    "linux-asahi-m1",
    "linux-asahi-m2",
    "linux-centos7-thunderx2",
    "linux-rhel8-neoverse_v1",
    "linux-rhel9-neoverse_n2",
    "linux-rhel9-neoverse_v2",
    "linux-rocky8-a64fx",
    "linux-ubuntu22.04-ampere1",
    "linux-ubuntu22.04-ampere1a",
    "linux-ubuntu22.04-neoverse_n2",
    "linux-ubuntu22.04-neoverse_v2",
    "linux-ubuntu24.04-neoverse_v3ae",
    "linux-unknown-neoverse_v2",
]
OTHER_FILES = {
    "linux-centos7-power8le": "ppc64le",
    "linux-rhel8-power9": "ppc64le",
    "linux-unknown-power10": "ppc64le",
    "linux-debian13-x60": "riscv64",
    "linux-sifive-u74mc": "riscv64",
    "linux-spacemit-x60": "riscv64",
}


def recorded_root(tmp_path: Path, name: str) -> Path:
    (tmp_path / "proc").mkdir()
    shutil.copyfile(DATA / name, tmp_path / "proc" / "cpuinfo")
    return tmp_path


def recorded(tmp_path: Path, name: str, machine: str) -> CpuInfo:
    return detect_cpu(root=recorded_root(tmp_path, name), machine=machine)


def test_every_recorded_file_is_classified() -> None:
    names = {p.name for p in DATA.iterdir() if p.name.startswith("linux-")}
    assert names == set(X86_FILES) | set(AARCH64_FILES) | set(OTHER_FILES)


# psABI levels derived by hand from each file's `flags` line and the psABI tables
# (v1: cmov cx8 fpu fxsr mmx syscall sse sse2; v2: cx16 lahf_lm popcnt pni sse4_1 sse4_2 ssse3;
#  v3: avx avx2 bmi1 bmi2 f16c fma abm movbe xsave; v4: avx512f avx512bw avx512cd avx512dq avx512vl).
HAND_DERIVED_LEVELS = [
    # all v1-v4 flags printed, avx512f/bw/cd/dq/vl included
    ("linux-centos7-cascadelake", "v4", ()),
    ("linux-rhel7-skylake_avx512", "v4", ()),
    ("linux-unknown-sapphirerapids", "v4", ()),
    ("linux-rocky9-zen5", "v4", ()),
    # v3 complete; no avx512* flag at all
    ("linux-rhel7-haswell", "v3", ("avx512bw", "avx512cd", "avx512dq", "avx512f", "avx512vl")),
    ("linux-rhel7-zen", "v3", ("avx512bw", "avx512cd", "avx512dq", "avx512f", "avx512vl")),
    (
        "linux-ubuntu24.04-alderlake",
        "v3",
        ("avx512bw", "avx512cd", "avx512dq", "avx512f", "avx512vl"),
    ),
    # v2 complete; v3 lacks avx2, bmi2 and movbe (has avx, bmi1, f16c, fma, abm, xsave)
    ("linux-rhel6-piledriver", "v2", ("avx2", "bmi2", "movbe")),
    # v2 complete; v3 lacks avx2 bmi1 bmi2 fma movbe (f16c arrived with piledriver; abm present)
    ("linux-scientificfermi6-bulldozer", "v2", ("avx2", "bmi1", "bmi2", "f16c", "fma", "movbe")),
    # v2 complete; v3 lacks avx2 bmi1 bmi2 fma abm movbe (has avx, f16c, xsave)
    ("linux-rhel7-ivybridge", "v2", ("abm", "avx2", "bmi1", "bmi2", "fma", "movbe")),
    # v1 complete; v2 lacks ssse3 sse4_1 sse4_2 (K10 has pni, cx16, popcnt, lahf_lm)
    ("linux-scientific7-k10", "v1", ("sse4_1", "sse4_2", "ssse3")),
]


@pytest.mark.parametrize(("name", "level", "missing"), HAND_DERIVED_LEVELS)
def test_psabi_level_matches_hand_derivation(
    tmp_path: Path, name: str, level: str, missing: tuple[str, ...]
) -> None:
    info = recorded(tmp_path, name, "x86_64")
    assert info.psabi_level == level
    assert info.psabi_missing == missing


@pytest.mark.parametrize("name", X86_FILES)
def test_every_x86_file_reaches_at_least_v1_with_its_vendor(tmp_path: Path, name: str) -> None:
    info = recorded(tmp_path, name, "x86_64")
    assert info.psabi_level in {"v1", "v2", "v3", "v4"}
    assert info.vendor in {"GenuineIntel", "AuthenticAMD"}
    assert info.source == "/proc/cpuinfo"


@pytest.mark.parametrize("name", X86_FILES)
def test_x86_flags_are_the_first_block_flags_line(tmp_path: Path, name: str) -> None:
    text = (DATA / name).read_text()
    flags_line = next(line for line in text.splitlines() if line.startswith("flags"))
    info = recorded(tmp_path, name, "x86_64")
    assert info.flags == tuple(flags_line.split(":", 1)[1].split())


@pytest.mark.parametrize(("name", "machine"), sorted(OTHER_FILES.items()))
def test_non_x86_files_have_no_x86_level(tmp_path: Path, name: str, machine: str) -> None:
    info = recorded(tmp_path, name, machine)
    assert info.architecture == machine
    assert info.psabi_level == "unknown"
    assert info.flags == ()
    assert "psabi_level" not in info.to_json()


@pytest.mark.parametrize("name", AARCH64_FILES)
def test_aarch64_files_have_no_x86_level(tmp_path: Path, name: str) -> None:
    info = recorded(tmp_path, name, "aarch64")
    assert info.psabi_level == "unknown"
    assert info.flags  # hwcaps from the Features line


def test_aarch64_reads_implementer_part_and_hwcaps(tmp_path: Path) -> None:
    info = recorded(tmp_path, "linux-amazon-cortex_a72", "aarch64")
    assert info.architecture == "aarch64"
    assert info.cpu_implementer == "0x41"  # Arm Ltd.
    assert info.cpu_part == "0xd08"  # Cortex-A72
    assert info.cpu_architecture == "8"
    assert info.flags == (
        "fp",
        "asimd",
        "evtstrm",
        "aes",
        "pmull",
        "sha1",
        "sha2",
        "crc32",
        "cpuid",
    )
    assert info.cores == (("0x41", "0xd08"),)
    assert not info.is_heterogeneous


def test_apple_m1_under_linux_reads_apple_implementer(tmp_path: Path) -> None:
    info = recorded(tmp_path, "linux-asahi-m1", "aarch64")
    assert (info.cpu_implementer, info.cpu_part) == ("0x61", "0x022")
    assert "paca" in info.flags
    assert "flagm2" in info.flags


def test_big_little_uses_first_block_and_lists_every_core_type(tmp_path: Path) -> None:
    # A heterogeneous machine: a Cortex-A72 block first, then a Neoverse-N1 block.
    little = (DATA / "linux-amazon-cortex_a72").read_text().strip()
    big = (DATA / "linux-amazon-neoverse_n1").read_text().strip().replace("processor\t: 0", "")
    (tmp_path / "proc").mkdir()
    (tmp_path / "proc" / "cpuinfo").write_text(f"{little}\n\n{big}\n\n")
    info = detect_cpu(root=tmp_path, machine="aarch64")
    assert info.cpu_part == "0xd08"
    assert info.cores == (("0x41", "0xd08"), ("0x41", "0xd0c"))
    assert info.is_heterogeneous
    assert "asimddp" not in info.flags  # the N1 block's extra hwcap is not merged in


def test_missing_proc_cpuinfo_is_unknown_not_an_error(tmp_path: Path) -> None:
    info = detect_cpu(root=tmp_path, machine="x86_64")
    assert info.source == "none"
    assert info.psabi_level == "unknown"
    assert info.flags == ()


@pytest.mark.parametrize(
    ("machine", "expected"),
    [("AMD64", "x86_64"), ("arm64", "aarch64"), ("ARM64", "aarch64"), ("ppc64le", "ppc64le")],
)
def test_machine_names_are_normalised(machine: str, expected: str) -> None:
    assert normalize_machine(machine) == expected


def test_psabi_level_accepts_the_cpuid_spelling_of_sse3() -> None:
    v2 = "cmov cx8 fpu fxsr mmx syscall sse sse2 cx16 lahf_lm popcnt sse3 sse4_1 sse4_2 ssse3"
    assert psabi_level(tuple(v2.split())) == (
        "v2",
        tuple(sorted(["avx", "avx2", "bmi1", "bmi2", "f16c", "fma", "abm", "movbe", "xsave"])),
    )


def test_psabi_level_without_a_baseline_flag_is_pre_v1() -> None:
    level, missing = psabi_level(("cmov", "cx8", "fpu", "fxsr", "mmx", "sse", "sse2"))
    assert (level, missing) == ("pre-v1", ("syscall",))


def test_to_json_carries_level_and_flags(tmp_path: Path) -> None:
    data = recorded(tmp_path, "linux-rhel7-haswell", "x86_64").to_json()
    assert data["architecture"] == "x86_64"
    assert data["psabi_level"] == "v3"
    assert data["model_name"] == "Intel(R) Xeon(R) CPU E5-2680 v3 @ 2.50GHz"
    assert "avx2" in data["flags"]  # type: ignore[operator]


# macOS: values as `sysctl` prints them on an Intel Mac (Kaby Lake) and an M2 machine.
INTEL_MAC = {
    "machdep.cpu.brand_string": "Intel(R) Core(TM) i7-7700HQ CPU @ 2.80GHz",
    "machdep.cpu.vendor": "GenuineIntel",
    "machdep.cpu.features": "FPU VME DE PSE TSC MSR PAE MCE CX8 APIC SEP MTRR PGE MCA CMOV PAT "
    "PSE36 CLFSH DS ACPI MMX FXSR SSE SSE2 SS HTT TM PBE SSE3 PCLMULQDQ DTES64 MON DSCPL VMX "
    "EST TM2 SSSE3 FMA CX16 TPR PDCM SSE4.1 SSE4.2 x2APIC MOVBE POPCNT AES PCID XSAVE OSXSAVE "
    "SEGLIM64 TSCTMR AVX1.0 RDRAND F16C",
    "machdep.cpu.leaf7_features": "RDWRFSGS TSC_THREAD_OFFSET SGX BMI1 HLE AVX2 SMEP BMI2 ERMS "
    "INVPCID RTM FPU_CSDS MPX RDSEED ADX SMAP CLFSOPT IPT",
    "machdep.cpu.extfeatures": "SYSCALL XD 1GBPAGE EM64T LAHF LZCNT PREFETCHW RDTSCP TSCI",
}


def test_intel_mac_sysctl_flags_give_v3() -> None:
    info = darwin_cpu(INTEL_MAC, "x86_64")
    assert info.architecture == "x86_64"
    assert info.source == "sysctl"
    # LAHF→lahf_lm, SSE3→pni, SSE4.x→sse4_x, AVX1.0→avx, POPCNT+LZCNT→abm complete v3.
    assert info.psabi_level == "v3"
    assert match_target(info) is not None


def test_apple_silicon_brand_string_gives_aarch64_and_rosetta_flag() -> None:
    values = {"machdep.cpu.brand_string": "Apple M2 Pro", "sysctl.proc_translated": 1}
    info = darwin_cpu(values, "x86_64")
    assert info.architecture == "aarch64"
    assert info.vendor == "Apple"
    assert info.rosetta is True
    assert info.interpreter_machine == "x86_64"
    assert info.to_json()["rosetta"] is True


@pytest.mark.parametrize(
    ("name", "machine"),
    [(n, "x86_64") for n in X86_FILES] + [(n, "aarch64") for n in AARCH64_FILES],
)
def test_match_target_names_the_target_archspec_detected_when_recording(
    tmp_path: Path, name: str, machine: str
) -> None:
    expected = name.split("-", 2)[2]
    target = match_target(recorded(tmp_path, name, machine))
    assert target is not None
    assert target.name == expected


def test_match_target_is_none_for_other_architectures(tmp_path: Path) -> None:
    assert match_target(recorded(tmp_path, "linux-rhel8-power9", "ppc64le")) is None


def test_match_target_on_this_machine_equals_archspec_host() -> None:
    import archspec.cpu

    target = match_target(detect_cpu())
    host = archspec.cpu.host()
    if host.family.name not in {"x86_64", "aarch64"}:
        pytest.skip(f"no provider for {host.family.name}")
    assert target is not None
    assert target.name == host.name
    assert target.generic == host.generic.name
