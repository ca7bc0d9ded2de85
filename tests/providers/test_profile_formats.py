"""Target profiles as JSON and as uv's static variant file (`UV_VARIANT_LOCK`)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from wheelnext_jupyter.providers.profile import (
    ProfileError,
    TargetProfile,
    UvPlugin,
    load_profile,
    load_uv_lock,
    profile_from_uv_lock,
    profile_to_uv_lock,
    save_profile,
    save_uv_lock,
)
from wheelnext_jupyter.variants.properties import VariantFeatureConfig as Config

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

PROFILE = TargetProfile(
    providers={
        "nvidia": (
            Config("cuda_version_lower_bound", ("12.8", "12.7", "12")),
            Config("sm_arch", ("90_real", "90_virtual"), multi_value=True),
        ),
        "x86_64": (Config("level", ("v3", "v2", "v1")), Config("avx2", ("on",))),
        "tpu": (Config("generation", ("v5e",)),),
    },
    host={"cpu": {"model_name": "AMD EPYC"}},
)

HAND_WRITTEN_UV_FILE = """\
[metadata]
created-by = "uv"
version = "0.1"

[[provider]]
resolved = ["nvidia-variant-provider==0.0.2"]
plugin-api = "nvidia_variant_provider.plugin:NvidiaVariantPlugin"
namespace = "nvidia"

[provider.properties]
cuda_version_lower_bound = ["12.9", "12.8", "12"]
sm_arch = ["86_real", "85_real", "80_real", "80_virtual"]

[[provider]]
resolved = ["provider-variant-x86-64==0.0.1.post2"]
namespace = "x86_64"

[provider.properties]
level = ["v2", "v1"]
"""


def test_json_profile_round_trips_order_and_multi_value(tmp_path: Path) -> None:
    path = tmp_path / "profile.json"
    save_profile(PROFILE, path)
    loaded = load_profile(path)
    assert loaded.providers == PROFILE.providers
    assert list(loaded.providers["x86_64"]) == list(PROFILE.providers["x86_64"])
    assert loaded.host == PROFILE.host


def test_uv_file_round_trips_namespaces_features_values_and_multi_value(tmp_path: Path) -> None:
    path = tmp_path / "variants.toml"
    save_uv_lock(PROFILE, path)
    assert load_uv_lock(path).providers == PROFILE.providers


def test_uv_file_has_uvs_structure() -> None:
    data = tomllib.loads(profile_to_uv_lock(PROFILE, created_by="test"))
    assert data["metadata"] == {"created-by": "test", "version": "0.1"}
    nvidia = data["provider"][0]
    assert nvidia["namespace"] == "nvidia"
    assert nvidia["resolved"] == ["nvidia-variant-provider==0.0.2"]
    assert nvidia["plugin-api"] == "nvidia_variant_provider.plugin:NvidiaVariantPlugin"
    assert list(nvidia["properties"]) == ["cuda_version_lower_bound", "sm_arch"]
    assert nvidia["properties"]["sm_arch"] == ["90_real", "90_virtual"]


def test_uv_file_namespace_without_a_plugin_has_empty_resolved_and_no_plugin_api() -> None:
    data = tomllib.loads(profile_to_uv_lock(PROFILE))
    tpu = next(p for p in data["provider"] if p["namespace"] == "tpu")
    assert tpu["resolved"] == []
    assert "plugin-api" not in tpu


def test_uv_file_uses_the_plugins_given_by_the_caller() -> None:
    plugins = {"tpu": UvPlugin(("my-tpu-provider==1.0",), "my_tpu_provider:Plugin")}
    data = tomllib.loads(profile_to_uv_lock(PROFILE, plugins=plugins))
    tpu = next(p for p in data["provider"] if p["namespace"] == "tpu")
    assert (tpu["resolved"], tpu["plugin-api"]) == (
        ["my-tpu-provider==1.0"],
        "my_tpu_provider:Plugin",
    )


def test_hand_written_uv_file_is_read_in_order() -> None:
    profile = profile_from_uv_lock(HAND_WRITTEN_UV_FILE)
    assert list(profile.providers) == ["nvidia", "x86_64"]
    assert profile.providers["nvidia"][0] == Config(
        "cuda_version_lower_bound", ("12.9", "12.8", "12")
    )
    assert profile.providers["x86_64"] == (Config("level", ("v2", "v1")),)


def test_uv_file_without_multi_value_takes_it_from_the_builtin_provider() -> None:
    sm_arch = profile_from_uv_lock(HAND_WRITTEN_UV_FILE).providers["nvidia"][1]
    assert sm_arch.name == "sm_arch"
    assert sm_arch.multi_value is True  # nvidia-variant-provider 0.0.2 declares it


def test_strings_are_escaped_in_the_uv_file() -> None:
    text = profile_to_uv_lock(PROFILE, created_by='tool "quoted" \\ path')
    assert tomllib.loads(text)["metadata"]["created-by"] == 'tool "quoted" \\ path'


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("[metadata]\ncreated-by='x'\nversion='2.0'\n", "version '2.0' is not supported"),
        ("[[provider]]\nnamespace='a'\n", "missing [metadata]"),
        ("not toml [", "not valid TOML"),
        (
            "[metadata]\nversion='0.1'\n[[provider]]\nnamespace='a'\n[[provider]]\nnamespace='a'\n",
            "appears twice",
        ),
        (
            "[metadata]\nversion='0.1'\n[[provider]]\nnamespace='a'\n[provider.properties]\nf='x'\n",
            "must be a list of strings",
        ),
        ("[metadata]\nversion='0.1'\n[[provider]]\nnamespace='A'\n", "invalid variant namespace"),
    ],
)
def test_bad_uv_file_is_refused_with_the_reason(text: str, complaint: str) -> None:
    with pytest.raises(ProfileError, match=r"lock\.toml") as info:
        profile_from_uv_lock(text, source="lock.toml")
    assert complaint in str(info.value)
