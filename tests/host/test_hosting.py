"""Hosted notebook identification from recorded environments and files."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from pathlib import Path

import pytest

from tests.support.host_trees import write
from wheelnext_jupyter.host.hosting import HostingInfo, detect_hosting, redact

# Environment excerpts as the services set them (values shortened; secrets are fake).
KAGGLE_ENV = {
    "KAGGLE_KERNEL_RUN_TYPE": "Interactive",
    "KAGGLE_URL_BASE": "https://www.kaggle.com",
    "KAGGLE_DOCKER_IMAGE": "gcr.io/kaggle-gpu-images/python:v155",
    "KAGGLE_USER_SECRETS_TOKEN": "eyJhbGciOi-fake",
    "KAGGLE_DATA_PROXY_TOKEN": "fake-proxy-token",
    # Kaggle images are built from Colab's base and keep its markers.
    "COLAB_GPU": "",
}
COLAB_ENV = {
    "COLAB_RELEASE_TAG": "release-colab_20250219-060225_RC01",
    "COLAB_GPU": "1",
    "COLAB_TPU_1VM": "",
    "HF_TOKEN": "hf_fakefakefake",
}
SAGEMAKER_ENV = {"SAGEMAKER_APP_TYPE": "JupyterLab", "AWS_SECRET_ACCESS_KEY": "fake"}
BINDER_ENV = {
    "BINDER_REPO_URL": "https://github.com/binder-examples/requirements",
    "BINDER_REF_URL": "https://github.com/binder-examples/requirements/tree/main",
    "BINDER_LAUNCH_HOST": "https://mybinder.org/",
    "BINDER_REQUEST": "v2/gh/binder-examples/requirements/HEAD",
    "JUPYTERHUB_SERVICE_PREFIX": "/user/binder-examples-requirements-abc123/",
    "JUPYTERHUB_API_TOKEN": "fake-hub-token",
}
HUB_ENV = {
    "JUPYTERHUB_SERVICE_PREFIX": "/user/ada/",
    "JUPYTERHUB_USER": "ada",
    "JUPYTERHUB_API_TOKEN": "fake-hub-token",
    "JPY_API_TOKEN": "fake-hub-token",
}


def hosting(
    root: Path,
    env: Mapping[str, str],
    *,
    modules: Collection[str] = (),
    user_namespace: Collection[str] = (),
    platform: str = "linux",
) -> HostingInfo:
    return detect_hosting(
        root=root, environ=env, platform=platform, modules=modules, user_namespace=user_namespace
    )


def test_plain_machine_is_local(tmp_path: Path) -> None:
    info = hosting(tmp_path, {})
    assert (info.platform, info.signals, info.container, info.wsl) == ("local", (), None, False)


def test_kaggle_is_recognised_before_colab(tmp_path: Path) -> None:
    write(tmp_path, "/kaggle/working/.keep")
    info = hosting(tmp_path, KAGGLE_ENV, modules={"google.colab"})
    assert info.platform == "kaggle"
    assert "path:/kaggle/working" in info.signals


def test_kaggle_from_its_directories_alone(tmp_path: Path) -> None:
    write(tmp_path, "/kaggle/input/.keep")
    assert hosting(tmp_path, {}).platform == "kaggle"


def test_colab_from_its_environment(tmp_path: Path) -> None:
    assert hosting(tmp_path, COLAB_ENV).platform == "colab"


def test_colab_from_the_loaded_module(tmp_path: Path) -> None:
    info = hosting(tmp_path, {}, modules={"google.colab"})
    assert info.platform == "colab"
    assert info.signals == ("module:google.colab",)


def test_colab_enterprise(tmp_path: Path) -> None:
    env = {"VERTEX_PRODUCT": "COLAB_ENTERPRISE", **COLAB_ENV}
    assert hosting(tmp_path, env).platform == "colab_enterprise"


def test_sagemaker_from_environment(tmp_path: Path) -> None:
    assert hosting(tmp_path, SAGEMAKER_ENV).platform == "sagemaker"


def test_sagemaker_notebook_instance_from_its_version_file(tmp_path: Path) -> None:
    write(tmp_path, "/etc/opt/ml/sagemaker-notebook-instance-version.txt", "2.0\n")
    assert hosting(tmp_path, {}).platform == "sagemaker"


def test_binder_wins_over_its_jupyterhub(tmp_path: Path) -> None:
    info = hosting(tmp_path, BINDER_ENV)
    assert info.platform == "binder"
    assert info.jupyterhub


def test_generic_jupyterhub(tmp_path: Path) -> None:
    info = hosting(tmp_path, HUB_ENV)
    assert (info.platform, info.jupyterhub) == ("jupyterhub", True)


def test_vscode_from_the_notebook_variable(tmp_path: Path) -> None:
    info = hosting(tmp_path, {}, user_namespace={"__vsc_ipynb_file__", "x"})
    assert (info.platform, info.vscode) == ("vscode", True)


def test_vscode_pid_alone_is_only_a_weak_signal(tmp_path: Path) -> None:
    info = hosting(tmp_path, {"VSCODE_PID": "4242"})
    assert (info.platform, info.vscode) == ("local", False)
    assert info.signals == ("env:VSCODE_PID (weak)",)


def test_jupyterlite_from_emscripten(tmp_path: Path) -> None:
    assert hosting(tmp_path, {}, platform="emscripten").platform == "jupyterlite"


@pytest.mark.parametrize(
    ("path", "content", "kind"),
    [
        ("/.dockerenv", "", "docker"),
        ("/run/.containerenv", "engine=podman\n", "podman"),
        ("/proc/1/cgroup", "0::/kubepods/burstable/pod1234/abcd\n", "container"),
    ],
)
def test_container_from_its_marker_files(
    tmp_path: Path, path: str, content: str, kind: str
) -> None:
    write(tmp_path, path, content)
    assert hosting(tmp_path, {}).container == kind


def test_kubernetes_from_its_service_variable(tmp_path: Path) -> None:
    assert hosting(tmp_path, {"KUBERNETES_SERVICE_HOST": "10.0.0.1"}).container == "kubernetes"


def test_host_cgroup_is_not_a_container(tmp_path: Path) -> None:
    write(tmp_path, "/proc/1/cgroup", "0::/init.scope\n")
    assert hosting(tmp_path, {}).container is None


def test_wsl_from_kernel_release(tmp_path: Path) -> None:
    write(tmp_path, "/proc/sys/kernel/osrelease", "5.15.167.4-microsoft-standard-WSL2\n")
    assert hosting(tmp_path, {}).wsl


@pytest.mark.parametrize("env", [KAGGLE_ENV, COLAB_ENV, SAGEMAKER_ENV, BINDER_ENV, HUB_ENV])
def test_no_secret_ever_reaches_the_facts(tmp_path: Path, env: Mapping[str, str]) -> None:
    text = repr(hosting(tmp_path, env).to_json())
    for value in ("fake", "hf_"):
        assert value not in text
    for name in env:
        if any(word in name for word in ("TOKEN", "SECRET", "KEY")):
            assert name not in text


def test_only_allowlisted_variables_are_copied(tmp_path: Path) -> None:
    info = hosting(tmp_path, {**COLAB_ENV, "HOME": "/root", "PATH": "/usr/bin"})
    assert info.environment == {
        "COLAB_RELEASE_TAG": "release-colab_20250219-060225_RC01",
        "COLAB_GPU": "1",
        "COLAB_TPU_1VM": "",
    }


def test_url_credentials_are_redacted() -> None:
    assert redact("https://user:s3cret@example.org/repo") == "https://***@example.org/repo"
    assert redact("https://example.org/repo") == "https://example.org/repo"


def test_allowlisted_url_with_credentials_is_redacted_in_facts(tmp_path: Path) -> None:
    env = {"BINDER_REPO_URL": "https://user:s3cret@example.org/repo.git"}
    assert hosting(tmp_path, env).environment == {
        "BINDER_REPO_URL": "https://***@example.org/repo.git"
    }
