"""Build wheels from source distributions, in an isolated PEP 517 build environment.

Only used when no wheel of the chosen version fits the target. The build runs through pip's
isolated build (`pip wheel --no-deps`) with the target interpreter, so the wheel's tags fit the
target and build requirements come from the user's usual pip configuration.
"""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from wheelnext_jupyter.index.priority import SourceSet
    from wheelnext_jupyter.resolve.candidates import Pick

BUILD_TIMEOUT = 1800


class BuildError(RuntimeError):
    """A source distribution failed to build; the message carries the end of the build output."""


class SourceBuilder:
    """Builds (and caches by the sdist's hash) the wheel of an sdist pick."""

    def __init__(self, sources: SourceSet, python: Path, cache: Path) -> None:
        self.sources = sources
        self.python = python
        self.cache = cache
        self._built: dict[str, Path] = {}

    def wheel(self, pick: Pick) -> Path:
        assert pick.candidate is not None
        file = pick.candidate.file
        data = self.sources.source(pick.candidate.source).fetch_file(file)
        digest = hashlib.sha256(data).hexdigest()
        if digest in self._built:
            return self._built[digest]
        out = self.cache / digest
        existing = sorted(out.glob("*.whl")) if out.is_dir() else []
        if existing:
            self._built[digest] = existing[0]
            return existing[0]
        out.mkdir(parents=True, exist_ok=True)
        import tempfile  # builds are rare: not on the command line's start-up path

        with tempfile.TemporaryDirectory(prefix="wheelnext-build-") as tmp:
            sdist = Path(tmp) / file.filename
            sdist.write_bytes(data)
            command = [
                str(self.python),
                "-m",
                "pip",
                "wheel",
                "--no-deps",
                "--quiet",
                "--wheel-dir",
                str(out),
                str(sdist),
            ]
            try:
                done = subprocess.run(
                    command, capture_output=True, text=True, timeout=BUILD_TIMEOUT, check=False
                )
            except subprocess.TimeoutExpired:
                raise BuildError(
                    f"building {file.filename} took longer than {BUILD_TIMEOUT} s and was stopped"
                ) from None
            except OSError as exc:
                raise BuildError(
                    f"cannot run {self.python} to build {file.filename}: {exc}"
                ) from None
        built = sorted(out.glob("*.whl"))
        if done.returncode != 0 or not built:
            tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-25:])
            raise BuildError(
                f"building {file.filename} from source failed (exit {done.returncode}); "
                f"the build said:\n{tail}\nInstall a wheel instead, or fix the build requirements"
            )
        self._built[digest] = built[0]
        return built[0]

    def metadata(self, pick: Pick) -> str:
        """METADATA of the built wheel (an sdist's PKG-INFO may leave dependencies dynamic)."""
        path = self.wheel(pick)
        import zipfile  # only for a built wheel: not on the command line's start-up path

        with zipfile.ZipFile(path) as archive:
            name = next(
                n
                for n in archive.namelist()
                if n.count("/") == 1 and n.endswith(".dist-info/METADATA")
            )
            return archive.read(name).decode("utf-8", errors="replace")
