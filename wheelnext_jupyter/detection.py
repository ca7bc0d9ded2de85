"""`detect()`: this machine's (or a profile's) supported variant properties, per namespace.

Precedence for each namespace (detection.md §1): a target profile (no detection at all) >
`WHEELNEXT_VARIANTS_DISABLE` > the real plugin's own `*_FORCE_*` variables (applied by the built-in
provider) > our `WHEELNEXT_VARIANTS_<NS>` override > detection.

Detection is lazy: `detect()` itself probes nothing; a namespace's host detector runs the first time
that namespace (or the host facts) is asked for. Results live for the process (a kernel session),
keyed by the override variables and `root`.
"""

from __future__ import annotations

import _thread
import importlib
import os
import sys
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from wheelnext_jupyter.host.marker_environment import marker_environment, uname
from wheelnext_jupyter.providers import builtin
from wheelnext_jupyter.providers.overrides import (
    DISABLE_VARIABLE,
    PREFIX,
    Overrides,
    read_overrides,
)
from wheelnext_jupyter.record import Record
from wheelnext_jupyter.variants.properties import VariantFeatureConfig

# Only what every call needs is imported here: the first detection in a fresh kernel is meant to
# take milliseconds, and `typing`, `json`, `threading` and the profile reader each cost some.
TYPE_CHECKING = False  # mypy treats this name as true
if TYPE_CHECKING:
    from typing import Any, Literal

    from wheelnext_jupyter.providers.profile import TargetProfile

    Provenance = Literal["detected", "env override", "profile", "disabled"]

#: Host detector kinds, in the order the summary and JSON list them.
HOST_KINDS: tuple[str, ...] = (
    "cpu",
    "nvidia",
    "amd",
    "intel",
    "tpu",
    "ascend",
    *(("apple",) if sys.platform == "darwin" else ()),
    "hosting",
)

_CACHE_LIMIT = 16


class NamespaceResult(Record):
    """One namespace's supported configurations and where they came from."""

    namespace: str
    configs: tuple[VariantFeatureConfig, ...]
    provenance: Provenance
    #: What decided it: "built-in provider", a variable name, "profile FILE".
    source: str
    #: Differences from the real plugin's answer, or problems met, as the provider reported them.
    deviations: tuple[str, ...] = ()

    @property
    def supported(self) -> bool:
        return bool(self.configs)

    def to_json(self) -> dict[str, Any]:
        return {
            "provenance": self.provenance,
            "source": self.source,
            "features": [
                {"name": f.name, "values": list(f.values), "multi_value": f.multi_value}
                for f in self.configs
            ],
            "deviations": list(self.deviations),
        }


def load_detector(kind: str) -> Callable[..., Any] | None:
    """`host.<kind>.detect_<kind>`, or None while that detector does not exist."""
    module_name = f"wheelnext_jupyter.host.{kind}"
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            raise
        return None
    func = getattr(module, f"detect_{kind}", None)
    return func if callable(func) else None


def _call_detector(func: Callable[..., Any], root: Path, environ: Mapping[str, str]) -> Any:
    # Detectors take the subset of (root, environ) they need; read from the code object because
    # importing `inspect` would cost more than all of detection.
    code = getattr(getattr(func, "__wrapped__", func), "__code__", None)
    if code is None:
        return func(root=root, environ=environ)
    names = code.co_varnames[: code.co_argcount + code.co_kwonlyargcount]
    kwargs: dict[str, Any] = {}
    if "root" in names:
        kwargs["root"] = root
    if "environ" in names:
        kwargs["environ"] = environ
    return func(**kwargs)


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


class Detection:
    """Host facts and supported configurations, computed on first use and then kept."""

    def __init__(
        self,
        *,
        root: Path = Path("/"),
        environ: Mapping[str, str] | None = None,
        profile: TargetProfile | None = None,
        profile_source: str | None = None,
    ) -> None:
        self.root = root
        self.environ: Mapping[str, str] = dict(os.environ if environ is None else environ)
        self.profile = profile
        self.profile_source = profile_source
        self._lock = _thread.RLock()
        self._host: dict[str, Any] = {}
        self._host_errors: dict[str, str] = {}
        self._results: dict[str, NamespaceResult] = {}
        self._overrides: Overrides | None = None

    # -- host facts -------------------------------------------------------------------------

    def host_info(self, kind: str) -> Any | None:
        """The `*Info` of one detector (running it once), or None (no detector, profile, failure)."""
        if self.profile is not None:
            return None
        with self._lock:
            if kind in self._host:
                return self._host[kind]
            info: Any = None
            func = load_detector(kind)
            if func is not None:
                try:
                    info = _call_detector(func, self.root, self.environ)
                except Exception as exc:  # a detector bug must not stop an install
                    self._host_errors[kind] = _describe(exc)
            self._host[kind] = info
            return info

    @property
    def cpu(self) -> Any | None:
        return self.host_info("cpu")

    @property
    def gpus(self) -> dict[str, Any]:
        """GPU facts per vendor that has a detector."""
        return {
            kind: info
            for kind in ("nvidia", "amd", "intel")
            if (info := self.host_info(kind)) is not None
        }

    @property
    def tpu(self) -> Any | None:
        return self.host_info("tpu")

    @property
    def hosting(self) -> Any | None:
        return self.host_info("hosting")

    def host_json(self) -> dict[str, Any]:
        """Host facts as JSON (from the profile when there is one)."""
        if self.profile is not None:
            return dict(self.profile.host)
        system, _, _, machine = uname()
        out: dict[str, Any] = {
            "platform": {
                "system": system,
                "machine": machine,
                "python": ".".join(map(str, sys.version_info[:3])),
                "implementation": sys.implementation.name,
            },
            # The target's marker environment, so that `enable-if` conditions are evaluated for
            # this machine when the profile is used elsewhere.
            "markers": target_markers(),
        }
        for kind in HOST_KINDS:
            info = self.host_info(kind)
            if info is not None:
                to_json = getattr(info, "to_json", None)
                out[kind] = to_json() if callable(to_json) else repr(info)
        if self._host_errors:
            out["errors"] = dict(self._host_errors)
        return out

    # -- namespaces -------------------------------------------------------------------------

    @property
    def overrides(self) -> Overrides:
        if self._overrides is None:
            self._overrides = read_overrides(self.environ, multi_value_of=_builtin_multi_value)
        return self._overrides

    @property
    def namespaces(self) -> tuple[str, ...]:
        """Every namespace this detection has an answer for (supported or not)."""
        if self.profile is not None:
            return tuple(self.profile.providers)
        names = dict.fromkeys(builtin.available_namespaces())
        names.update(dict.fromkeys((self.overrides.namespaces or {}).keys()))
        names.update(dict.fromkeys(sorted(self.overrides.disabled)))
        return tuple(names)

    def result(self, namespace: str) -> NamespaceResult:
        """The answer for one namespace; runs only the detector that namespace needs."""
        with self._lock:
            if namespace not in self._results:
                self._results[namespace] = self._compute(namespace)
            return self._results[namespace]

    def results(self, namespaces: Iterable[str] | None = None) -> dict[str, NamespaceResult]:
        names = self.namespaces if namespaces is None else tuple(namespaces)
        return {ns: self.result(ns) for ns in names}

    @property
    def supported(self) -> dict[str, tuple[VariantFeatureConfig, ...]]:
        """`SupportedConfigs`: supported namespaces only, features in preference order."""
        return {ns: r.configs for ns, r in self.results().items() if r.supported}

    def supported_for(
        self, namespaces: Iterable[str]
    ) -> dict[str, tuple[VariantFeatureConfig, ...]]:
        """Like `supported`, probing only the namespaces a package uses."""
        return {ns: r.configs for ns, r in self.results(namespaces).items() if r.supported}

    @property
    def provenance(self) -> dict[str, Provenance]:
        return {ns: r.provenance for ns, r in self.results().items()}

    @property
    def deviations(self) -> dict[str, tuple[str, ...]]:
        return {ns: r.deviations for ns, r in self.results().items() if r.deviations}

    def _compute(self, namespace: str) -> NamespaceResult:
        if self.profile is not None:
            return NamespaceResult(
                namespace,
                tuple(self.profile.providers.get(namespace, ())),
                "profile",
                f"profile {self.profile_source or ''}".strip(),
            )
        overrides = self.overrides
        if namespace in overrides.disabled:
            return NamespaceResult(namespace, (), "disabled", DISABLE_VARIABLE)
        spec = builtin.BUILTINS.get(namespace)
        cls = builtin.load_builtin(namespace)
        ours = overrides.for_namespace(namespace)
        forced = [
            v for v in (spec.plugin_variables if spec else ()) if self.environ.get(v, "") != ""
        ]
        if cls is not None and spec is not None and (forced or ours is None):
            configs, notes = self._run_builtin(cls, spec)
            if forced:
                if ours is not None:
                    notes += (
                        f"{ours.variable} ignored: the plugin's own {', '.join(forced)} "
                        "takes precedence",
                    )
                return NamespaceResult(namespace, configs, "env override", ", ".join(forced), notes)
            return NamespaceResult(namespace, configs, "detected", "built-in provider", notes)
        if ours is not None:
            return NamespaceResult(namespace, ours.configs, "env override", ours.variable)
        return NamespaceResult(
            namespace, (), "detected", "no built-in provider", ("no built-in provider",)
        )

    def _run_builtin(
        self, cls: builtin.BuiltinProviderClass, spec: builtin.BuiltinSpec
    ) -> tuple[tuple[VariantFeatureConfig, ...], tuple[str, ...]]:
        info = self.host_info(spec.host_kind)
        if info is None:
            problem = self._host_errors.get(spec.host_kind, "no detector available")
            return (), (f"host detector {spec.host_kind!r}: {problem}",)
        try:
            provider = cls.from_host(info, self.environ)
            configs = tuple(provider.get_supported_configs())
        except Exception as exc:  # contained like a detector failure; reported, not raised
            return (), (f"built-in provider failed: {_describe(exc)}",)
        notes: list[str] = []
        for attr in ("deviations", "notes", "warnings"):
            extra = getattr(provider, attr, ())
            if isinstance(extra, str):
                extra = (extra,)
            if isinstance(extra, Iterable):
                notes.extend(str(item) for item in extra)
        return configs, tuple(notes)

    # -- output -----------------------------------------------------------------------------

    def to_profile(self) -> TargetProfile:
        """A `wheelnext-profile/1` profile of this detection (unsupported namespaces omitted)."""
        from wheelnext_jupyter.providers.profile import TargetProfile

        return TargetProfile(providers=self.supported, host=self.host_json())

    def to_json(self) -> dict[str, Any]:
        """The profile document, plus per-namespace provenance and deviations."""
        doc = self.to_profile().to_json()
        results = self.results()
        doc["provenance"] = {ns: r.provenance for ns, r in results.items()}
        doc["sources"] = {ns: r.source for ns, r in results.items()}
        doc["deviations"] = {ns: list(r.deviations) for ns, r in results.items() if r.deviations}
        return doc


def target_markers() -> dict[str, str]:
    """This interpreter's PEP 508 marker environment (packaging's `default_environment()`)."""
    return marker_environment()


def _builtin_multi_value(namespace: str, feature: str) -> bool:
    for config in builtin.all_configs(namespace) or ():
        if config.name == feature:
            return config.multi_value
    return False


# -- the process-wide cache -------------------------------------------------------------------

_cache: dict[tuple[str, tuple[tuple[str, str], ...]], Detection] = {}
_cache_lock = _thread.allocate_lock()
_KEY_VARIABLES = frozenset((*builtin.plugin_variables(), *builtin.DETECTION_VARIABLES))


def cache_key(environ: Mapping[str, str], root: Path) -> tuple[str, tuple[tuple[str, str], ...]]:
    """What a cached detection depends on: `root` and every override or detection variable."""
    items = tuple(
        sorted((k, v) for k, v in environ.items() if k.startswith(PREFIX) or k in _KEY_VARIABLES)
    )
    return (str(root), items)


def clear_cache() -> None:
    with _cache_lock:
        _cache.clear()


def detect(
    *,
    refresh: bool = False,
    profile: TargetProfile | str | Path | None = None,
    environ: Mapping[str, str] | None = None,
    root: Path = Path("/"),
) -> Detection:
    """This machine's detection (cached for the process), or a profile's answers (no detection).

    `refresh=True` forgets every cached detection and starts again.
    """
    if profile is not None:
        from wheelnext_jupyter.providers.profile import TargetProfile, load_profile_file

        if isinstance(profile, TargetProfile):
            return Detection(root=root, environ=environ or {}, profile=profile)
        return Detection(
            root=root,
            environ=environ or {},
            profile=load_profile_file(profile),
            profile_source=str(profile),
        )
    env: Mapping[str, str] = os.environ if environ is None else environ
    key = cache_key(env, root)
    with _cache_lock:
        if refresh:
            _cache.clear()
        found = _cache.get(key)
        if found is None:
            if len(_cache) >= _CACHE_LIMIT:
                _cache.pop(next(iter(_cache)))
            found = _cache[key] = Detection(root=root, environ=env)
        return found


# -- the human summary ------------------------------------------------------------------------


def first_fact(data: Mapping[str, Any], *keys: str) -> Any:
    """The first of `keys` with a non-empty value in a host-facts mapping (facts vary by source)."""
    for key in keys:
        value = data.get(key)
        if value not in (None, "", [], {}):
            return value
    return None


def _cpu_line(cpu: Mapping[str, Any], arm_version: str | None) -> str:
    model = first_fact(cpu, "model_name", "model", "brand") or "unknown model"
    parts = [f"CPU: {model}"]
    arch = first_fact(cpu, "architecture", "machine")
    if arch:
        parts.append(f"({arch})")
    level = first_fact(cpu, "psabi_level")
    if level and level != "unknown":
        parts.append(f"x86-64-{level}")
    if arm_version:
        parts.append(f"Armv{arm_version}")
    if cpu.get("rosetta"):
        parts.append("under Rosetta")
    return " ".join(str(p) for p in parts)


def _memory(device: Mapping[str, Any]) -> str | None:
    size = device.get("memory_total_bytes")
    if isinstance(size, int) and size > 0:
        return f"{size / 2**30:.0f} GiB"
    return None


def _gpu_lines(kind: str, data: Mapping[str, Any]) -> list[str]:
    devices = data.get("gpus") or []
    driver = first_fact(data, "driver_version", "kernel_driver_version", "kernel_module_version")
    cuda = data.get("cuda_driver_version")
    rocm = data.get("rocm_version")
    extra = ", ".join(
        part
        for part in (
            f"driver {driver}" if driver else "",
            f"CUDA {cuda}" if cuda else "",
            f"ROCm {rocm}" if rocm else "",
        )
        if part
    )
    lines: list[str] = []
    for device in devices if isinstance(devices, list) else []:
        if not isinstance(device, Mapping):
            continue
        bits = [str(first_fact(device, "name", "marketing_name") or "unknown device")]
        memory = _memory(device)
        if memory:
            bits.append(memory)
        cc = device.get("compute_capability")
        if cc:
            bits.append(f"CC {cc}")
        arch = first_fact(device, "gfx", "device_ip", "ip")
        if arch:
            bits.append(str(arch))
        lines.append(f"GPU ({kind}): " + ", ".join(bits) + (f"; {extra}" if extra else ""))
    if not lines and data.get("status") not in (None, "absent") and (extra or data.get("error")):
        problem = data.get("error") or "no device visible"
        lines.append(f"GPU ({kind}): {problem}" + (f"; {extra}" if extra else ""))
    return lines


def _features_text(configs: tuple[VariantFeatureConfig, ...]) -> str:
    shown = []
    flags = [f.name for f in configs if f.values == ("on",)]
    for feature in configs:
        if feature.values == ("on",):
            continue
        values = ",".join(feature.values[:4]) + (",…" if len(feature.values) > 4 else "")
        shown.append(f"{feature.name}={values}")
    if flags:
        listed = " ".join(flags[:6]) + (f" … (+{len(flags) - 6})" if len(flags) > 6 else "")
        shown.append(f"features: {listed}")
    return "; ".join(shown)


def render_summary(detection: Detection) -> str:
    """A short readable summary: CPU, GPUs, TPUs, platform, then one line per namespace."""
    host = detection.host_json()
    lines: list[str] = []
    if detection.profile is not None:
        lines.append(f"Target profile: {detection.profile_source or '(in memory)'}")
    platform_info = host.get("platform", {}) if isinstance(host.get("platform"), dict) else {}
    cpu = host.get("cpu")
    if isinstance(cpu, dict):
        arm = None
        if cpu.get("architecture") == "aarch64" or detection.profile is not None:
            arm_result = detection.result("aarch64")
            arm = next((f.values[0] for f in arm_result.configs if f.name == "version"), None)
        lines.append(_cpu_line(cpu, arm))
    for kind in ("nvidia", "amd", "intel"):
        data = host.get(kind)
        if isinstance(data, dict):
            lines.extend(_gpu_lines(kind, data))
    tpu = host.get("tpu")
    if isinstance(tpu, dict):
        generation = first_fact(tpu, "generation", "version", "accelerator_type")
        chips = first_fact(tpu, "chips", "chip_count")
        if generation or chips:
            lines.append(f"TPU: {generation or 'unknown generation'}, {chips or '?'} chip(s)")
    hosting = host.get("hosting")
    where = first_fact(hosting, "platform", "name", "kind") if isinstance(hosting, dict) else None
    system = " ".join(str(platform_info.get(k, "")) for k in ("system", "machine")).strip()
    if where or system:
        lines.append(f"Platform: {where or 'local'}" + (f" ({system})" if system else ""))
    for kind, problem in (host.get("errors") or {}).items():
        lines.append(f"Detector {kind} failed: {problem}")
    lines.append("Supported variant properties:")
    results = detection.results()
    if not results:
        lines.append("  (none)")
    for ns, result in results.items():
        body = _features_text(result.configs) if result.supported else "unsupported"
        note = (
            "" if result.provenance == "detected" else f"  [{result.provenance}: {result.source}]"
        )
        lines.append(f"  {ns}: {body}{note}")
    return "\n".join(lines)


def summary_json(detection: Detection) -> str:
    """`detect --json` output."""
    import json

    return json.dumps(detection.to_json(), indent=2)
