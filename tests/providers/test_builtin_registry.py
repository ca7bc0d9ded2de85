"""The registry of built-in providers, and their class-level `get_all_configs()`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from wheelnext_jupyter.providers import builtin
from wheelnext_jupyter.providers.builtin.amd import AmdProvider
from wheelnext_jupyter.providers.builtin.intel import IntelProvider
from wheelnext_jupyter.providers.builtin.nvidia import NvidiaProvider
from wheelnext_jupyter.providers.builtin.tpu import TpuProvider
from wheelnext_jupyter.providers.builtin.x86_64 import X8664Provider

CPUINFO = Path(__file__).parents[1] / "data" / "cpuinfo"  # recorded, MIT (LICENSE-MIT there)


def test_every_present_builtin_answers_get_all_configs_on_the_class() -> None:
    for namespace in builtin.available_namespaces():
        cls = builtin.load_builtin(namespace)
        assert cls is not None
        assert cls.get_all_configs(), namespace


def test_the_registry_hands_out_the_provider_classes() -> None:
    assert builtin.load_builtin("x86_64") is X8664Provider
    assert builtin.load_builtin("nvidia") is NvidiaProvider
    assert builtin.load_builtin("amd") is AmdProvider
    assert builtin.load_builtin("intel") is IntelProvider
    assert builtin.load_builtin("tpu") is TpuProvider


def test_a_namespace_without_a_module_is_not_available() -> None:
    # No built-in `ascend` provider exists yet; the registry lists it but skips it.
    assert "ascend" in builtin.BUILTINS
    assert builtin.load_builtin("ascend") is None
    assert "ascend" not in builtin.available_namespaces()
    assert builtin.all_configs("ascend") is None


def test_all_configs_of_nvidia_has_the_plugin_sizes() -> None:
    # detection.md 3.1: each bound 110 values (majors 11-15, minors 20..0 and the bare major),
    # sm_arch 160 values (12.9 .. 5.0, real and virtual), multi-valued.
    lower, upper, sm = builtin.all_configs("nvidia") or []
    assert (len(lower.values), len(upper.values), len(sm.values)) == (110, 110, 160)
    assert sm.multi_value and not lower.multi_value


def test_all_configs_of_the_tpu_namespace_are_the_generations() -> None:
    (generation,) = TpuProvider.get_all_configs()
    assert generation.values == ("tpu7x", "v6e", "v5p", "v5e", "v4", "v3", "v2")


@pytest.mark.skipif(sys.platform != "linux", reason="a recorded Linux tree stands in for the host")
def test_cpu_only_detection_imports_no_heavy_module(tmp_path: Path) -> None:
    """With the CPU match cached, a CPU-only host needs neither packaging, archspec nor ctypes."""
    (tmp_path / "proc").mkdir()
    (tmp_path / "proc" / "cpuinfo").write_bytes((CPUINFO / "linux-rhel7-haswell").read_bytes())
    heavy = ("packaging", "archspec", "ctypes", "logging", "subprocess", "json", "threading")
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from wheelnext_jupyter.detection import detect\n"
        f"d = detect(root=Path({str(tmp_path)!r}), environ={{}})\n"
        "d.supported\n"
        "d.host_json()\n"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({heavy!r})))\n"
    )

    def run() -> str:
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        return done.stdout.strip()

    run()  # fills the CPU match cache
    assert run() == "[]"
