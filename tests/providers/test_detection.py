"""detect(): profiles skip detection, the process cache, laziness, JSON and the summary."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from wheelnext_jupyter import detection
from wheelnext_jupyter.detection import detect, render_summary
from wheelnext_jupyter.providers.profile import (
    TargetProfile,
    profile_from_json,
    save_profile,
    save_uv_lock,
)
from wheelnext_jupyter.variants.properties import VariantFeatureConfig

H100_PROFILE = TargetProfile(
    providers={
        "nvidia": (
            VariantFeatureConfig("cuda_version_lower_bound", ("12.4", "12.3")),
            VariantFeatureConfig("sm_arch", ("90_real", "90_virtual"), multi_value=True),
        )
    },
    host={
        "nvidia": {
            "driver_version": "550.144.03",
            "cuda_driver_version": "12.4",
            "gpus": [
                {
                    "name": "NVIDIA H100 80GB HBM3",
                    "compute_capability": "9.0",
                    "memory_total_bytes": 85520809984,
                }
            ],
        }
    },
)


@pytest.fixture
def detector_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records which detectors run (the real detectors still run)."""
    calls: list[str] = []
    real = detection.load_detector

    def counting(kind: str) -> Callable[..., Any] | None:
        func = real(kind)
        if func is None:
            return None

        @functools.wraps(func)
        def wrapper(**kwargs: Any) -> Any:
            calls.append(kind)
            return func(**kwargs)

        return wrapper

    monkeypatch.setattr(detection, "load_detector", counting)
    return calls


@pytest.fixture
def no_detector_may_run(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    attempts: list[str] = []

    def forbidden(kind: str) -> None:
        attempts.append(kind)
        raise AssertionError(f"detector {kind} looked up")

    monkeypatch.setattr(detection, "load_detector", forbidden)
    return attempts


def test_profile_answers_without_running_any_detector(
    no_detector_may_run: list[str], haswell_root: Path
) -> None:
    found = detect(profile=H100_PROFILE, root=haswell_root)
    assert found.supported == dict(H100_PROFILE.providers)
    assert found.result("x86_64").configs == ()
    found.to_json()
    render_summary(found)
    assert found.host_info("cpu") is None
    assert no_detector_may_run == []


def test_profile_file_path_is_loaded_and_marked_as_profile(
    no_detector_may_run: list[str], tmp_path: Path
) -> None:
    path = tmp_path / "target.json"
    save_profile(H100_PROFILE, path)
    found = detect(profile=str(path))
    assert found.provenance == {"nvidia": "profile"}
    assert found.result("nvidia").source == f"profile {path}"
    assert no_detector_may_run == []


def test_uv_variant_file_is_accepted_as_profile(
    no_detector_may_run: list[str], tmp_path: Path
) -> None:
    path = tmp_path / "variants.toml"
    save_uv_lock(H100_PROFILE, path)
    assert detect(profile=path).supported == dict(H100_PROFILE.providers)
    assert no_detector_may_run == []


def test_detect_probes_nothing_until_asked(detector_calls: list[str], haswell_root: Path) -> None:
    found = detect(environ={}, root=haswell_root)
    assert detector_calls == []
    found.result("x86_64")
    assert detector_calls == ["cpu"]


def test_recorded_haswell_supports_levels_v3_to_v1(haswell_root: Path) -> None:
    result = detect(environ={}, root=haswell_root).result("x86_64")
    assert result.provenance == "detected"
    assert result.configs[0] == VariantFeatureConfig("level", ("v3", "v2", "v1"))


def test_same_overrides_and_root_reuse_the_detection(
    detector_calls: list[str], haswell_root: Path
) -> None:
    first = detect(environ={"HOME": "/a"}, root=haswell_root)
    assert first.supported
    second = detect(environ={"HOME": "/b"}, root=haswell_root)
    assert second.supported
    assert second is first
    assert detector_calls.count("cpu") == 1


def test_changed_override_variable_detects_again(haswell_root: Path) -> None:
    first = detect(environ={}, root=haswell_root)
    second = detect(environ={"WHEELNEXT_VARIANTS_X86_64": "level=v1"}, root=haswell_root)
    assert second is not first
    assert second.result("x86_64").configs == (VariantFeatureConfig("level", ("v1",)),)
    assert first.result("x86_64").configs[0].values == ("v3", "v2", "v1")


def test_changed_plugin_variable_detects_again(haswell_root: Path) -> None:
    first = detect(environ={}, root=haswell_root)
    second = detect(environ={"NV_VARIANT_PROVIDER_FORCE_SM_ARCH": "8.0"}, root=haswell_root)
    assert second is not first


def test_other_root_is_another_detection(haswell_root: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    assert detect(environ={}, root=haswell_root) is not detect(environ={}, root=other)


def test_refresh_runs_detection_again(detector_calls: list[str], haswell_root: Path) -> None:
    first = detect(environ={}, root=haswell_root)
    assert first.supported
    second = detect(environ={}, root=haswell_root, refresh=True)
    assert second.supported
    assert second is not first
    assert detector_calls.count("cpu") == 2
    assert detect(environ={}, root=haswell_root) is second


def test_to_json_is_a_profile_document_with_provenance(haswell_root: Path) -> None:
    found = detect(environ={"WHEELNEXT_VARIANTS_DISABLE": "nvidia"}, root=haswell_root)
    doc = found.to_json()
    assert doc["format"] == "wheelnext-profile/1"
    assert profile_from_json(doc).providers == found.supported
    assert doc["provenance"]["x86_64"] == "detected"
    assert doc["provenance"]["nvidia"] == "disabled"
    assert "nvidia" not in doc["providers"]


def test_to_profile_reproduces_the_detection(haswell_root: Path) -> None:
    found = detect(environ={}, root=haswell_root)
    again = detect(profile=found.to_profile())
    assert again.supported == found.supported


def test_failing_detector_is_reported_not_raised(
    monkeypatch: pytest.MonkeyPatch, haswell_root: Path
) -> None:
    def broken(*, root: Path) -> None:
        raise RuntimeError("cannot parse")

    monkeypatch.setattr(detection, "load_detector", lambda kind: broken if kind == "cpu" else None)
    found = detect(environ={}, root=haswell_root)
    result = found.result("x86_64")
    assert result.configs == ()
    assert any("RuntimeError: cannot parse" in note for note in result.deviations)
    assert found.host_json()["errors"] == {"cpu": "RuntimeError: cannot parse"}


def test_summary_names_cpu_level_and_namespaces(haswell_root: Path) -> None:
    text = render_summary(detect(environ={}, root=haswell_root))
    assert "x86-64-v3" in text.splitlines()[0]
    assert "  x86_64: level=v3,v2,v1; features:" in text


def test_summary_of_a_profile_shows_its_gpu() -> None:
    text = render_summary(detect(profile=H100_PROFILE))
    assert (
        "GPU (nvidia): NVIDIA H100 80GB HBM3, 80 GiB, CC 9.0; driver 550.144.03, CUDA 12.4"
        in text.splitlines()
    )
    namespace_line = next(line for line in text.splitlines() if line.startswith("  nvidia:"))
    assert namespace_line.startswith(
        "  nvidia: cuda_version_lower_bound=12.4,12.3; sm_arch=90_real,90_virtual  [profile"
    )
