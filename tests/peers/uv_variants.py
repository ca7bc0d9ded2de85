"""uv as a variant-selection peer: which wheel file `uv pip compile` picks from a loopback index.

uv 0.13.9 selects variant wheels only with the `wheel-variants` preview feature and only from an
index. It reads the variantlib v0.2.0 metadata shape (`providers.<ns>.static-properties` and
`feature-order` inside each provider entry); the WheelNext v0.0.3 shape (top-level
`static-properties`, `install-time`) fails to parse there. It answers the `nvidia` namespace with a
vendored provider that honours the plugin's `NV_VARIANT_PROVIDER_FORCE_*` variables.

The file uv chose is read from its debug log (`Selecting: NAME==VERSION [compatible] (FILE)`):
uv prints no other record of the file at resolution time.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

from packaging.utils import canonicalize_name

from tests.peers.peer_runners import isolated_env

#: The metadata shape uv 0.13.9 reads (variantlib's).
V020_SCHEMA = "https://variants-schema.wheelnext.dev/v0.2.0.json"

_SELECTING = re.compile(
    r"Selecting: (?P<name>[^=\s]+)==(?P<version>\S+) \[[^\]]*\] \((?P<file>[^)]+)\)"
)


class UvSelectionError(RuntimeError):
    """uv failed, or its log named no file for the package asked about."""


def uv_environment(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The machine's configuration shut out, the variant preview switched on, plus `extra`."""
    env = isolated_env()
    env["UV_PREVIEW_FEATURES"] = "wheel-variants"
    env.update(extra or {})
    return env


def uv_selected_file(
    uv: Path,
    requirement: str,
    index_url: str,
    *,
    env: Mapping[str, str] | None = None,
    cache_dir: Path | None = None,
) -> str:
    """The wheel filename uv selects for `requirement` (a bare project name) from `index_url`."""
    with tempfile.TemporaryDirectory(prefix="uv-variants-") as scratch:
        command = [
            str(uv),
            "pip",
            "compile",
            "-",
            "-v",
            "--no-config",
            "--no-header",
            "--no-annotate",
            "--cache-dir",
            str(cache_dir or scratch),
            "--index-url",
            index_url,
            "--python",
            sys.executable,
        ]
        result = subprocess.run(
            command,
            input=requirement + "\n",
            capture_output=True,
            text=True,
            env=uv_environment(env),
            timeout=120,
            check=False,
        )
    if result.returncode != 0:
        tail = " | ".join(result.stderr.strip().splitlines()[-6:])
        raise UvSelectionError(f"uv pip compile failed ({result.returncode}): {tail}")
    wanted = canonicalize_name(requirement)
    for match in _SELECTING.finditer(result.stderr):
        if canonicalize_name(match["name"]) == wanted:
            return match["file"]
    raise UvSelectionError(f"uv's log names no selected file for {requirement}")
