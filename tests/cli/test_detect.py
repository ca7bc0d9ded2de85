"""`wheelnext-jupyter detect`: hardware summary, target profiles, and profiles feeding `explain`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from wheelnext_jupyter.detection import clear_cache
from wheelnext_jupyter.host.target_cache import CACHE_DIR_VARIABLE
from wheelnext_jupyter.providers.profile import load_profile, load_uv_lock, profile_from_json

DATA = Path(__file__).parent.parent / "data" / "variants-json" / "v0.0.3"
TORCH = DATA / "torch-2.9.0-variants.json"

#: The real nvidia plugin's override variables: a CUDA 12.9 driver and an Ampere (8.6) GPU.
AMPERE_CUDA_12_9 = {
    "NV_VARIANT_PROVIDER_FORCE_CUDA_DRIVER_VERSION": "12.9",
    "NV_VARIANT_PROVIDER_FORCE_SM_ARCH": "8.6",
}


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    import os

    environ = {k: v for k, v in os.environ.items() if not k.startswith(("NV_", "WHEELNEXT_"))}
    environ[CACHE_DIR_VARIABLE] = os.environ[CACHE_DIR_VARIABLE]
    environ.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "wheelnext_jupyter", *args],
        capture_output=True,
        text=True,
        env=environ,
        check=False,
    )


@pytest.fixture(autouse=True)
def fresh_detection(tmp_path_factory, monkeypatch):
    # The CPU match cache goes to a private directory, not the user's.
    monkeypatch.setenv(CACHE_DIR_VARIABLE, str(tmp_path_factory.mktemp("cache")))
    clear_cache()
    yield
    clear_cache()


def test_json_output_is_a_valid_target_profile_with_host_facts():
    done = run_cli("detect", "--json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    profile = profile_from_json(doc, source="detect --json")
    assert doc["format"] == "wheelnext-profile/1"
    assert "cpu" in profile.host
    assert (
        profile.host["markers"]["python_version"] == f"{sys.version_info[0]}.{sys.version_info[1]}"
    )


def test_summary_names_the_cpu_and_every_namespace():
    done = run_cli("detect")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("CPU:")
    for ns in ("x86_64", "aarch64", "nvidia", "amd", "intel", "tpu"):
        assert f"  {ns}:" in done.stdout


def test_plugin_override_variables_reach_the_profile(tmp_path):
    target = tmp_path / "ampere.json"
    done = run_cli("detect", "--save-profile", str(target), env=AMPERE_CUDA_12_9)
    assert done.returncode == 0, done.stderr
    nvidia = {f.name: f for f in load_profile(target).providers["nvidia"]}
    assert nvidia["cuda_version_lower_bound"].values[:2] == ("12.9", "12.8")
    assert nvidia["sm_arch"].values[0] == "86_real"
    assert nvidia["sm_arch"].multi_value is True


def test_saved_profile_drives_explain_end_to_end(tmp_path):
    target = tmp_path / "ampere.json"
    assert run_cli("detect", "--save-profile", str(target), env=AMPERE_CUDA_12_9).returncode == 0
    # Explained later, elsewhere, without the override variables: the profile alone decides.
    done = run_cli("explain", "--variants-json", str(TORCH), "--profile", str(target), "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["order"] == ["cuda12.8", "cuda12.6", "null"]


def test_uv_lock_output_carries_the_same_properties(tmp_path):
    uv_file = tmp_path / "variants.toml"
    done = run_cli("detect", "--uv-lock", str(uv_file), env=AMPERE_CUDA_12_9)
    assert done.returncode == 0, done.stderr
    nvidia = {f.name: f.values for f in load_uv_lock(uv_file).providers["nvidia"]}
    assert nvidia["sm_arch"][0] == "86_real"
    done = run_cli("explain", "--variants-json", str(TORCH), "--profile", str(uv_file), "--json")
    assert json.loads(done.stdout)["order"] == ["cuda12.8", "cuda12.6", "null"]


def test_profile_option_converts_without_detecting(tmp_path):
    source = tmp_path / "p.json"
    source.write_text(
        json.dumps(
            {
                "format": "wheelnext-profile/1",
                "providers": {"tpu": [{"name": "generation", "values": ["v5e"]}]},
                "host": {},
            }
        )
    )
    done = run_cli("detect", "--profile", str(source), "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["providers"] == {
        "tpu": [{"name": "generation", "values": ["v5e"], "multi_value": False}]
    }


def test_bad_override_is_one_error_line_with_status_2():
    done = run_cli("detect", env={"WHEELNEXT_VARIANTS_NVIDIA": "no equals sign"})
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1
    assert "WHEELNEXT_VARIANTS_NVIDIA" in done.stderr


def test_unwritable_profile_path_is_reported(tmp_path):
    done = run_cli("detect", "--save-profile", str(tmp_path / "missing" / "p.json"))
    assert done.returncode == 2
    assert "cannot write" in done.stderr
