"""Registry of the built-in providers: native stand-ins for the common provider plugins.

Each lives in `providers/builtin/<namespace>.py` and defines the class `BuiltinSpec.class_name`
names, with `namespace`, `plugin_apis` (the `plugin-api` strings of the real plugins it stands in
for), the classmethods `get_all_configs()` (constant per plugin version, as in the real 0.0.2
plugins) and `from_host(info, environ)`, where `info` is what the host detector named in `BUILTINS`
returns, and the method `get_supported_configs()`. A namespace whose module is not there is
skipped, so the registry works while providers are added one at a time.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping

from wheelnext_jupyter.record import Record
from wheelnext_jupyter.variants.properties import VariantFeatureConfig

# `typing` is left out of the import path of detection on purpose (it costs milliseconds in a
# fresh interpreter); mypy treats this name as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Protocol

    class BuiltinProvider(Protocol):
        namespace: str

        def get_all_configs(self) -> list[VariantFeatureConfig]: ...

        def get_supported_configs(self) -> list[VariantFeatureConfig]: ...

    class BuiltinProviderClass(Protocol):
        """What the registry hands out: the provider class itself."""

        namespace: str
        plugin_apis: tuple[str, ...]

        def from_host(self, info: Any, environ: Mapping[str, str]) -> BuiltinProvider: ...

        def get_all_configs(self) -> list[VariantFeatureConfig]: ...


class BuiltinSpec(Record):
    """Where a namespace's built-in provider lives and what it depends on."""

    namespace: str
    #: The host detector kind whose answer `from_host` takes (`host/<kind>.py`, `detect_<kind>`).
    host_kind: str
    #: The real plugin's own override variables (detection.md §4); they take precedence over our
    #: generic per-namespace override and are part of the cache key.
    plugin_variables: tuple[str, ...] = ()
    #: The real plugin this stands in for, as uv's static file names it (`name==version`).
    reference_plugin: str | None = None
    #: That plugin's `plugin-api` string.
    reference_plugin_api: str | None = None
    #: The provider class in the namespace's module.
    class_name: str = ""

    @property
    def module(self) -> str:
        return f"{__name__}.{self.namespace}"


BUILTINS: dict[str, BuiltinSpec] = {
    spec.namespace: spec
    for spec in (
        BuiltinSpec(
            "x86_64",
            "cpu",
            (),
            "provider-variant-x86-64==0.0.1.post2",
            "provider_variant_x86_64.plugin:X8664Plugin",
            class_name="X8664Provider",
        ),
        BuiltinSpec(
            "aarch64",
            "cpu",
            (),
            "provider-variant-aarch64==0.0.3",
            "provider_variant_aarch64.plugin:AArch64Plugin",
            class_name="AArch64Provider",
        ),
        BuiltinSpec(
            "nvidia",
            "nvidia",
            ("NV_VARIANT_PROVIDER_FORCE_CUDA_DRIVER_VERSION", "NV_VARIANT_PROVIDER_FORCE_SM_ARCH"),
            "nvidia-variant-provider==0.0.2",
            "nvidia_variant_provider.plugin:NvidiaVariantPlugin",
            class_name="NvidiaProvider",
        ),
        BuiltinSpec(
            "amd",
            "amd",
            (
                "AMD_VARIANT_PROVIDER_FORCE_GFX_ARCH",
                "AMD_VARIANT_PROVIDER_FORCE_ROCM_VERSION",
                # Names read by revisions before Oct 2025.
                "AMD_VARIANT_PROVIDER_GFX_ARCH",
                "AMD_VARIANT_PROVIDER_ROCM_VERSION",
            ),
            "amd-variant-provider==0.0.2",
            "amd_variant_provider.plugin:AMDVariantPlugin",
            class_name="AmdProvider",
        ),
        BuiltinSpec(
            "intel",
            "intel",
            ("INTEL_VARIANT_PROVIDER_FORCE_DEVICE_IP",),
            "intel-variant-provider==0.0.3",
            "intel_variant_provider.plugin:IntelVariantPlugin",
            class_name="IntelProvider",
        ),
        BuiltinSpec(
            "ascend",
            "ascend",
            (
                "ASCEND_VARIANT_PROVIDER_FORCE_NPU_TYPE",
                "ASCEND_VARIANT_PROVIDER_FORCE_DRIVER_VERSION",
                "ASCEND_VARIANT_PROVIDER_FORCE_CANN_VERSION",
            ),
            "huawei-ascend-variant-provider==0.0.2",
            "huawei_ascend_variant_provider.plugin:AscendVariantPlugin",
            class_name="AscendProvider",
        ),
        # No plugin exists for TPUs: our own namespace.
        BuiltinSpec("tpu", "tpu", class_name="TpuProvider"),
    )
}

#: Variables that change what detectors or providers answer, besides the plugins' own ones.
DETECTION_VARIABLES: tuple[str, ...] = (
    "AMD_PREFERRED_GFX_ARCHS",
    "ROCM_PATH",
    "ASCEND_TOOLKIT_HOME",
    "TPU_ACCELERATOR_TYPE",
    "COLAB_TPU_1VM",
    "PJRT_DEVICE",
)

_MISSING: dict[str, None] = {}
_LOADED: dict[str, BuiltinProviderClass] = {}


def plugin_variables() -> tuple[str, ...]:
    """Every plugin override variable of every built-in namespace."""
    return tuple(v for spec in BUILTINS.values() for v in spec.plugin_variables)


def load_builtin(namespace: str) -> BuiltinProviderClass | None:
    """The provider class of `namespace`, or None when there is no built-in for it (yet)."""
    if namespace in _LOADED:
        return _LOADED[namespace]
    spec = BUILTINS.get(namespace)
    if spec is None or namespace in _MISSING:
        return None
    try:
        module = importlib.import_module(spec.module)
    except ModuleNotFoundError as exc:
        if exc.name != spec.module:
            raise  # a real import error inside the provider must not be hidden
        _MISSING[namespace] = None
        return None
    cls: BuiltinProviderClass = getattr(module, spec.class_name)
    _LOADED[namespace] = cls
    return cls


def available_namespaces() -> tuple[str, ...]:
    """Namespaces whose built-in provider is present, in registry order."""
    return tuple(ns for ns in BUILTINS if load_builtin(ns) is not None)


def builtin_for_plugin_api(namespace: str, plugin_api: str | None) -> BuiltinProviderClass | None:
    """The built-in that stands in for the plugin a variant names, or None.

    A built-in is used only for the plugins it reimplements: a different `plugin-api` in the same
    namespace (e.g. the two Ascend plugins) is someone else's plugin, handled as external. Without a
    `plugin-api` the namespace alone decides.
    """
    cls = load_builtin(namespace)
    if cls is None:
        return None
    if plugin_api is None or plugin_api in getattr(cls, "plugin_apis", ()):
        return cls
    return None


def all_configs(namespace: str) -> list[VariantFeatureConfig] | None:
    """`get_all_configs()` of the built-in of `namespace`, without detecting anything."""
    cls = load_builtin(namespace)
    return None if cls is None else list(cls.get_all_configs())
