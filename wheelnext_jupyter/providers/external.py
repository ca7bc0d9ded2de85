"""External provider plugins: trusted ones only, each in its own venv, in a subprocess, timed out.

A plugin the user has not trusted by exact name and version is never installed, imported or run:
the answer is an `untrusted` result that says how to trust it. A trusted plugin is installed with
pip (`--no-deps`, wheels only) into a venv under the cache directory, run through
`plugin_runner.py`, and its answer is checked against its own `get_all_configs()` before use. Good
answers are cached on disk, keyed by the plugins, the interpreter, the override variables and a
hardware fingerprint. Every failure (install, timeout, crash, garbage, lies) becomes a result
with the reason; nothing here raises for a misbehaving plugin.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import os
import platform
import re
import signal
import subprocess
import sys
import tempfile
import threading
import venv
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from wheelnext_jupyter.paths import cache_dir, user_config_path
from wheelnext_jupyter.providers.trust import TrustList
from wheelnext_jupyter.variants.metadata import ProviderInfo
from wheelnext_jupyter.variants.properties import InvalidVariantProperty, VariantFeatureConfig

ExternalStatus = Literal[
    "ok", "untrusted", "no-plugin", "install-failed", "timeout", "crashed", "invalid-answer"
]

RUNNER = Path(__file__).with_name("plugin_runner.py")
#: Answers larger than this are refused unread (a plugin printing forever).
MAX_ANSWER_BYTES = 4 * 1024 * 1024
_ANSWER_FORMAT = 1


@dataclass(frozen=True)
class ExternalResult:
    """What one external provider answered, or why it did not."""

    namespace: str
    status: ExternalStatus
    configs: tuple[VariantFeatureConfig, ...] = ()
    message: str = ""
    #: The exact `name==version` packages that were (or would be) installed.
    plugins: tuple[str, ...] = ()
    from_cache: bool = False

    @property
    def ok(self) -> bool:
        return self.status == "ok"


@dataclass(frozen=True)
class PluginSources:
    """Where pip finds plugin packages; empty means pip's own configuration."""

    index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    no_index: bool = False

    def pip_args(self) -> list[str]:
        args: list[str] = []
        if self.no_index:
            args.append("--no-index")
        for i, url in enumerate(self.index_urls):
            args += ["--index-url" if i == 0 else "--extra-index-url", url]
        for link in self.find_links:
            args += ["--find-links", link]
        return args


@dataclass
class _Memo:
    lock: threading.Lock = field(default_factory=threading.Lock)
    answers: dict[str, ExternalResult] = field(default_factory=dict)


_memo = _Memo()


def clear_memory_cache() -> None:
    """Forget answers held in this process (the disk cache stays)."""
    with _memo.lock:
        _memo.answers.clear()


def default_cache_dir() -> Path:
    return cache_dir()


_USERINFO = re.compile(r"(?<=://)[^/@\s]+@")


def _redact(text: str) -> str:
    return _USERINFO.sub("***@", text)


def _tail(text: str, limit: int = 800) -> str:
    text = _redact(text.strip())
    return text if len(text) <= limit else "…" + text[-limit:]


def _sha(data: object) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


# -- keys ---------------------------------------------------------------------------------------


def _read(path: Path, limit: int = 65536) -> str:
    try:
        with path.open("rb") as handle:
            return handle.read(limit).decode("utf-8", "replace")
    except OSError:
        return ""


def hardware_fingerprint(root: Path = Path("/")) -> str:
    """A hash of what identifies this machine's hardware and drivers (cheap: files only)."""
    cpu: dict[str, str] = {}
    for line in _read(root / "proc/cpuinfo").splitlines():
        key, _, value = line.partition(":")
        key = key.strip()
        if key in ("model name", "flags", "Features", "CPU implementer", "CPU part"):
            cpu.setdefault(key, value.strip())
    pci: list[tuple[str, str, str]] = []
    pci_dir = root / "sys/bus/pci/devices"
    with contextlib.suppress(OSError):
        for device in sorted(pci_dir.iterdir()):
            pci.append(
                tuple(_read(device / name, 64).strip() for name in ("vendor", "device", "class"))  # type: ignore[arg-type]
            )
    drivers = {
        name: _read(root / path, 4096).strip()
        for name, path in (
            ("nvidia", "proc/driver/nvidia/version"),
            ("amdgpu", "sys/module/amdgpu/version"),
        )
    }
    return _sha({"machine": platform.machine(), "cpu": cpu, "pci": pci, "drivers": drivers})


def _interpreter() -> dict[str, str]:
    return {
        "implementation": sys.implementation.name,
        "cache_tag": str(sys.implementation.cache_tag),
        "version": platform.python_version(),
        "machine": platform.machine(),
        "base": str(getattr(sys, "_base_executable", sys.executable)),
    }


def _override_items(namespace: str, environ: Mapping[str, str]) -> list[tuple[str, str]]:
    # An external plugin's own variables are unknown; by convention they carry VARIANT or the
    # namespace in their name, so those are the ones an answer may depend on.
    prefix = namespace.upper() + "_"
    return sorted(
        (k, v) for k, v in environ.items() if "VARIANT" in k.upper() or k.upper().startswith(prefix)
    )


# -- trust --------------------------------------------------------------------------------------


def _how_to_trust(name: str, version_hint: str) -> str:
    return (
        f"to trust it, pass --trust-provider {name}=={version_hint} (the exact version you have "
        f'reviewed) or add "{name}=={version_hint}" to trusted-providers in {user_config_path()}'
    )


def _pin_requirements(
    info: ProviderInfo, trust: TrustList
) -> tuple[list[str], ExternalResult | None]:
    """The exact pins to install, or an `untrusted` / `no-plugin` result."""
    pins: list[str] = []
    for text in info.requires:
        try:
            req = Requirement(text)
        except InvalidRequirement:
            return [], ExternalResult(
                info.namespace,
                "no-plugin",
                message=f"provider requirement {text!r} of namespace {info.namespace!r} is not a "
                "valid requirement; the package's variant metadata needs fixing",
            )
        if req.marker is not None and not req.marker.evaluate():
            continue
        name = canonicalize_name(req.name)
        if req.url:
            return [], ExternalResult(
                info.namespace,
                "untrusted",
                message=f"provider {req.name} for namespace {info.namespace!r} comes from a URL "
                f"({_redact(req.url)}); only index packages trusted by exact version are run",
            )
        fitting = [v for v in trust.trusted_versions(name) if req.specifier.contains(v, True)]
        if not fitting:
            exact = [s.version for s in req.specifier if s.operator in ("==", "===")]
            hint = exact[0] if len(exact) == 1 and "*" not in exact[0] else "VERSION"
            others = trust.trusted_versions(name)
            why = (
                f"the trusted version(s) {', '.join(map(str, others))} do not satisfy {text!r}"
                if others
                else "it is not trusted"
            )
            return [], ExternalResult(
                info.namespace,
                "untrusted",
                message=f"variant provider {req.name} (required as {text!r}, plugin-api "
                f"{info.resolved_plugin_api!r}) for namespace {info.namespace!r} was not installed "
                f"or run: {why}; variants that need namespace {info.namespace!r} count as "
                f"unsupported. {_how_to_trust(name, hint).capitalize()}.",
                plugins=(f"{name}{req.specifier}",),
            )
        pins.append(f"{name}=={fitting[0]}")
    if not pins:
        return [], ExternalResult(
            info.namespace,
            "no-plugin",
            message=f"namespace {info.namespace!r} names no plugin package for this environment",
        )
    return sorted(pins), None


# -- validation ---------------------------------------------------------------------------------


class InvalidAnswer(ValueError):
    """A plugin answer that does not follow the plugin API or contradicts itself."""


def _parse_features(raw: object, what: str) -> list[VariantFeatureConfig]:
    if not isinstance(raw, list):
        raise InvalidAnswer(f"{what} is not a list of features")
    out: list[VariantFeatureConfig] = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            raise InvalidAnswer(f"{what}[{i}] is not a feature")
        name, values, multi = item.get("name"), item.get("values"), item.get("multi_value", False)
        if not isinstance(name, str):
            raise InvalidAnswer(f"{what}[{i}].name is not a string")
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise InvalidAnswer(f"{what}[{i}] ({name}): values are not a list of strings")
        if not isinstance(multi, bool):
            raise InvalidAnswer(f"{what}[{i}] ({name}): multi_value is not a boolean")
        if len(set(values)) != len(values):
            raise InvalidAnswer(f"{what}[{i}] ({name}): a value is listed twice")
        try:
            out.append(VariantFeatureConfig(name, tuple(values), multi))
        except InvalidVariantProperty as exc:
            raise InvalidAnswer(f"{what}[{i}]: {exc}") from None
    names = [f.name for f in out]
    if len(set(names)) != len(names):
        raise InvalidAnswer(f"{what}: a feature is listed twice")
    return out


def validate_answer(answer: object, namespace: str) -> tuple[VariantFeatureConfig, ...]:
    """The supported configs of a plugin answer, after checking it against the plugin itself."""
    if not isinstance(answer, dict):
        raise InvalidAnswer("the answer is not a JSON object")
    claimed = answer.get("namespace")
    if claimed is not None and claimed != namespace:
        raise InvalidAnswer(f"the plugin is for namespace {claimed!r}, not {namespace!r}")
    all_configs = {f.name: f for f in _parse_features(answer.get("all_configs"), "all_configs")}
    supported = _parse_features(answer.get("supported_configs"), "supported_configs")
    for feature in supported:
        known = all_configs.get(feature.name)
        if known is None:
            raise InvalidAnswer(
                f"supported feature {feature.name!r} is not among its own get_all_configs()"
            )
        stray = [v for v in feature.values if v not in known.values]
        if stray:
            raise InvalidAnswer(
                f"supported values {stray} of {feature.name!r} are not among its own "
                "get_all_configs()"
            )
        if feature.multi_value != known.multi_value:
            raise InvalidAnswer(f"{feature.name!r}: multi_value differs between the two calls")
    return tuple(supported)


# -- install and run ----------------------------------------------------------------------------


def _venv_python(env_dir: Path) -> Path:
    if os.name == "nt":
        return env_dir / "Scripts" / "python.exe"
    return env_dir / "bin" / "python"


def _run(
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    timeout: float,
    stdin: bytes = b"",
) -> tuple[int | None, bytes, bytes]:
    """Run with a timeout that kills the whole process group; rc None means it timed out."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        # Files, not pipes: a plugin's grandchild holding a pipe open cannot block us.
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.PIPE,
            stdout=out,
            stderr=err,
            env=dict(env),
            start_new_session=os.name != "nt",
        )
        try:
            proc.communicate(stdin, timeout=timeout)
            rc: int | None = proc.returncode
        except subprocess.TimeoutExpired:
            if os.name != "nt":
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
            proc.kill()
            proc.wait()
            rc = None
        out.seek(0)
        err.seek(0)
        return rc, out.read(MAX_ANSWER_BYTES + 1), err.read()[-8192:]


def _install(
    pins: Sequence[str],
    env_dir: Path,
    *,
    sources: PluginSources,
    environ: Mapping[str, str],
    timeout: float,
) -> str | None:
    """Create the venv and install `pins` into it; None on success, else the reason."""
    complete = env_dir / ".complete"
    if complete.exists():
        return None
    have_pip = importlib.util.find_spec("pip") is not None
    venv.EnvBuilder(clear=True, with_pip=not have_pip, symlinks=os.name != "nt").create(env_dir)
    python = _venv_python(env_dir)
    pip = (
        [sys.executable, "-m", "pip", "--python", str(python)]
        if have_pip
        else [str(python), "-m", "pip"]
    )
    argv = [
        *pip,
        "install",
        "--no-deps",  # a plugin's dependencies would be code nobody trusted
        "--only-binary",
        ":all:",  # building an sdist runs its build backend
        "--no-input",
        "--disable-pip-version-check",
        "--quiet",
        *sources.pip_args(),
        *pins,
    ]
    rc, out, err = _run(argv, env=environ, timeout=timeout)
    if rc is None:
        return f"pip did not finish within {timeout:g} s"
    if rc != 0:
        return f"pip failed (exit {rc}): {_tail((err or out).decode('utf-8', 'replace'))}"
    complete.write_text(json.dumps(list(pins)) + "\n", encoding="utf-8")
    return None


def _save_answer(path: Path, key: str, configs: Sequence[VariantFeatureConfig]) -> None:
    data = {
        "format": _ANSWER_FORMAT,
        "key": key,
        "supported_configs": [
            {"name": f.name, "values": list(f.values), "multi_value": f.multi_value}
            for f in configs
        ],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data), encoding="utf-8")
    tmp.replace(path)


def _load_answer(path: Path, key: str) -> tuple[VariantFeatureConfig, ...] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != _ANSWER_FORMAT or data.get("key") != key:
            return None
        return tuple(_parse_features(data["supported_configs"], "cached answer"))
    except (OSError, ValueError, KeyError, AttributeError):
        return None  # a damaged cache entry is just a miss


def query_external_provider(
    info: ProviderInfo,
    *,
    trust: TrustList,
    sources: PluginSources | None = None,
    cache_dir: Path | None = None,
    timeout: float = 30.0,
    install_timeout: float = 300.0,
    environ: Mapping[str, str] | None = None,
    root: Path = Path("/"),
    refresh: bool = False,
) -> ExternalResult:
    """Ask the plugin `info` names for its supported configs, if the user trusts it.

    `environ` is passed to pip and to the plugin (pip reads its configuration from it; the plugin
    its override variables). `refresh=True` ignores cached answers (installed venvs are kept).
    """
    namespace = info.namespace
    plugin_api = info.resolved_plugin_api
    if plugin_api is None or not info.requires:
        return ExternalResult(
            namespace, "no-plugin", message=f"namespace {namespace!r} names no provider plugin"
        )
    pins, refusal = _pin_requirements(info, trust)
    if refusal is not None:
        return refusal
    env: Mapping[str, str] = os.environ if environ is None else environ
    sources = sources or PluginSources()
    cache_root = (cache_dir or default_cache_dir()) / "providers"
    interpreter = _interpreter()
    key = _sha(
        {
            "plugins": pins,
            "plugin_api": plugin_api,
            "namespace": namespace,
            "interpreter": interpreter,
            "overrides": _override_items(namespace, env),
            "hardware": hardware_fingerprint(root),
        }
    )
    answer_path = cache_root / "answers" / f"{key}.json"
    if not refresh:
        with _memo.lock:
            memo = _memo.answers.get(key)
        if memo is not None:
            return memo
        cached = _load_answer(answer_path, key)
        if cached is not None:
            result = ExternalResult(namespace, "ok", cached, plugins=tuple(pins), from_cache=True)
            with _memo.lock:
                _memo.answers[key] = result
            return result
    result = _install_and_run(
        info, pins, plugin_api, cache_root, interpreter, sources, env, timeout, install_timeout
    )
    if result.ok:
        _save_answer(answer_path, key, result.configs)
    with _memo.lock:
        # Failures are remembered for the process too: a hanging plugin costs its timeout once.
        _memo.answers[key] = ExternalResult(
            result.namespace, result.status, result.configs, result.message, result.plugins, True
        )
    return result


def _install_and_run(
    info: ProviderInfo,
    pins: list[str],
    plugin_api: str,
    cache_root: Path,
    interpreter: Mapping[str, str],
    sources: PluginSources,
    environ: Mapping[str, str],
    timeout: float,
    install_timeout: float,
) -> ExternalResult:
    from wheelnext_jupyter.file_lock import FileLock

    namespace = info.namespace
    plugins = tuple(pins)
    env_dir = cache_root / "envs" / _sha({"plugins": pins, "interpreter": interpreter})[:24]
    env_dir.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(env_dir) + ".lock"):
        try:
            problem = _install(
                pins, env_dir, sources=sources, environ=environ, timeout=install_timeout
            )
        except OSError as exc:
            problem = f"cannot create the plugin environment {env_dir}: {exc}"
    if problem is not None:
        return ExternalResult(
            namespace,
            "install-failed",
            message=f"could not install {', '.join(pins)} for namespace {namespace!r}: {problem}",
            plugins=plugins,
        )
    run_env = {k: v for k, v in environ.items() if not k.startswith("PYTHON")}
    request = json.dumps({"plugin_api": plugin_api, "namespace": namespace}).encode()
    rc, out, err = _run(
        [str(_venv_python(env_dir)), "-I", str(RUNNER)], env=run_env, timeout=timeout, stdin=request
    )
    who = f"provider plugin {', '.join(pins)} ({plugin_api}) for namespace {namespace!r}"
    if rc is None:
        return ExternalResult(
            namespace,
            "timeout",
            message=f"{who} did not answer within {timeout:g} s and was stopped",
            plugins=plugins,
        )
    if len(out) > MAX_ANSWER_BYTES:
        return ExternalResult(
            namespace, "invalid-answer", message=f"{who} wrote an oversized answer", plugins=plugins
        )
    try:
        answer: Any = json.loads(out.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        answer = None
    if rc != 0:
        reason = answer.get("error") if isinstance(answer, dict) else None
        detail = reason or _tail(err.decode("utf-8", "replace")) or "no message"
        return ExternalResult(
            namespace,
            "crashed",
            message=f"{who} failed (exit {rc}): {_tail(str(detail))}",
            plugins=plugins,
        )
    if answer is None:
        return ExternalResult(
            namespace,
            "invalid-answer",
            message=f"{who} did not answer with JSON: {_tail(out.decode('utf-8', 'replace'), 200)!r}",
            plugins=plugins,
        )
    try:
        configs = validate_answer(answer, namespace)
    except InvalidAnswer as exc:
        return ExternalResult(
            namespace,
            "invalid-answer",
            message=f"{who} gave an answer that cannot be used: {exc}",
            plugins=plugins,
        )
    return ExternalResult(namespace, "ok", configs, plugins=plugins)
