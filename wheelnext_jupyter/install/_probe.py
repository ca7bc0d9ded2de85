"""Describe the interpreter that runs this file, as JSON on stdout.

Runs inside the *target* interpreter (`python _probe.py [--no-tags | extra sys.path entry]`), so
it uses only the standard library and packaging; the caller appends the directory holding its own
packaging to `sys.path` in case the target has none. With `--no-tags` it leaves out the tags and
does not import packaging (about half of its time): the caller runs the same interpreter binary
and takes them from its own. A target that cannot import that packaging (an older Python than
the release supports: its code does not even compile there) is described without tags, with
the reason in `packaging_error`; the caller then works its tags out from the other facts.
"""

from __future__ import annotations

import json
import os
import platform
import site
import sys
import sysconfig


def _user_scheme() -> str:
    get_preferred = getattr(sysconfig, "get_preferred_scheme", None)
    if get_preferred is not None:
        return str(get_preferred("user"))
    return f"{os.name}_user"


def _full_version(info: sys._version_info) -> str:
    """`major.minor.micro`, with the release level's letter and serial unless final (PEP 508)."""
    text = f"{info.major}.{info.minor}.{info.micro}"
    return text if info.releaselevel == "final" else f"{text}{info.releaselevel[0]}{info.serial}"


def marker_environment() -> dict[str, str]:
    """This interpreter's environment markers, as PEP 508 defines them (what packaging's
    `default_environment` gives; importing packaging's markers would cost the probe a few
    hundredths of a second)."""
    return {
        "implementation_name": sys.implementation.name,
        "implementation_version": _full_version(sys.implementation.version),
        "os_name": os.name,
        "platform_machine": platform.machine(),
        "platform_release": platform.release(),
        "platform_system": platform.system(),
        "platform_version": platform.version(),
        "python_full_version": platform.python_version(),
        "platform_python_implementation": platform.python_implementation(),
        "python_version": ".".join(platform.python_version_tuple()[:2]),
        "sys_platform": sys.platform,
    }


def describe(*, tags: bool = True) -> dict[str, object]:
    """The facts `TargetEnvironment` is built from (plain JSON types only); without `tags`
    when the caller takes them from `sys_tags` itself."""
    in_venv = sys.prefix != getattr(sys, "base_prefix", sys.prefix)
    user_paths: dict[str, str] = {}
    try:
        user_paths = dict(sysconfig.get_paths(scheme=_user_scheme()))
    except KeyError:
        # Some distributions ship a sysconfig without a user scheme.
        user_paths = {}
    version = sys.version_info
    facts: dict[str, object] = {
        "executable": sys.executable,
        "prefix": sys.prefix,
        "base_prefix": getattr(sys, "base_prefix", sys.prefix),
        "version": [version.major, version.minor, version.micro],
        "implementation": sys.implementation.name,
        "cache_tag": sys.implementation.cache_tag,
        "in_venv": in_venv,
        # os.path, not pathlib: nothing else here imports pathlib (a few milliseconds).
        "conda": os.path.isdir(os.path.join(sys.prefix, "conda-meta")),  # noqa: PTH112, PTH118
        "paths": dict(sysconfig.get_paths()),
        "user_paths": user_paths,
        "user_site_enabled": bool(site.ENABLE_USER_SITE),
        "stdlib": sysconfig.get_path("stdlib"),
        "platform": sysconfig.get_platform(),
        "markers": marker_environment(),
        # What the tags follow from: the caller compares these with its own before it takes
        # its own tags for a probe run without them.
        "soabi": sysconfig.get_config_var("SOABI"),
        "ext_suffix": sysconfig.get_config_var("EXT_SUFFIX"),
        "tags": [],
    }
    if tags:
        try:
            from packaging.tags import sys_tags
        except (ImportError, SyntaxError) as exc:
            facts["packaging_error"] = f"{type(exc).__name__}: {exc}"
        else:
            facts["tags"] = [str(tag) for tag in sys_tags()]
    return facts


if __name__ == "__main__":
    if sys.argv[1:] == ["--no-tags"]:
        json.dump(describe(tags=False), sys.stdout)
    else:
        sys.path.extend(sys.argv[1:])
        json.dump(describe(), sys.stdout)
