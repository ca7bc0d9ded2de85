"""`wheelnext-jupyter explain --variants-json FILE --profile FILE`: verdicts without installing."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
from pathlib import Path

import pytest

from wheelnext_jupyter.cli import main

DATA = Path(__file__).parent.parent / "data" / "variants-json"
TORCH = DATA / "v0.0.3" / "torch-2.9.0-variants.json"
NUMPY = DATA / "v0.0.3" / "numpy-2.3.4-variants.json"

LINUX_X86 = {"platform_system": "Linux", "platform_machine": "x86_64"}


def write_profile(tmp_path: Path, providers: dict, markers: dict | None = None) -> Path:
    path = tmp_path / "profile.json"
    doc = {
        "format": "wheelnext-profile/1",
        "providers": {
            ns: [
                {"name": name, "values": values, "multi_value": name == "sm_arch"}
                for name, values in features.items()
            ]
            for ns, features in providers.items()
        },
        "host": {"markers": markers or LINUX_X86},
    }
    path.write_text(json.dumps(doc))
    return path


CUDA_12_9_AMPERE = {
    "nvidia": {
        "cuda_version_lower_bound": ["12.9", "12.8", "12.0", "12"],
        "sm_arch": ["86_real", "85_real", "80_real", "80_virtual"],
    }
}


def explain_json(capsys, *args: str) -> dict:
    assert main(["explain", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_json_lists_compatible_labels_best_first_including_null(tmp_path, capsys):
    profile = write_profile(tmp_path, CUDA_12_9_AMPERE)
    doc = explain_json(capsys, "--variants-json", str(TORCH), "--profile", str(profile))
    assert doc["order"] == ["cuda12.8", "cuda12.6", "null"]


def test_json_has_a_verdict_with_properties_and_reasons_for_every_label(tmp_path, capsys):
    profile = write_profile(tmp_path, CUDA_12_9_AMPERE)
    doc = explain_json(capsys, "--variants-json", str(TORCH), "--profile", str(profile))
    by_label = {v["label"]: v for v in doc["variants"]}
    assert set(by_label) == {
        "cuda12.6",
        "cuda12.8",
        "cuda13.0",
        "null",
        "rocm6.3",
        "rocm6.4",
        "xpu",
    }
    for entry in doc["variants"]:
        assert set(entry) >= {"label", "compatible", "properties", "reasons"}
        assert entry["reasons"], entry["label"]
    assert by_label["cuda13.0"]["compatible"] is False
    assert "nvidia :: cuda_version_lower_bound :: 13.0" in by_label["cuda13.0"]["properties"]
    assert "13.0" in by_label["cuda13.0"]["reasons"][0]
    assert by_label["null"]["properties"] == []


def test_text_output_is_a_table_of_labels_verdicts_and_reasons(tmp_path, capsys):
    profile = write_profile(tmp_path, CUDA_12_9_AMPERE)
    assert main(["explain", "--variants-json", str(TORCH), "--profile", str(profile)]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert any(line.split()[:3] == ["1", "cuda12.8", "chosen"] for line in lines if line.strip())
    assert any(line.split()[:3] == ["-", "xpu", "incompatible"] for line in lines if line.strip())
    assert "Chosen: cuda12.8" in out
    assert "`intel` is not supported" in out


def test_numpy_on_an_x86_64_v4_profile_prefers_the_mkl_level_variant(tmp_path, capsys):
    profile = write_profile(tmp_path, {"x86_64": {"level": ["v4", "v3", "v2", "v1"]}})
    doc = explain_json(capsys, "--variants-json", str(NUMPY), "--profile", str(profile))
    assert doc["order"] == ["x8664v4_mkl", "accelerate", "openblas"]


def test_numpy_on_aarch64_turns_the_x86_64_namespace_off_by_enable_if(tmp_path, capsys):
    profile = write_profile(
        tmp_path,
        {"x86_64": {"level": ["v4"]}},
        markers={"platform_system": "Linux", "platform_machine": "aarch64"},
    )
    doc = explain_json(capsys, "--variants-json", str(NUMPY), "--profile", str(profile))
    assert doc["order"] == ["accelerate", "openblas"]


def test_exclude_variant_and_variant_and_prefer_options(tmp_path, capsys):
    profile = write_profile(tmp_path, CUDA_12_9_AMPERE)
    common = ["--variants-json", str(TORCH), "--profile", str(profile)]
    assert explain_json(capsys, *common, "--exclude-variant", "cuda12.8")["order"] == [
        "cuda12.6",
        "null",
    ]
    assert explain_json(capsys, *common, "--variant", "torch=cuda12.6")["order"] == ["cuda12.6"]
    assert explain_json(capsys, *common, "--prefer", "priority::order::3")["order"] == [
        "cuda12.6",
        "cuda12.8",
        "null",
    ]


def test_enable_provider_turns_on_an_optional_namespace(tmp_path, capsys):
    variants = tmp_path / "pkg-1.0-variants.json"
    variants.write_text(
        json.dumps(
            {
                "$schema": "https://variants-schema.wheelnext.dev/v0.0.3.json",
                "default-priorities": {"namespace": ["fancy"]},
                "providers": {"fancy": {"requires": ["fancy-provider"], "optional": True}},
                "variants": {"fast": {"fancy": {"speed": ["high"]}}, "null": {}},
            }
        )
    )
    profile = write_profile(tmp_path, {"fancy": {"speed": ["high"]}})
    common = ["--variants-json", str(variants), "--profile", str(profile)]
    off = explain_json(capsys, *common)
    assert off["order"] == ["null"]
    assert "--enable-provider fancy" in off["variants"][-1]["reasons"][0]
    assert explain_json(capsys, *common, "--enable-provider", "fancy")["order"] == ["fast", "null"]


@pytest.mark.parametrize(
    ("variants_text", "profile_text", "message"),
    [
        (None, "{}", "cannot read variants file"),
        ("{not json", None, "not valid JSON"),
        ("[1, 2]", None, "JSON object"),
        ("{}", '{"format": "other"}', "unknown profile format"),
        ("{}", "{bad", "not valid JSON"),
    ],
)
def test_bad_files_give_one_error_line_and_exit_status_2(
    tmp_path, capsys, variants_text, profile_text, message
):
    variants = tmp_path / "v.json"
    if variants_text is not None:
        variants.write_text(variants_text)
    profile = tmp_path / "p.json"
    profile.write_text(
        profile_text if profile_text is not None else '{"format": "wheelnext-profile/1"}'
    )
    status = main(["explain", "--variants-json", str(variants), "--profile", str(profile)])
    err = capsys.readouterr().err
    assert status == 2
    assert len(err.strip().splitlines()) == 1
    assert message.lower() in err.lower()


def test_bad_preference_is_a_usage_error(tmp_path, capsys):
    profile = write_profile(tmp_path, CUDA_12_9_AMPERE)
    status = main(
        ["explain", "--variants-json", str(TORCH), "--profile", str(profile), "--prefer", "A B"]
    )
    assert status == 2
    assert "NAMESPACE::FEATURE::VALUE" in capsys.readouterr().err


def test_runs_as_python_dash_m(tmp_path):
    profile = write_profile(tmp_path, CUDA_12_9_AMPERE)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "wheelnext_jupyter",
            "explain",
            "--variants-json",
            str(TORCH),
            "--profile",
            str(profile),
            "--json",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(done.stdout)["order"][0] == "cuda12.8"


def test_a_command_run_in_process_leaves_the_cycle_collector_on(tmp_path: Path) -> None:
    profile = write_profile(tmp_path, CUDA_12_9_AMPERE)
    assert main(["explain", "--variants-json", str(TORCH), "--profile", str(profile)]) == 0
    assert gc.isenabled()
    # Also when the command fails.
    assert main(["explain", "--variants-json", str(tmp_path / "missing.json")]) != 0
    assert gc.isenabled()
