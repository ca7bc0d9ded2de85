"""The environment wheels are installed into: its interpreter, install scheme, markers and tags.

The running interpreter is described in-process; another one (`--python PATH`) by running
`_probe.py` in it once and reading its JSON, so every fact comes from the interpreter that will
import the installed files. Its tags come from `packaging` run in it, its own or ours; where
neither runs there (ours may need a newer Python than the target is), a CPython target on this
platform has them made here from its version and ABI (`derived_tags`).
"""

from __future__ import annotations

import enum
import functools
import json
import os
import re
import subprocess
import sys
import sysconfig
from collections.abc import Mapping
from pathlib import Path

from packaging.tags import Tag, compatible_tags, cpython_tags, parse_tag, platform_tags, sys_tags

from wheelnext_jupyter.install import _probe, probe_ahead
from wheelnext_jupyter.record import Record


class TargetError(RuntimeError):
    """The target interpreter cannot be described (missing, not Python, or it failed)."""


class EnvironmentKind(enum.Enum):
    VENV = "venv"
    CONDA = "conda"
    USER = "user"
    SYSTEM = "system"


class InstallScheme(Record):
    """Where each kind of wheel content goes (the wheel spec's `.data/<key>/` directories)."""

    purelib: Path
    platlib: Path
    scripts: Path
    data: Path
    #: Headers go to `headers / <distribution name>`, as pip places them.
    headers: Path

    def path_for(self, key: str) -> Path:
        """The directory for a `.data/<key>/` entry; `KeyError` for an unknown key."""
        paths = {
            "purelib": self.purelib,
            "platlib": self.platlib,
            "scripts": self.scripts,
            "data": self.data,
            "headers": self.headers,
        }
        return paths[key]


class TargetEnvironment(Record):
    python: Path
    prefix: Path
    base_prefix: Path
    kind: EnvironmentKind
    scheme: InstallScheme
    version: tuple[int, int, int]
    implementation: str
    #: `sys.implementation.cache_tag`, e.g. "cpython-311" (bytecode file names).
    cache_tag: str | None
    #: `sysconfig.get_path("stdlib")`, where PEP 668's EXTERNALLY-MANAGED file lives.
    stdlib: Path
    platform: str
    markers: Mapping[str, str]
    #: Supported tags, most preferred first.
    tags: tuple[Tag, ...]
    #: True when this is the interpreter running this code.
    is_current: bool
    #: Site directories the interpreter reads before the scheme's: the user site of a plain
    #: interpreter that reads it, or a virtual environment's own for an install into the user
    #: site. What they hold counts as installed, and is imported ahead of what is installed.
    reads_first: tuple[Path, ...] = ()
    #: Site directories it reads after the scheme's: the system's, for an install into the user
    #: site. What they hold counts as installed; nothing in either is ever removed.
    reads_after: tuple[Path, ...] = ()

    @property
    def site_dirs(self) -> tuple[Path, ...]:
        """Where the interpreter finds distributions, in its `sys.path` order (first one wins)."""
        return (*self.reads_first, self.scheme.purelib, self.scheme.platlib, *self.reads_after)

    @property
    def is_venv(self) -> bool:
        return self.kind is EnvironmentKind.VENV

    def supported_tags(self) -> frozenset[Tag]:
        return self._tag_set

    def tag_priority(self, tag: Tag) -> int | None:
        """Index of `tag` in the preference list (lower is better); None if unsupported."""
        return self.tag_ranks.get(tag)

    @functools.cached_property
    def tag_ranks(self) -> Mapping[Tag, int]:
        """Each supported tag's index in the preference list (lower is better)."""
        # Asked for every file of every page the resolver reads: built once, not per question.
        ranks: dict[Tag, int] = {}
        for rank, tag in enumerate(self.tags):
            ranks.setdefault(tag, rank)
        return ranks

    @functools.cached_property
    def _tag_set(self) -> frozenset[Tag]:
        return frozenset(self.tags)


def current_target(*, user: bool = False) -> TargetEnvironment:
    """The running interpreter's environment; `user` selects its user scheme (`pip --user`)."""
    # Its tags as `packaging` makes them, not written out and read back (900 of them).
    facts = _probe.describe(tags=False)
    return _from_facts(facts, user=user, is_current=True, tags=tuple(sys_tags()))


def probe_target(python: str | os.PathLike[str], *, user: bool = False) -> TargetEnvironment:
    """Describe another interpreter by asking it once (one subprocess, JSON out); a probe the
    entry point started ahead for the same path is taken over. An interpreter that runs this
    one's executable file is asked without its tags, which are then this interpreter's, once its
    version, ABI and platform are seen to be the same."""
    executable = Path(python)
    own_tags = probe_ahead.runs_this_binary(executable)
    facts = _ask(executable, probe_ahead.take(python), tags=not own_tags)
    tags: tuple[Tag, ...] | None = None
    if not facts.get("tags") and "packaging_error" not in facts:
        # Left out (or a probe started ahead before the path changed): ours, or asked again.
        if own_tags and _same_abi(facts):
            tags = tuple(sys_tags())
        else:
            facts = _ask(executable, None, tags=True)
    if tags is None and "packaging_error" in facts:
        # Asked for and not given: asking again would meet the same error.
        tags = derived_tags(facts)
        if tags is None:
            raise TargetError(
                f"the target interpreter {executable} cannot run this installation's packaging "
                f"({facts['packaging_error']}), which works out which wheels fit it; install "
                f"packaging into the target ({executable} -m pip install packaging) and try again"
            )
    if os.environ.get("PYTHONNOUSERSITE"):
        # The probe runs with -E, so that PYTHONPATH and the like do not change what it reports,
        # which hides this one too; run from here, the target would not read its user site.
        facts = {**facts, "user_site_enabled": False}
    is_current = facts.get("executable") == sys.executable and facts.get("prefix") == sys.prefix
    return _from_facts(facts, user=user, is_current=is_current, tags=tags)


def _ask(
    executable: Path, process: subprocess.Popen[str] | None, *, tags: bool
) -> Mapping[str, object]:
    """The facts the probe prints: `process`'s, or a new probe's."""
    try:
        if process is None:
            process = probe_ahead.run_probe(executable, tags=tags)
        stdout, stderr = process.communicate(timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        if process is not None:
            process.kill()
            process.communicate()
        raise TargetError(
            f"cannot run the target interpreter {executable}: {exc}; "
            "pass --python the path of a Python 3 executable"
        ) from None
    if process.returncode != 0:
        last = (stderr.strip().splitlines() or ["no output"])[-1]
        raise TargetError(
            f"the target interpreter {executable} failed to describe itself "
            f"(exit {process.returncode}): {last}; "
            "pass --python the path of a Python 3 executable"
        )
    try:
        facts = json.loads(stdout)
    except json.JSONDecodeError:
        raise TargetError(
            f"the target interpreter {executable} printed something that is not JSON; "
            "is it a Python interpreter?"
        ) from None
    if not isinstance(facts, dict):
        raise TargetError(
            f"the target interpreter {executable} printed JSON that is not its description"
        )
    return facts


def _same_abi(facts: Mapping[str, object]) -> bool:
    """Whether a probe's facts are this interpreter's as far as tags go."""
    return (
        facts.get("version") == list(sys.version_info[:3])
        and facts.get("implementation") == sys.implementation.name
        and facts.get("cache_tag") == sys.implementation.cache_tag
        and facts.get("soabi") == sysconfig.get_config_var("SOABI")
        and facts.get("ext_suffix") == sysconfig.get_config_var("EXT_SUFFIX")
        and facts.get("platform") == sysconfig.get_platform()
    )


#: A CPython extension ABI as `SOABI` names it: `cpython-<major><minor><flags>[-<platform>]`,
#: the flags being those of the ABI tag (`t` free-threaded, `d` debug, `m` pymalloc before 3.8).
_CPYTHON_SOABI = re.compile(r"cpython-(?P<version>\d+)(?P<flags>[a-z]*)(?:-.*)?")


def derived_tags(facts: Mapping[str, object]) -> tuple[Tag, ...] | None:
    """The tags `sys_tags` gives in a CPython interpreter of these facts on this platform,
    made here through packaging's own functions from its version and ABI; None for another
    implementation or platform (their tags are not known here)."""
    version = facts.get("version")
    soabi = facts.get("soabi")
    if (
        facts.get("implementation") != "cpython"
        or facts.get("platform") != sysconfig.get_platform()
        or not isinstance(version, list)
        or len(version) < 2
        or not isinstance(soabi, str)
    ):
        return None
    python_version = (int(version[0]), int(version[1]))
    nodot = f"{python_version[0]}{python_version[1]}"
    match = _CPYTHON_SOABI.fullmatch(soabi)
    if match is None or match["version"] != nodot:
        return None
    flags = match["flags"]
    abis = [f"cp{nodot}{flags}"]
    if "d" in flags and python_version >= (3, 8):
        # A debug build also loads the extensions of the regular one.
        abis.append(f"cp{nodot}{flags.replace('d', '')}")
    platforms = list(platform_tags())
    return (
        *cpython_tags(python_version, abis, platforms),
        *compatible_tags(python_version, f"cp{nodot}", platforms),
    )


def _from_facts(
    facts: Mapping[str, object],
    *,
    user: bool,
    is_current: bool,
    tags: tuple[Tag, ...] | None = None,
) -> TargetEnvironment:
    def text(key: str) -> str:
        value = facts[key]
        assert isinstance(value, str), key
        return value

    def mapping(key: str) -> dict[str, str]:
        value = facts[key]
        assert isinstance(value, dict), key
        return {str(k): str(v) for k, v in value.items()}

    version_raw = facts["version"]
    assert isinstance(version_raw, list)
    version = (int(version_raw[0]), int(version_raw[1]), int(version_raw[2]))
    prefix = Path(text("prefix"))
    in_venv = bool(facts["in_venv"])

    def site(scheme: Mapping[str, str]) -> tuple[Path, ...]:
        return tuple(dict.fromkeys(Path(scheme[key]) for key in ("purelib", "platlib")))

    # The order `site` puts them on the path: a virtual environment's own site-packages, the
    # user site (where read), then a plain interpreter's site-packages.
    reads_first: tuple[Path, ...] = ()
    reads_after: tuple[Path, ...] = ()
    user_paths = mapping("user_paths")
    reads_user_site = bool(facts.get("user_site_enabled")) and bool(user_paths)
    if user:
        paths = user_paths
        if not paths:
            raise TargetError(
                "this interpreter has no user install scheme; use a virtual environment"
            )
        if not reads_user_site:
            where = "inside a virtual environment" if in_venv else "as it is run"
            raise TargetError(
                f"the target interpreter does not read its user site {where}, so what --user "
                "installed there would not import; install without --user"
            )
        kind = EnvironmentKind.USER
        if in_venv:
            reads_first = site(mapping("paths"))
        else:
            reads_after = site(mapping("paths"))
    else:
        paths = mapping("paths")
        if reads_user_site and in_venv:
            reads_after = site(user_paths)
        elif reads_user_site:
            reads_first = site(user_paths)
        if in_venv:
            kind = EnvironmentKind.VENV
        elif facts["conda"]:
            kind = EnvironmentKind.CONDA
        else:
            kind = EnvironmentKind.SYSTEM
    if in_venv and not user:
        # pip's layout for headers inside a virtual environment.
        headers = prefix / "include" / "site" / f"python{version[0]}.{version[1]}"
    else:
        headers = Path(paths["include"])
    scheme = InstallScheme(
        purelib=Path(paths["purelib"]),
        platlib=Path(paths["platlib"]),
        scripts=Path(paths["scripts"]),
        data=Path(paths["data"]),
        headers=headers,
    )
    if tags is None:
        tags = _read_tags(facts["tags"])
    cache_tag = facts.get("cache_tag")
    return TargetEnvironment(
        python=Path(text("executable")),
        prefix=prefix,
        base_prefix=Path(text("base_prefix")),
        kind=kind,
        scheme=scheme,
        version=version,
        implementation=text("implementation"),
        cache_tag=cache_tag if isinstance(cache_tag, str) else None,
        stdlib=Path(text("stdlib")),
        platform=text("platform"),
        markers=mapping("markers"),
        tags=tags,
        is_current=is_current,
        reads_first=reads_first,
        reads_after=reads_after,
    )


def _read_tags(written: object) -> tuple[Tag, ...]:
    assert isinstance(written, list)
    tags: list[Tag] = []
    for item in written:
        text = str(item)
        parts = text.split("-")
        if len(parts) == 3 and "." not in text:
            # One tag, as `sys_tags` writes every one of its 900 or so: made directly, a tenth
            # of what `parse_tag` costs for it.
            tags.append(Tag(*parts))
        else:
            tags.extend(sorted(parse_tag(text), key=str))
    return tuple(tags)
