"""Build the native unpacker (`wheelnext_jupyter/install/_unpack.c`) into the wheel.

The extension is optional: it makes unpacking wheels about twice as fast and lets it run
without the GIL, and the installer works the same without it. It needs a C compiler, the
Python headers, and zlib and OpenSSL headers; libdeflate (linked statically) is used when it is
there. When any of that is missing, the build prints why and produces a pure-Python wheel.
Set `WHEELNEXT_JUPYTER_NO_EXTENSION=1` to skip it on purpose.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

SOURCE = Path("wheelnext_jupyter") / "install" / "_unpack.c"


def _compiler() -> list[str]:
    configured = os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc"
    return shlex.split(configured)


def _compile(source: Path, output: Path, *, libdeflate: bool) -> subprocess.CompletedProcess[str]:
    command = [
        *_compiler(),
        "-O2",
        "-fPIC",
        "-shared",
        "-pthread",  # the pool of inflating buffers has a mutex (glibc before 2.34: libpthread)
        "-Wall",
        f"-I{sysconfig.get_paths()['include']}",
        str(source),
        "-o",
        str(output),
    ]
    if libdeflate:
        # Static, so the wheel needs no libdeflate at run time.
        command[1:1] = ["-DHAVE_LIBDEFLATE"]
        command += ["-Wl,-Bstatic", "-ldeflate", "-Wl,-Bdynamic"]
    command += ["-lz", "-lcrypto"]
    return subprocess.run(command, capture_output=True, text=True, check=False)


def build_extension(root: Path) -> Path | None:
    """Compile the extension next to its source; the path, or None (with the reason printed)."""
    source = root / SOURCE
    suffix = sysconfig.get_config_var("EXT_SUFFIX") or ".so"
    output = source.with_name("_unpack" + suffix)
    # A module left from an earlier build must not outlive a build that skips or fails now.
    output.unlink(missing_ok=True)
    if os.environ.get("WHEELNEXT_JUPYTER_NO_EXTENSION") == "1":
        print("wheelnext-jupyter: native unpacker skipped (WHEELNEXT_JUPYTER_NO_EXTENSION=1)")
        return None
    if os.name != "posix":
        print("wheelnext-jupyter: native unpacker not built (POSIX only); using pure Python")
        return None
    # Compiled aside and moved into place, so a failed build never leaves half a module.
    built = output.with_name(f".{output.name}.building")
    done = _compile(source, built, libdeflate=True)
    if done.returncode != 0:
        done = _compile(source, built, libdeflate=False)
    if done.returncode != 0:
        built.unlink(missing_ok=True)
        print(
            "wheelnext-jupyter: native unpacker not built, using pure Python "
            "(needs a C compiler and the Python, zlib and OpenSSL headers):\n"
            + done.stderr[-2000:],
            file=sys.stderr,
        )
        return None
    built.replace(output)
    return output


class NativeUnpackerHook(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        root = Path(self.root)
        built = build_extension(root)
        if built is None or version == "editable":
            # An editable install imports the module from the source tree.
            return
        build_data["pure_python"] = False
        build_data["infer_tag"] = True
        build_data["artifacts"].append(built.relative_to(root).as_posix())
