"""Colab's restart prompt after an install that changed imported packages."""

from __future__ import annotations

from wheelnext_jupyter.hosting_ui import COLAB_MIME, pip_warning_bundle, should_emit_pip_warning

COLAB = {"google.colab.output": object()}


def test_payload_is_colabs_pip_warning_with_the_package_list() -> None:
    bundle = pip_warning_bundle(["numpy", "torch"])
    assert COLAB_MIME == "application/vnd.colab-display-data+json"
    assert bundle[COLAB_MIME]["pip_warning"] == {"packages": ["numpy", "torch"]}
    assert bundle[COLAB_MIME]["id"]


def test_emitted_on_colab_only() -> None:
    assert should_emit_pip_warning(["numpy"], modules=COLAB, environ={})
    assert not should_emit_pip_warning(["numpy"], modules={}, environ={})


def test_not_emitted_without_packages_or_when_colab_users_switched_it_off() -> None:
    assert not should_emit_pip_warning([], modules=COLAB, environ={})
    assert not should_emit_pip_warning(
        ["numpy"], modules=COLAB, environ={"SKIP_COLAB_PIP_WARNING": "1"}
    )
