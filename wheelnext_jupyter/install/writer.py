"""Where one verified wheel's files go in a target environment, and what is written beside them.

`install.staging` writes them: files under the scheme, launchers for console and GUI scripts with
the target's shebang, `RECORD` listing the installed paths with their hashes, `INSTALLER`,
`REQUESTED` and `direct_url.json`, so the result reads to pip like its own work. The wheel's
`variant.json` stays in the `.dist-info` directory; it is how `list` finds the variant label later.
"""

from __future__ import annotations

import configparser
import json
import os
import re
import subprocess
from collections.abc import Mapping
from itertools import repeat
from pathlib import Path

from packaging.utils import NormalizedName
from packaging.version import Version

from wheelnext_jupyter.install.target import TargetEnvironment
from wheelnext_jupyter.install.wheelfile import (
    DATA_SCHEME_KEYS,
    PathEscape,
    VerifiedWheel,
    all_normalised,
)
from wheelnext_jupyter.record import Record, field

#: What `INSTALLER` says; `pip list` shows distributions with another installer unchanged.
INSTALLER_NAME = "wheelnext-jupyter"
#: Longest shebang the Linux kernel reads in full (BINPRM_BUF_SIZE is 128 bytes incl. "#!").
_MAX_SHEBANG = 127
_ENTRY_POINT_RE = re.compile(r"^(?P<module>[\w.]+)\s*(:\s*(?P<attr>[\w.]+))?\s*(\[.*\])?\s*$")
_SCRIPT_NAME_RE = re.compile(r"^[^/\\\x00]+$")


class WriteError(RuntimeError):
    """A wheel that could not be written (e.g. an unusable entry point); names the wheel."""


class WriteOptions(Record):
    #: The user asked for this distribution (not pulled in as a dependency): writes `REQUESTED`.
    requested: bool = True
    #: The PEP 610 `direct_url.json` document, or None for files from an index.
    direct_url: Mapping[str, object] | None = None
    #: Byte-compile the written `.py` files and list the `.pyc` files in RECORD.
    compile_bytecode: bool = False


class InstalledDistribution(Record):
    name: NormalizedName
    version: Version
    label: str | None
    dist_info: Path
    #: Every file written, in writing order.
    files: tuple[str, ...] = ()


def direct_url_for_file(wheel: VerifiedWheel) -> dict[str, object]:
    """PEP 610 record for a wheel installed from a local file."""
    digest = wheel.sha256
    return {
        "url": wheel.path.resolve().as_uri(),
        "archive_info": {"hash": f"sha256={digest}", "hashes": {"sha256": digest}},
    }


class Script(Record):
    name: str
    module: str
    attr: str


#: The key of the wheel's root directory (purelib or platlib) among a layout's bases.
ROOT_KEY = "root"


class Layout(Record):
    """Where each archive member and generated file goes."""

    root: Path
    #: (archive member, destination, key of its base directory in `bases`); destinations are
    #: strings, as a wheel has thousands.
    members: tuple[tuple[str, str, str], ...]
    scripts: tuple[tuple[Script, Path], ...]
    dist_info: Path
    #: (source destination, its cached bytecode) with `compile_bytecode`.
    pyc: tuple[tuple[str, Path], ...]
    #: Destination directories by key: `root`, and the `.data/` keys the wheel uses (`headers`
    #: is the distribution's own subdirectory), `scripts` always.
    bases: Mapping[str, Path] = field(default_factory=dict)


def layout_of(wheel: VerifiedWheel, target: TargetEnvironment, options: WriteOptions) -> Layout:
    """Where `wheel`'s files go in `target`; refuses members that would land outside."""
    scheme = target.scheme
    root = scheme.purelib if wheel.root_is_purelib else scheme.platlib
    bases: dict[str, Path] = {ROOT_KEY: root, "scripts": scheme.scripts}
    members: list[tuple[str, str, str]] = []
    # Per key: the directory, itself with a separator (members are joined by concatenation:
    # thousands per wheel), its normalised form with one (the escape check), and whether a
    # normalised path joined to it needs no check (`_home`).
    homes: dict[str, tuple[str, str, str, bool]] = {ROOT_KEY: _home(root)}
    data_prefix = wheel.data_dir + "/"
    paths = [entry.path for entry in wheel.entries]
    # Whether `normpath` leaves every path as it is (searched at once, not path by path).
    normalised = all_normalised(paths)
    _, root_joined, _, root_plain = homes[ROOT_KEY]
    if normalised and root_plain and not any(map(str.startswith, paths, repeat(data_prefix))):
        # Every member goes to the root scheme, and none needs a check of its own.
        members = [(member, root_joined + member, ROOT_KEY) for member in paths]
    else:
        for member in paths:
            if member.startswith(data_prefix):
                _, key, relative = [*member.split("/", 2), ""][:3]
                if key not in DATA_SCHEME_KEYS:
                    raise PathEscape(wheel.path.name, f"unknown data directory in {member!r}")
                if key not in homes:
                    base = scheme.path_for(key)
                    if key == "headers":
                        base = base / wheel.display_name
                    bases[key] = base
                    homes[key] = _home(base)
            else:
                key, relative = ROOT_KEY, member
            home, joined, prefix, plain = homes[key]
            destination = joined + relative
            # The filename checks already refuse '..' and absolute names; this guards the rest.
            trusted = normalised and plain and relative
            if not trusted and not os.path.normpath(destination).startswith(prefix):
                raise PathEscape(wheel.path.name, f"{member!r} would be written outside {home}")
            members.append((member, destination, key))
    scripts = tuple((script, scheme.scripts / script.name) for script in entry_point_scripts(wheel))
    pyc: list[tuple[str, Path]] = []
    if options.compile_bytecode and target.cache_tag:
        for _, destination, _ in members:
            dest = Path(destination)
            if dest.suffix == ".py" and _is_under(dest, (scheme.purelib, scheme.platlib)):
                cached = dest.parent / "__pycache__" / f"{dest.stem}.{target.cache_tag}.pyc"
                pyc.append((destination, cached))
    return Layout(
        root=root,
        members=tuple(members),
        scripts=scripts,
        dist_info=root / wheel.dist_info,
        pyc=tuple(pyc),
        bases=bases,
    )


def _home(base: Path) -> tuple[str, str, str, bool]:
    home = str(base)
    joined = os.path.join(home, "")  # noqa: PTH118
    prefix = os.path.normpath(base) + os.sep
    # Whether a relative path that `normpath` leaves as it is stays so joined to the home
    # (hence inside it): "/" the only separator, the home plain.
    plain = (
        os.altsep is None and joined == prefix and os.path.normpath(prefix + "x") == prefix + "x"
    )
    return home, joined, prefix, plain


def _is_under(path: Path, bases: tuple[Path, ...]) -> bool:
    return any(os.path.normpath(path).startswith(os.path.normpath(b) + os.sep) for b in bases)


def record_name(path: str | Path, root: Path) -> str:
    text, home = str(path), str(root)
    # A path that is a normalised absolute root, a separator and a normalised relative rest not
    # climbing out is named by that rest (`relpath` takes ten times as long).
    if (
        os.altsep is None
        and text[len(home) : len(home) + 1] == os.sep
        and text.startswith(home)
        and home.startswith(os.sep)
        and os.path.normpath(home) == home
    ):
        rest = text[len(home) + 1 :]
        if os.path.normpath(rest) == rest and not rest.startswith((os.sep, "..")):
            return rest
    return os.path.relpath(path, root).replace(os.sep, "/")


#: Up to this many files are compiled in this process when it is the target's interpreter.
_COMPILE_HERE = 32


def compile_bytecode(
    pairs: tuple[tuple[Path, Path], ...],
    target: TargetEnvironment,
    shown_as: tuple[Path, ...] | None = None,
) -> list[tuple[Path, Path]]:
    """Byte-compile for the target interpreter; files that do not compile are skipped, as pip does.

    `shown_as` gives, per pair, the path the source will have once installed (for files compiled
    where they are staged): it is the file name tracebacks show.
    """
    if not pairs:
        return []
    shown = [str(p) for p in shown_as] if shown_as is not None else [str(s) for s, _ in pairs]
    # A few files compile sooner here than a new interpreter starts. More go to a child process:
    # compiling holds the interpreter's lock, and wheels staged at once then compile on one core.
    if target.is_current and len(pairs) <= _COMPILE_HERE:
        import py_compile  # here: an install without bytecode never needs it

        done = []
        for (source, cached), dfile in zip(pairs, shown, strict=True):
            try:
                py_compile.compile(str(source), cfile=str(cached), dfile=dfile, doraise=True)
            except py_compile.PyCompileError:
                continue
            done.append((source, cached))
        return done
    # Another interpreter writes its own bytecode format (the same one, for this interpreter).
    program = (
        "import json, py_compile, sys\n"
        "for src, dst, shown in json.load(sys.stdin):\n"
        "    try:\n"
        "        py_compile.compile(src, cfile=dst, dfile=shown, doraise=True)\n"
        "    except py_compile.PyCompileError:\n"
        "        pass\n"
    )
    subprocess.run(
        [str(target.python), "-E", "-c", program],
        input=json.dumps([[str(s), str(c), d] for (s, c), d in zip(pairs, shown, strict=True)]),
        text=True,
        capture_output=True,
        check=False,
        timeout=600,
    )
    return [(source, cached) for source, cached in pairs if cached.exists()]


def entry_point_scripts(wheel: VerifiedWheel) -> list[Script]:
    text = wheel.entry_points
    if text is None:
        return []
    parser = configparser.ConfigParser(delimiters=("=",), interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    try:
        parser.read_string(text)
    except configparser.Error as exc:
        raise WriteError(f"{wheel.path.name}: entry_points.txt is malformed ({exc})") from None
    scripts: list[Script] = []
    for section in ("console_scripts", "gui_scripts"):
        if not parser.has_section(section):
            continue
        for name, value in parser.items(section):
            match = _ENTRY_POINT_RE.match(value)
            if not match or not match.group("attr") or not _SCRIPT_NAME_RE.match(name):
                raise WriteError(
                    f"{wheel.path.name}: entry point {name} = {value!r} is not 'module:function'"
                )
            if name in (".", ".."):
                raise PathEscape(wheel.path.name, f"script name {name!r}")
            scripts.append(Script(name, match.group("module"), match.group("attr")))
    return scripts


def shebang(python: Path) -> str:
    text = str(python)
    if " " not in text and len(text) + 2 <= _MAX_SHEBANG:
        return f"#!{text}"
    # Too long or with spaces for the kernel: let sh find the interpreter (still valid Python).
    return f"#!/bin/sh\n'''exec' \"{text}\" \"$0\" \"$@\"\n' '''"


def launcher(script: Script, python: Path) -> str:
    head = script.attr.split(".", 1)[0]
    return (
        f"{shebang(python)}\n"
        "import sys\n"
        f"from {script.module} import {head}\n"
        "\n"
        "if __name__ == '__main__':\n"
        "    # Launched through a Windows .exe shim the name carries the suffix.\n"
        "    if sys.argv[0].endswith('.exe'):\n"
        "        sys.argv[0] = sys.argv[0][:-4]\n"
        f"    sys.exit({script.attr}())\n"
    )
