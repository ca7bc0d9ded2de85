"""Which notebook service (if any) the kernel runs in, and whether in a container or WSL.

Only allow-listed environment variables are ever copied into the facts, and their values are
redacted (URL credentials removed): hosted notebooks keep API tokens in the environment.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Collection, Mapping
from pathlib import Path

from wheelnext_jupyter.host.pci import read_text, under
from wheelnext_jupyter.record import Record, field

#: Variables whose values may appear in facts and reports (none of them holds a secret).
ENV_ALLOWLIST = (
    "KAGGLE_KERNEL_RUN_TYPE",
    "KAGGLE_DOCKER_IMAGE",
    "KAGGLE_URL_BASE",
    "COLAB_RELEASE_TAG",
    "COLAB_GPU",
    "COLAB_TPU_1VM",
    "VERTEX_PRODUCT",
    "SAGEMAKER_APP_TYPE",
    "SAGEMAKER_INTERNAL_IMAGE_URI",
    "BINDER_REPO_URL",
    "BINDER_REF_URL",
    "BINDER_LAUNCH_HOST",
    "JUPYTERHUB_SERVICE_PREFIX",
    "WSL_DISTRO_NAME",
)
SECRET_NAME_PATTERN = r"TOKEN|SECRET|KEY|PASSWORD|CREDENTIAL"  # matched ignoring case

KAGGLE_ENV = (
    "KAGGLE_KERNEL_RUN_TYPE",
    "KAGGLE_URL_BASE",
    "KAGGLE_DOCKER_IMAGE",
    "KAGGLE_DATA_PROXY_URL",
)
KAGGLE_PATHS = ("/kaggle/input", "/kaggle/working")
COLAB_ENV = ("COLAB_RELEASE_TAG", "COLAB_GPU")
SAGEMAKER_ENV = ("SAGEMAKER_APP_TYPE", "SAGEMAKER_INTERNAL_IMAGE_URI")
SAGEMAKER_PATHS = (
    "/opt/ml/metadata/resource-metadata.json",
    "/etc/opt/ml/sagemaker-notebook-instance-version.txt",
)
BINDER_ENV = (
    "BINDER_REPO_URL",
    "BINDER_REF_URL",
    "BINDER_LAUNCH_HOST",
    "BINDER_REQUEST",
    "BINDER_PERSISTENT_REQUEST",
)
JUPYTERHUB_ENV = ("JUPYTERHUB_SERVICE_PREFIX", "JUPYTERHUB_USER")
VSCODE_NOTEBOOK_NAME = "__vsc_ipynb_file__"

PLATFORMS = (
    "jupyterlite",
    "kaggle",
    "colab",
    "colab_enterprise",
    "sagemaker",
    "binder",
    "vscode",
    "jupyterhub",
    "local",
)


def redact(value: str) -> str:
    """The value with any URL's user name and password removed."""
    if "@" not in value:
        return value  # no user info possible; spares importing urllib.parse
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(value)
    if parts.scheme and "@" in parts.netloc:
        host = parts.netloc.rsplit("@", 1)[1]
        return urlunsplit(parts._replace(netloc=f"***@{host}"))
    return value


def allowlisted_environment(environ: Mapping[str, str]) -> dict[str, str]:
    return {
        name: redact(environ[name])
        for name in ENV_ALLOWLIST
        if name in environ and not re.search(SECRET_NAME_PATTERN, name, re.IGNORECASE)
    }


class HostingInfo(Record):
    platform: str = "local"
    signals: tuple[str, ...] = ()
    jupyterhub: bool = False
    vscode: bool = False
    container: str | None = None  # "docker" | "podman" | "kubernetes" | "container"
    wsl: bool = False
    environment: Mapping[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, object]:
        return {
            "platform": self.platform,
            "signals": list(self.signals),
            "jupyterhub": self.jupyterhub,
            "vscode": self.vscode,
            "container": self.container,
            "wsl": self.wsl,
            "environment": dict(self.environment),
        }


def _container(root: Path, env: Mapping[str, str]) -> str | None:
    if under(root, "/.dockerenv").exists():
        return "docker"
    if under(root, "/run/.containerenv").exists():
        return "podman"
    if "KUBERNETES_SERVICE_HOST" in env:
        return "kubernetes"
    cgroup = read_text(under(root, "/proc/1/cgroup")) or ""
    if any(word in cgroup for word in ("docker", "kubepods", "containerd", "libpod")):
        return "container"
    return None


def _wsl(root: Path, env: Mapping[str, str]) -> bool:
    release = read_text(under(root, "/proc/sys/kernel/osrelease")) or ""
    return "microsoft" in release.lower() or "WSL_DISTRO_NAME" in env


def detect_hosting(
    *,
    root: Path = Path("/"),
    environ: Mapping[str, str] | None = None,
    platform: str | None = None,
    modules: Collection[str] | None = None,
    user_namespace: Collection[str] = (),
) -> HostingInfo:
    """Identify the hosting service, checking Kaggle before Colab (Kaggle images carry Colab's).

    `platform` defaults to `sys.platform`, `modules` to `sys.modules`; `user_namespace` is the
    kernel's user variable names (front ends pass it; VS Code defines `__vsc_ipynb_file__`).
    """
    env = os.environ if environ is None else environ
    loaded = sys.modules if modules is None else modules
    signals: list[str] = []

    def seen_env(names: Collection[str]) -> bool:
        hits = [f"env:{name}" for name in names if env.get(name)]
        signals.extend(hits)
        return bool(hits)

    def seen_paths(paths: Collection[str]) -> bool:
        hits = [f"path:{path}" for path in paths if under(root, path).exists()]
        signals.extend(hits)
        return bool(hits)

    def seen_module(module: str) -> bool:
        if module in loaded:
            signals.append(f"module:{module}")
            return True
        return False

    hub = seen_env(JUPYTERHUB_ENV)
    vscode = VSCODE_NOTEBOOK_NAME in user_namespace
    if vscode:
        signals.append(f"namespace:{VSCODE_NOTEBOOK_NAME}")
    elif env.get("VSCODE_PID"):
        signals.append("env:VSCODE_PID (weak)")

    name = "local"
    if (platform or sys.platform) == "emscripten":
        signals.append("platform:emscripten")
        name = "jupyterlite"
    elif seen_env(KAGGLE_ENV) | seen_paths(KAGGLE_PATHS):
        name = "kaggle"
    elif env.get("VERTEX_PRODUCT") == "COLAB_ENTERPRISE":
        signals.append("env:VERTEX_PRODUCT")
        name = "colab_enterprise"
    elif seen_module("google.colab") | seen_env(COLAB_ENV):
        name = "colab"
    elif seen_env(SAGEMAKER_ENV) | seen_paths(SAGEMAKER_PATHS):
        name = "sagemaker"
    elif seen_env(BINDER_ENV):
        name = "binder"
    elif vscode:
        name = "vscode"
    elif hub:
        name = "jupyterhub"
    return HostingInfo(
        platform=name,
        signals=tuple(signals),
        jupyterhub=hub,
        vscode=vscode,
        container=_container(root, env),
        wsl=_wsl(root, env),
        environment=allowlisted_environment(env),
    )
