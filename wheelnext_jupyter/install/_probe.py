"""Describe the interpreter that runs this file, as JSON on stdout.

Runs inside the *target* interpreter (`python _probe.py [extra sys.path entry]`), so it uses only
the standard library and packaging; the caller appends the directory holding its own packaging
to `sys.path` in case the target has none.
"""

from __future__ import annotations

import json
import os
import site
import sys
import sysconfig
from pathlib import Path


def _user_scheme() -> str:
    get_preferred = getattr(sysconfig, "get_preferred_scheme", None)
    if get_preferred is not None:
        return str(get_preferred("user"))
    return f"{os.name}_user"


def describe(*, tags: bool = True) -> dict[str, object]:
    """The facts `TargetEnvironment` is built from (plain JSON types only); without `tags`
    when the caller takes them from `sys_tags` itself."""
    from packaging.markers import default_environment
    from packaging.tags import sys_tags

    in_venv = sys.prefix != getattr(sys, "base_prefix", sys.prefix)
    user_paths: dict[str, str] = {}
    try:
        user_paths = dict(sysconfig.get_paths(scheme=_user_scheme()))
    except KeyError:
        # Some distributions ship a sysconfig without a user scheme.
        user_paths = {}
    version = sys.version_info
    return {
        "executable": sys.executable,
        "prefix": sys.prefix,
        "base_prefix": getattr(sys, "base_prefix", sys.prefix),
        "version": [version.major, version.minor, version.micro],
        "implementation": sys.implementation.name,
        "cache_tag": sys.implementation.cache_tag,
        "in_venv": in_venv,
        "conda": (Path(sys.prefix) / "conda-meta").is_dir(),
        "paths": dict(sysconfig.get_paths()),
        "user_paths": user_paths,
        "user_site_enabled": bool(site.ENABLE_USER_SITE),
        "stdlib": sysconfig.get_path("stdlib"),
        "platform": sysconfig.get_platform(),
        "markers": dict(default_environment()),
        "tags": [str(tag) for tag in sys_tags()] if tags else [],
    }


if __name__ == "__main__":
    sys.path.extend(sys.argv[1:])
    json.dump(describe(), sys.stdout)
