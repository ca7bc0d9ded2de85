"""What CPU the kernel runs on: architecture, vendor, the kernel's own feature flags, psABI level.

The fast path reads the first processor block of `/proc/cpuinfo` (tens of microseconds) or, on
macOS, a few `sysctlbyname` values; it never starts a process and never imports archspec.
`match_target()` adds archspec's microarchitecture match only when a provider needs it, because the
real `x86_64`/`aarch64` plugins report the features of archspec's *matched target*, not raw flags.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping
from pathlib import Path

from wheelnext_jupyter.host import target_cache
from wheelnext_jupyter.host.marker_environment import uname
from wheelnext_jupyter.record import Record

TYPE_CHECKING = False  # `typing` stays off detection's import path; mypy treats this as true
if TYPE_CHECKING:
    from typing import Any

X86_64 = "x86_64"
AARCH64 = "aarch64"
UNKNOWN = "unknown"

#: `platform.machine()` spellings of the two architectures with variant providers.
_MACHINE_ALIASES = {"amd64": X86_64, "x64": X86_64, "arm64": AARCH64, "aarch64": AARCH64}

#: x86-64 psABI levels as Linux `flags` names. The kernel prints SSE3 as `pni` and never prints
#: OSXSAVE; `xsave` stands in for it (the kernel hides `xsave` when the OS does not enable it).
PSABI_LEVELS: tuple[tuple[str, frozenset[str]], ...] = (
    ("v1", frozenset(["cmov", "cx8", "fpu", "fxsr", "mmx", "syscall", "sse", "sse2"])),
    ("v2", frozenset(["cx16", "lahf_lm", "popcnt", "pni", "sse4_1", "sse4_2", "ssse3"])),
    ("v3", frozenset(["avx", "avx2", "bmi1", "bmi2", "f16c", "fma", "abm", "movbe", "xsave"])),
    ("v4", frozenset(["avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"])),
)

#: Level reported for an x86-64 CPU whose flags lack part of the baseline (v1) set.
PRE_V1 = "pre-v1"

#: macOS Intel `machdep.cpu.*features` spellings mapped to Linux names (archspec's
#: `conversions.darwin_flags` table); the key's words must all be present.
_DARWIN_FLAG_NAMES = {
    "sse3": "pni",
    "sse4.1": "sse4_1",
    "sse4.2": "sse4_2",
    "avx1.0": "avx",
    "lahf": "lahf_lm",
    "sha": "sha_ni",
    "popcnt lzcnt": "abm",
    "clfsopt": "clflushopt",
    "xsave": "xsavec xsaveopt",
}


class CpuInfo(Record):
    """The host CPU as the operating system describes it; `"unknown"`/empty where it says nothing.

    `flags` are the kernel's names as printed (x86 `flags`, aarch64 `Features` hwcaps), in printed
    order. `cores` lists the distinct `(implementer, part)` pairs of all aarch64 cores, so a
    big.LITTLE machine is visible even though matching (like archspec) uses the first block.
    """

    architecture: str
    system: str
    source: str
    vendor: str = ""
    model_name: str = ""
    flags: tuple[str, ...] = ()
    psabi_level: str = UNKNOWN
    psabi_missing: tuple[str, ...] = ()
    cpu_implementer: str = ""
    cpu_part: str = ""
    cpu_architecture: str = ""
    cores: tuple[tuple[str, str], ...] = ()
    rosetta: bool | None = None
    interpreter_machine: str = ""

    @property
    def is_heterogeneous(self) -> bool:
        """More than one core type (big.LITTLE); matching used the first core's block."""
        return len(self.cores) > 1

    def has_flag(self, name: str) -> bool:
        return name in self.flags

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "architecture": self.architecture,
            "system": self.system,
            "source": self.source,
            "vendor": self.vendor,
            "model_name": self.model_name,
            "flags": list(self.flags),
        }
        if self.architecture == X86_64:
            out["psabi_level"] = self.psabi_level
            out["psabi_missing_for_next_level"] = list(self.psabi_missing)
        if self.architecture == AARCH64:
            out["cpu_implementer"] = self.cpu_implementer
            out["cpu_part"] = self.cpu_part
            out["cpu_architecture"] = self.cpu_architecture
            out["cores"] = [list(core) for core in self.cores]
        if self.rosetta is not None:
            out["rosetta"] = self.rosetta
        if self.interpreter_machine:
            out["interpreter_machine"] = self.interpreter_machine
        return out


def normalize_machine(machine: str) -> str:
    """`platform.machine()` → `x86_64`/`aarch64`, other names lower-cased; empty → `unknown`."""
    lowered = machine.strip().lower()
    return _MACHINE_ALIASES.get(lowered, lowered) or UNKNOWN


def psabi_level(flags: tuple[str, ...] | frozenset[str]) -> tuple[str, tuple[str, ...]]:
    """The highest x86-64 psABI level whose flags are all present, and what the next level lacks.

    Returns `("unknown", ())` without flags and `("pre-v1", missing)` when baseline flags are absent.
    """
    if not flags:
        return UNKNOWN, ()
    have = set(flags)
    if "sse3" in have:  # CPUID/sysctl spelling of the kernel's `pni`
        have.add("pni")
    reached = PRE_V1
    for name, required in PSABI_LEVELS:
        missing = required - have
        if missing:
            return reached, tuple(sorted(missing))
        reached = name
    return reached, ()


def _blocks(lines: Iterator[str], *, first_only: bool) -> Iterator[dict[str, str]]:
    """Yield `key: value` blocks of a `/proc/cpuinfo` text (blank lines separate processors)."""
    block: dict[str, str] = {}
    for line in lines:
        key, separator, value = line.partition(":")
        if not separator:
            if block:
                yield block
                if first_only:
                    return
                block = {}
            continue
        block[key.strip()] = value.strip()
    if block:
        yield block


def _from_proc_cpuinfo(path: Path, architecture: str, system: str) -> CpuInfo:
    with path.open(encoding="utf-8", errors="replace") as handle:
        blocks = _blocks(iter(handle), first_only=architecture != AARCH64)
        first = next(blocks, {})
        rest = list(blocks)
    if architecture == X86_64:
        flags = tuple(first.get("flags", "").split())
        level, missing = psabi_level(flags)
        return CpuInfo(
            architecture=architecture,
            system=system,
            source="/proc/cpuinfo",
            vendor=first.get("vendor_id", ""),
            model_name=first.get("model name", ""),
            flags=flags,
            psabi_level=level,
            psabi_missing=missing,
        )
    if architecture == AARCH64:
        cores = tuple(
            dict.fromkeys(
                (block.get("CPU implementer", ""), block.get("CPU part", ""))
                for block in (first, *rest)
                if "CPU part" in block or "CPU implementer" in block
            )
        )
        return CpuInfo(
            architecture=architecture,
            system=system,
            source="/proc/cpuinfo",
            model_name=first.get("model name", ""),
            flags=tuple(first.get("Features", "").split()),
            cpu_implementer=first.get("CPU implementer", ""),
            cpu_part=first.get("CPU part", ""),
            cpu_architecture=first.get("CPU architecture", ""),
            cores=cores,
        )
    # Other architectures: record what the kernel says, claim nothing about levels.
    model = first.get("model name") or first.get("cpu") or first.get("uarch", "")
    return CpuInfo(
        architecture=architecture, system=system, source="/proc/cpuinfo", model_name=model
    )


def darwin_cpu(values: Mapping[str, str | int | None], interpreter_machine: str) -> CpuInfo:
    """Build a `CpuInfo` from macOS sysctl values (`machdep.cpu.*`, `sysctl.proc_translated`).

    Apple silicon reports no per-feature flags here; the brand string names the chip. Under Rosetta
    `platform.machine()` says x86_64 while the hardware is arm64; like archspec, the hardware wins.
    """
    brand = str(values.get("machdep.cpu.brand_string") or "")
    translated = values.get("sysctl.proc_translated")
    rosetta = translated == 1 if translated is not None else None
    machine = normalize_machine(interpreter_machine)
    if "Apple" in brand:
        return CpuInfo(
            architecture=AARCH64,
            system="darwin",
            source="sysctl",
            vendor="Apple",
            model_name=brand,
            rosetta=rosetta,
            interpreter_machine=machine,
        )
    words = " ".join(
        str(values.get(name) or "")
        for name in (
            "machdep.cpu.features",
            "machdep.cpu.leaf7_features",
            "machdep.cpu.extfeatures",
        )
    )
    found = dict.fromkeys(words.lower().split())
    for darwin_names, linux_names in _DARWIN_FLAG_NAMES.items():
        if all(name in found for name in darwin_names.split()):
            found.update(dict.fromkeys(linux_names.split()))
    flags = tuple(found)
    level, missing = psabi_level(flags)
    return CpuInfo(
        architecture=X86_64 if flags or machine == X86_64 else machine,
        system="darwin",
        source="sysctl",
        vendor=str(values.get("machdep.cpu.vendor") or ""),
        model_name=brand,
        flags=flags,
        psabi_level=level,
        psabi_missing=missing,
        rosetta=rosetta,
        interpreter_machine=machine,
    )


_DARWIN_STRINGS = (
    "machdep.cpu.brand_string",
    "machdep.cpu.vendor",
    "machdep.cpu.features",
    "machdep.cpu.leaf7_features",
    "machdep.cpu.extfeatures",
)


def _from_sysctl(interpreter_machine: str) -> CpuInfo:
    from wheelnext_jupyter.host import sysctl  # ctypes: only paid for on macOS

    values: dict[str, str | int | None] = {
        name: sysctl.sysctl_string(name) for name in _DARWIN_STRINGS
    }
    values["sysctl.proc_translated"] = sysctl.sysctl_int("sysctl.proc_translated")
    return darwin_cpu(values, interpreter_machine)


def _from_cpuid(architecture: str) -> CpuInfo:
    """Windows x86-64: the CPUID instruction through archspec's collector (what the plugin does)."""
    try:
        from archspec.cpu.detect import CpuidInfoCollector

        collector = CpuidInfoCollector()
        flags = tuple(sorted(collector.features))
        brand = collector.brand_string() or ""
        vendor = str(collector.vendor)
    except Exception:  # CPUID through mmap'd code can fail under strict policies: say unknown
        return CpuInfo(architecture=architecture, system="windows", source="none")
    level, missing = psabi_level(flags)
    return CpuInfo(
        architecture=architecture,
        system="windows",
        source="cpuid",
        vendor=vendor,
        model_name=str(brand),
        flags=flags,
        psabi_level=level,
        psabi_missing=missing,
    )


def detect_cpu(*, root: Path = Path("/"), machine: str | None = None) -> CpuInfo:
    """Describe the CPU; never raises for missing sources (the answer is then "unknown").

    `root` is the filesystem root to read `proc/cpuinfo` under (tests pass a recorded tree);
    `machine` overrides `platform.machine()` (recorded trees come from other architectures).
    """
    system, _, _, host_machine = uname()
    system = system.lower()
    architecture = normalize_machine(machine if machine is not None else host_machine)
    cpuinfo = root / "proc" / "cpuinfo"
    try:
        # A kernel that prints /proc/cpuinfo is Linux (or a Linux tree recorded elsewhere).
        return _from_proc_cpuinfo(cpuinfo, architecture, "linux")
    except OSError:
        pass
    if system == "darwin" and root == Path("/"):
        return _from_sysctl(machine if machine is not None else host_machine)
    if system == "windows" and root == Path("/") and architecture == X86_64:
        return _from_cpuid(architecture)
    return CpuInfo(architecture=architecture, system=system, source="none")


# ---------------------------------------------------------------------------------------------
# archspec microarchitecture match (only where a provider needs the matched target's features)


class TargetMatch(Record):
    """archspec's microarchitecture for a `CpuInfo`, reduced to what providers consume.

    `ancestors` and `generic_lineage` keep archspec's order. `features` holds the target's own
    features plus every archspec feature alias that holds for it, so `name in features` answers
    exactly what `name in target` answers in archspec.
    """

    name: str
    vendor: str
    family: str
    ancestors: tuple[str, ...]
    generic: str
    generic_lineage: tuple[str, ...]
    features: frozenset[str]
    archspec_version: str

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "vendor": self.vendor,
            "family": self.family,
            "generic": self.generic,
            "archspec": self.archspec_version,
        }


def _apple_model(brand: str, targets: Mapping[str, Any]) -> str:
    """archspec's mapping of an Apple brand string ("Apple M3 Max") to a target name."""
    lowered = brand.lower()
    found = re.search(r"apple\s+m(\d+)", lowered)
    if found is not None:
        for number in range(int(found.group(1)), 0, -1):
            if f"m{number}" in targets:
                return f"m{number}"
    if lowered == "apple processor":
        return "m1"
    return AARCH64


def _compatible(info: CpuInfo, partial: Any, model: Any, target: Any, root: Any) -> bool:
    """archspec's per-family compatibility checks, with the family taken from `info`."""
    if not (target == root or root in target.ancestors):
        return False
    if target.vendor not in (partial.vendor, "generic"):
        return False
    if info.architecture == X86_64:
        return bool(target.features.issubset(partial.features))
    # aarch64: versioned generic targets are never matched directly.
    if target.vendor == "generic" and target.name != AARCH64:
        return False
    if model is not None:  # macOS: the brand string names the model; no feature flags
        return bool(target == model or target in model.ancestors)
    return bool(target.features.issubset(partial.features))


def lineage(name: str) -> tuple[str, ...]:
    """A target's name followed by its ancestors, in archspec's order."""
    from archspec.cpu import TARGETS

    target = TARGETS[name]
    return (target.name, *(a.name for a in target.ancestors))


def _cache_key(info: CpuInfo) -> target_cache.Key | None:
    """The facts `_archspec_match` reads, plus what else its answer depends on."""
    stamp = target_cache.fingerprint(__file__)
    if stamp is None:
        return None
    facts = (info.vendor, info.flags, info.model_name, info.cpu_implementer, info.cpu_part)
    return (stamp, info.architecture, info.system, *facts)


def _to_cache(match: TargetMatch) -> target_cache.Value:
    return (
        match.name,
        match.vendor,
        match.family,
        match.ancestors,
        match.generic,
        match.generic_lineage,
        tuple(sorted(match.features)),
        match.archspec_version,
    )


def _strings(value: object) -> tuple[str, ...] | None:
    if isinstance(value, tuple) and all(isinstance(item, str) for item in value):
        return tuple(str(item) for item in value)
    return None


def _from_cache(value: target_cache.Value) -> TargetMatch | None:
    """The match a cache entry holds, or None for an entry of another shape."""
    if len(value) != 8:
        return None
    texts = _strings((value[0], value[1], value[2], value[4], value[7]))
    ancestors, generic_lineage, features = (_strings(value[i]) for i in (3, 5, 6))
    if texts is None or ancestors is None or generic_lineage is None or features is None:
        return None
    name, vendor, family, generic, version = texts
    return TargetMatch(
        name=name,
        vendor=vendor,
        family=family,
        ancestors=ancestors,
        generic=generic,
        generic_lineage=generic_lineage,
        features=frozenset(features),
        archspec_version=version,
    )


@functools.lru_cache(maxsize=32)
def match_target(info: CpuInfo) -> TargetMatch | None:
    """archspec's host-matching algorithm applied to `info` (None for other architectures).

    Same steps as `archspec.cpu.host()` but fed from `info` instead of re-reading the machine, so
    recorded inputs and the live host go through one path. A match computed before for the same
    facts and the same archspec is read from `target_cache` without importing archspec.
    """
    if info.architecture not in (X86_64, AARCH64):
        return None
    key = _cache_key(info)
    if key is not None:
        cached = target_cache.load(key)
        found = _from_cache(cached) if cached is not None else None
        if found is not None:
            return found
    match = _archspec_match(info)
    if key is not None:
        target_cache.store(key, _to_cache(match))
    return match


def _archspec_match(info: CpuInfo) -> TargetMatch:
    import archspec
    from archspec.cpu import TARGETS
    from archspec.cpu.alias import FEATURE_ALIASES
    from archspec.cpu.detect import partial_uarch
    from archspec.cpu.microarchitecture import generic_microarchitecture
    from archspec.cpu.schema import TARGETS_JSON

    root = TARGETS[info.architecture]
    model = None
    if info.architecture == X86_64:
        partial = partial_uarch(vendor=info.vendor or "generic", features=set(info.flags))
    elif info.system == "darwin":
        name = _apple_model(info.model_name, TARGETS)
        partial = partial_uarch(name=name, vendor="Apple")
        model = TARGETS[name]
    else:
        vendors = TARGETS_JSON["conversions"]["arm_vendors"]
        implementer = info.cpu_implementer
        vendor = vendors.get(implementer, implementer) if implementer else "generic"
        partial = partial_uarch(vendor=vendor, features=set(info.flags), cpu_part=info.cpu_part)

    candidates = [t for t in TARGETS.values() if _compatible(info, partial, model, t, root)]
    if not candidates:
        candidates = [generic_microarchitecture(info.architecture)]

    def key(target: Any) -> tuple[int, int]:
        return len(target.ancestors), len(target.features)

    best_generic = max((c for c in candidates if c.vendor == "generic"), key=key)
    if partial.cpu_part and any(c.cpu_part == partial.cpu_part for c in candidates):
        candidates = [c for c in candidates if c.cpu_part == partial.cpu_part]
    candidates = [c for c in candidates if c > best_generic]
    chosen = max(candidates, key=key) if candidates else best_generic

    generic = chosen.generic
    aliases = {alias for alias in FEATURE_ALIASES if alias in chosen}
    return TargetMatch(
        name=chosen.name,
        vendor=chosen.vendor,
        family=chosen.family.name,
        ancestors=tuple(a.name for a in chosen.ancestors),
        generic=generic.name,
        generic_lineage=(generic.name, *(a.name for a in generic.ancestors)),
        features=frozenset(chosen.features) | frozenset(aliases),
        archspec_version=str(archspec.__version__),
    )
