"""The demo packages: which builds each one has, and the two indexes they are published on.

Pure data. Each package shows one case a real index has today:

- `wn-demo-accel`: CUDA builds for several CUDA versions and GPU architectures, a TPU build, and a
  null variant (the CPU build, chosen where no accelerator fits), like torch's variant index.
- `wn-demo-simd`: x86-64 level builds (v2, v3, v4) and a plain wheel as the fallback.
- `wn-demo-blas`: a BLAS library chosen ahead of time (static properties, no install-time plugin),
  like numpy's `blas_lapack` builds.
- `wn-demo-plot`: default extras (PEP 771): a plain install also brings `wn-demo-helper`.
- `wn-demo-internal`: a private package; the public index carries an impostor with the same name
  and a higher version, to show how index priority stops dependency confusion.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from wheelnext_jupyter.demo.wheel_writer import Properties

#: The `$schema` of the index-level files real variant indexes publish today.
SCHEMA_V0_0_3 = "https://variants-schema.wheelnext.dev/v0.0.3.json"

PRIVATE_INDEX = "private"
PUBLIC_INDEX = "public"

_NVIDIA_PROVIDER = {
    "enable-if": "platform_system == 'Linux' or platform_system == 'Windows'",
    "install-time": True,
    "plugin-api": "nvidia_variant_provider.plugin:NvidiaVariantPlugin",
    "requires": ["nvidia-variant-provider>=0.0.2,<1.0.0"],
}
# No provider plugin exists for TPUs; wheelnext-jupyter answers for the namespace itself.
_TPU_PROVIDER: dict[str, object] = {"install-time": True, "requires": []}
_X86_64_PROVIDER = {
    "enable-if": "platform_machine == 'x86_64' or platform_machine == 'AMD64'",
    "plugin-api": "provider_variant_x86_64.plugin:X8664Plugin",
    "requires": ["provider-variant-x86-64"],
}
_BLAS_PROVIDER = {"install-time": False, "requires": ["blas-lapack-variant-provider"]}


@dataclass(frozen=True)
class DemoVariant:
    label: str
    properties: Properties
    description: str


@dataclass(frozen=True)
class DemoPackage:
    name: str
    version: str
    summary: str
    #: Index names (PRIVATE_INDEX, PUBLIC_INDEX) this build is published on.
    indexes: tuple[str, ...] = (PRIVATE_INDEX,)
    variants: tuple[DemoVariant, ...] = ()
    #: Whether a plain (non-variant) wheel is published too, and what it says it is.
    plain_wheel: str | None = None
    namespaces: tuple[str, ...] = ()
    providers: Mapping[str, Mapping[str, object]] = field(default_factory=dict)
    static_properties: Properties = field(default_factory=dict)
    requires_dist: tuple[str, ...] = ()
    provides_extra: tuple[str, ...] = ()
    default_extra: tuple[str, ...] = ()

    def variants_document(self, labels: tuple[str, ...] | None = None) -> dict[str, object]:
        """The v0.0.3 metadata document for all variants, or only for `labels` (a wheel's own)."""
        chosen = [v for v in self.variants if labels is None or v.label in labels]
        return {
            "$schema": SCHEMA_V0_0_3,
            "default-priorities": {
                "feature": {},
                "namespace": list(self.namespaces),
                "property": {},
            },
            "providers": {ns: dict(info) for ns, info in self.providers.items()},
            "static-properties": {
                ns: {feature: list(values) for feature, values in features.items()}
                for ns, features in self.static_properties.items()
            },
            "variants": {
                v.label: {
                    ns: {feature: sorted(values) for feature, values in features.items()}
                    for ns, features in v.properties.items()
                }
                for v in chosen
            },
        }


_AMPERE_TO_HOPPER = ["80_real", "86_real", "89_real", "90_real"]

DEMO_PACKAGES: tuple[DemoPackage, ...] = (
    DemoPackage(
        name="wn-demo-accel",
        version="1.0.0",
        summary="Demo: CUDA, TPU and CPU builds of one package",
        namespaces=("nvidia", "tpu"),
        providers={"nvidia": _NVIDIA_PROVIDER, "tpu": _TPU_PROVIDER},
        variants=(
            DemoVariant(
                "cu126",
                {
                    "nvidia": {
                        "cuda_version_lower_bound": ["12.6"],
                        "sm_arch": ["70_real", "75_real", *_AMPERE_TO_HOPPER],
                    }
                },
                "CUDA 12.6 build for Volta to Hopper GPUs",
            ),
            DemoVariant(
                "cu129",
                {
                    "nvidia": {
                        "cuda_version_lower_bound": ["12.9"],
                        "sm_arch": ["75_real", *_AMPERE_TO_HOPPER, "100_real", "120_real"],
                    }
                },
                "CUDA 12.9 build for Turing to Blackwell GPUs",
            ),
            DemoVariant(
                "cu130",
                {
                    "nvidia": {
                        "cuda_version_lower_bound": ["13.0"],
                        "sm_arch": [*_AMPERE_TO_HOPPER, "100_real", "120_real", "120_virtual"],
                    }
                },
                "CUDA 13.0 build for Ampere to Blackwell GPUs",
            ),
            DemoVariant("tpu_v5e", {"tpu": {"generation": ["v5e"]}}, "TPU v5e build"),
            DemoVariant("null", {}, "CPU build (the null variant)"),
        ),
    ),
    DemoPackage(
        name="wn-demo-simd",
        version="1.0.0",
        summary="Demo: x86-64 microarchitecture level builds with a plain fallback",
        namespaces=("x86_64",),
        providers={"x86_64": _X86_64_PROVIDER},
        variants=(
            DemoVariant("x8664v2", {"x86_64": {"level": ["v2"]}}, "x86-64-v2 build (SSE4.2)"),
            DemoVariant("x8664v3", {"x86_64": {"level": ["v3"]}}, "x86-64-v3 build (AVX2)"),
            DemoVariant("x8664v4", {"x86_64": {"level": ["v4"]}}, "x86-64-v4 build (AVX-512)"),
        ),
        plain_wheel="portable build (plain wheel, any CPU)",
    ),
    DemoPackage(
        name="wn-demo-blas",
        version="1.0.0",
        summary="Demo: a BLAS library chosen ahead of time",
        namespaces=("blas_lapack",),
        providers={"blas_lapack": _BLAS_PROVIDER},
        static_properties={"blas_lapack": {"provider": ["openblas", "mkl"]}},
        variants=(
            DemoVariant("openblas", {"blas_lapack": {"provider": ["openblas"]}}, "OpenBLAS build"),
            DemoVariant("mkl", {"blas_lapack": {"provider": ["mkl"]}}, "MKL build"),
        ),
    ),
    DemoPackage(
        name="wn-demo-helper",
        version="1.0.0",
        summary="Demo: the dependency a default extra brings",
        plain_wheel="helper brought by wn-demo-plot's default extra",
    ),
    DemoPackage(
        name="wn-demo-plot",
        version="1.0.0",
        summary="Demo: a package with a default extra (PEP 771)",
        plain_wheel="plotting package; its default extra `recommended` adds wn-demo-helper",
        provides_extra=("recommended",),
        default_extra=("recommended",),
        requires_dist=('wn-demo-helper>=1.0; extra == "recommended"',),
    ),
    DemoPackage(
        name="wn-demo-internal",
        version="1.0.0",
        summary="Demo: a private package",
        plain_wheel="the genuine private package",
    ),
    DemoPackage(
        name="wn-demo-internal",
        version="99.0.0",
        summary="Demo: an impostor of a private package",
        indexes=(PUBLIC_INDEX,),
        plain_wheel="IMPOSTOR from the public index (dependency confusion)",
    ),
)


def cuda_ampere_profile() -> dict[str, object]:
    """The target profile of a remote machine: CUDA 12.9 driver, one Ampere GPU (compute 8.6),
    an x86-64-v3 CPU. Values best first, as `wheelnext-jupyter detect --save-profile` writes them.
    """
    lower = [f"12.{minor}" for minor in range(9, -1, -1)] + ["12"]
    lower += [f"11.{minor}" for minor in range(20, -1, -1)] + ["11"]
    upper_bound: list[str] = []
    for major in (15, 14, 13):
        upper_bound += [f"{major}.{minor}" for minor in range(20, -1, -1)] + [str(major)]
    upper_bound += [f"12.{minor}" for minor in range(20, 9, -1)]
    return {
        "format": "wheelnext-profile/1",
        "providers": {
            "nvidia": [
                {"name": "cuda_version_lower_bound", "values": lower, "multi_value": False},
                {"name": "cuda_version_upper_bound", "values": upper_bound, "multi_value": False},
                {
                    "name": "sm_arch",
                    "values": ["86_real", "80_real", "80_virtual"],
                    "multi_value": True,
                },
            ],
            "x86_64": [{"name": "level", "values": ["v3", "v2", "v1"], "multi_value": False}],
        },
        "host": {
            "description": "a remote Linux machine: CUDA 12.9 driver, one Ampere GPU (8.6)",
            "markers": {
                "platform_system": "Linux",
                "platform_machine": "x86_64",
                "sys_platform": "linux",
            },
        },
    }
