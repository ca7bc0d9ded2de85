"""Our override variables: WHEELNEXT_VARIANTS_DISABLE and WHEELNEXT_VARIANTS_<NAMESPACE>."""

from __future__ import annotations

from pathlib import Path

import pytest

from wheelnext_jupyter.detection import detect
from wheelnext_jupyter.providers.overrides import OverrideError, read_overrides
from wheelnext_jupyter.variants.properties import VariantFeatureConfig as Config


def test_namespace_variable_gives_features_and_values_in_written_order() -> None:
    found = read_overrides({"WHEELNEXT_VARIANTS_X86_64": " level = v2 , v1 ; avx2=on "})
    override = found.for_namespace("x86_64")
    assert override is not None
    assert override.configs == (Config("level", ("v2", "v1")), Config("avx2", ("on",)))
    assert override.variable == "WHEELNEXT_VARIANTS_X86_64"


def test_star_marks_a_multi_value_feature() -> None:
    found = read_overrides({"WHEELNEXT_VARIANTS_MY_HW": "arch*=b,a"})
    assert found.for_namespace("my_hw").configs == (Config("arch", ("b", "a"), True),)  # type: ignore[union-attr]


def test_override_replaces_detection(haswell_root: Path) -> None:
    result = detect(environ={"WHEELNEXT_VARIANTS_X86_64": "level=v2,v1"}, root=haswell_root).result(
        "x86_64"
    )
    assert result.configs == (Config("level", ("v2", "v1")),)
    assert (result.provenance, result.source) == ("env override", "WHEELNEXT_VARIANTS_X86_64")


def test_empty_override_makes_the_namespace_unsupported(haswell_root: Path) -> None:
    found = detect(environ={"WHEELNEXT_VARIANTS_X86_64": ""}, root=haswell_root)
    assert found.result("x86_64").provenance == "env override"
    assert "x86_64" not in found.supported


def test_override_takes_multi_value_from_the_builtin_provider(haswell_root: Path) -> None:
    # The nvidia plugin declares sm_arch multi-value (nvidia-variant-provider 0.0.2).
    found = detect(
        environ={"WHEELNEXT_VARIANTS_NVIDIA": "sm_arch=90_real,90_virtual"}, root=haswell_root
    )
    assert found.supported["nvidia"] == (Config("sm_arch", ("90_real", "90_virtual"), True),)


def test_override_adds_a_namespace_without_builtin_provider(haswell_root: Path) -> None:
    found = detect(
        environ={"WHEELNEXT_VARIANTS_BLAS_LAPACK": "provider=openblas"}, root=haswell_root
    )
    assert found.supported["blas_lapack"] == (Config("provider", ("openblas",)),)


def test_disable_lists_namespaces_as_disabled_and_unsupported(haswell_root: Path) -> None:
    found = detect(environ={"WHEELNEXT_VARIANTS_DISABLE": "nvidia, x86_64"}, root=haswell_root)
    assert found.provenance["x86_64"] == "disabled"
    assert found.provenance["nvidia"] == "disabled"
    assert "x86_64" not in found.supported


def test_disable_wins_over_a_namespace_override(haswell_root: Path) -> None:
    environ = {"WHEELNEXT_VARIANTS_DISABLE": "x86_64", "WHEELNEXT_VARIANTS_X86_64": "level=v1"}
    assert detect(environ=environ, root=haswell_root).result("x86_64").provenance == "disabled"


def test_plugin_force_variables_take_precedence_over_ours(haswell_root: Path) -> None:
    environ = {
        "NV_VARIANT_PROVIDER_FORCE_CUDA_DRIVER_VERSION": "12.8",
        "NV_VARIANT_PROVIDER_FORCE_SM_ARCH": "9.0",
        "WHEELNEXT_VARIANTS_NVIDIA": "sm_arch=80_real",
    }
    result = detect(environ=environ, root=haswell_root).result("nvidia")
    assert result.provenance == "env override"
    assert "NV_VARIANT_PROVIDER_FORCE_SM_ARCH" in result.source
    # CC 9.0 ⇒ 90_real, 90_virtual (detection.md §3.1).
    assert Config("sm_arch", ("90_real", "90_virtual"), True) in result.configs
    assert any("WHEELNEXT_VARIANTS_NVIDIA ignored" in note for note in result.deviations)


@pytest.mark.parametrize(
    ("value", "complaint"),
    [
        ("level", "is not 'feature=value1,value2'"),
        ("level=", "has no values"),
        ("level=v1;level=v2", "given twice"),
        ("level=V3", "invalid variant value"),
        ("Level=v3", "invalid variant feature"),
    ],
)
def test_malformed_override_names_the_variable(value: str, complaint: str) -> None:
    with pytest.raises(OverrideError, match="WHEELNEXT_VARIANTS_X86_64") as info:
        read_overrides({"WHEELNEXT_VARIANTS_X86_64": value})
    assert complaint in str(info.value)


def test_malformed_disable_list_is_refused() -> None:
    with pytest.raises(OverrideError, match="WHEELNEXT_VARIANTS_DISABLE"):
        read_overrides({"WHEELNEXT_VARIANTS_DISABLE": "nv-idia"})
