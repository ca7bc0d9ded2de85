"""Hosted-notebook specifics of the notebook front end (Colab's own restart prompt)."""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

#: Colab renders this MIME type's `pip_warning` payload as a warning with its own restart button.
COLAB_MIME = "application/vnd.colab-display-data+json"


def in_colab(modules: Mapping[str, object] | None = None) -> bool:
    """True inside a Colab runtime (its output module is loaded in every Colab kernel)."""
    return "google.colab.output" in (sys.modules if modules is None else modules)


def pip_warning_bundle(packages: Sequence[str]) -> dict[str, Any]:
    """The display bundle Colab shows after `%pip` when installed packages were already imported."""
    return {
        COLAB_MIME: {"pip_warning": {"packages": list(packages)}, "id": uuid.uuid4().hex},
    }


def should_emit_pip_warning(
    packages: Sequence[str],
    *,
    modules: Mapping[str, object] | None = None,
    environ: Mapping[str, str] | None = None,
) -> bool:
    """On Colab, after an install that needs a restart, unless the user switched Colab's own
    warning off (`SKIP_COLAB_PIP_WARNING`)."""
    env = os.environ if environ is None else environ
    return bool(packages) and in_colab(modules) and "SKIP_COLAB_PIP_WARNING" not in env
