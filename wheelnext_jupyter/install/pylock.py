"""Write what an install put into an environment as a PEP 751 lock file (`pylock.toml`).

Every wheel is locked by filename, size and sha256. A variant wheel's package carries its
variant metadata inline as `[packages.variants-json]` (PEP 825): the wheel's own `variant.json`,
`$schema` kept, narrowed to the label that was installed (PEP 825 lets a lock drop the labels
of wheels it does not list; the listed label's entry stays complete).

Where the files came from (PEP 766 advises recording the index of each package) is recorded by
the index's *name*: lock files carry no registry URLs. PyPI — recognised by comparing with pip's
own default index at run time — is named "pypi" and no URL of it is written: a file is found again
there by its name and hash. An index the user configured themselves (a company mirror, a
project's own index) also gets its URL, without credentials, in `packages.index` and in each
wheel's `url`; a local find-links file gets its `path`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from wheelnext_jupyter.index.redact import strip_credentials
from wheelnext_jupyter.paths import file_url_path

if TYPE_CHECKING:
    from wheelnext_jupyter.engine import FetchedWheel, InstallResult
    from wheelnext_jupyter.index.sources import SourceRef

LOCK_VERSION = "1.0"
CREATED_BY = "wheelnext-jupyter"
#: The name PyPI gets in lock files (PEP 766 names indexes; PyPI's URL is never written).
PYPI_NAME = "pypi"
_TOOL = "wheelnext-jupyter"
_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


class LockWriteError(RuntimeError):
    """The lock file cannot be written; the message names the file and the reason."""


@dataclass(frozen=True)
class LockedIndex:
    """Where a package came from, as a lock file records it."""

    name: str
    #: The index URL without credentials; None for PyPI and for local directories.
    url: str | None = None


@dataclass(frozen=True)
class LockedWheel:
    """One installed wheel with everything its `[[packages]]` entry needs."""

    name: str
    version: str
    filename: str
    sha256: str
    size: int
    index: LockedIndex | None
    #: Download URL without credentials (non-PyPI indexes only).
    url: str | None = None
    #: Local file (find-links directory, or a wheel built here).
    path: str | None = None
    upload_time: datetime | None = None
    requires_python: str | None = None
    label: str | None = None
    #: The variant metadata document to inline (PEP 825), already narrowed to `label`.
    variants_json: Mapping[str, object] | None = None


def index_for(ref: SourceRef, *, default_index: str | None) -> LockedIndex:
    """How a source is named in the lock; `default_index` is pip's default (PyPI) URL."""
    url, _ = strip_credentials(ref.url)
    named = ref.name != ref.url
    if ref.kind == "find-links":
        return LockedIndex(ref.name if named else "find-links")
    if ref.kind == "lock":
        # Files another lock named by URL: looked up again by name and hash, as PyPI's are.
        return LockedIndex("lock file")
    if default_index is not None and _same_index(url, default_index):
        return LockedIndex(ref.name if named else PYPI_NAME)
    return LockedIndex(ref.name if named else url, url)


def _same_index(a: str, b: str) -> bool:
    return a.rstrip("/").lower() == strip_credentials(b)[0].rstrip("/").lower()


def narrowed_variants_json(document: Mapping[str, object], label: str) -> dict[str, object]:
    """The variant metadata with only `label`'s entry under `variants` (everything else kept)."""
    out = dict(document)
    variants = document.get("variants")
    if isinstance(variants, Mapping):
        out["variants"] = {k: v for k, v in variants.items() if k == label}
    return out


def variants_document(variant_json: bytes | None) -> dict[str, object] | None:
    """A wheel's `*.dist-info/variant.json` (as the installer read it) as a document, or None."""
    if variant_json is None:
        return None
    loaded = json.loads(variant_json)
    return loaded if isinstance(loaded, dict) else None


def locked_wheels(result: InstallResult) -> list[LockedWheel]:
    """The lock entries of an install's wheels, in plan order."""
    from wheelnext_jupyter.index.config import pip_default_index
    from wheelnext_jupyter.index.errors import ConfigError

    try:
        default_index: str | None = pip_default_index()
    except ConfigError:
        default_index = None
    return [_locked(fetched, default_index) for fetched in result.wheels]


def _locked(fetched: FetchedWheel, default_index: str | None) -> LockedWheel:
    package = fetched.package
    candidate = package.pick.candidate
    assert candidate is not None
    file = candidate.file
    index = (
        None if fetched.source is None else index_for(fetched.source, default_index=default_index)
    )
    url = path = None
    if fetched.source is None or urlsplit(file.url).scheme == "file":
        local = fetched.path if fetched.source is None else file_url_path(file.url)
        path = str(local)
    elif index is not None and index.url is not None:
        url = strip_credentials(file.url)[0]
    label = package.pick.label
    variants = None
    if label is not None:
        document = variants_document(fetched.variant_json)
        variants = narrowed_variants_json(document, label) if document is not None else None
    return LockedWheel(
        name=package.name,
        version=str(package.version),
        filename=fetched.filename,
        sha256=fetched.sha256,
        size=fetched.size,
        index=index,
        url=url,
        path=path,
        upload_time=_timestamp(file.upload_time) if fetched.source is not None else None,
        requires_python=file.requires_python,
        label=label,
        variants_json=variants,
    )


def _timestamp(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def render_pylock(
    wheels: Sequence[LockedWheel],
    *,
    environment: Mapping[str, str] | None = None,
    created_by: str = CREATED_BY,
) -> str:
    """The lock file text. `environment` (the target's marker values) limits where it applies."""
    lines = [f"lock-version = {_value(LOCK_VERSION)}"]
    if environment is not None:
        lines.append(f"environments = {_value([environment_marker(environment)])}")
        version = environment.get("python_version")
        if version:
            lines.append(f"requires-python = {_value(f'=={version}.*')}")
    lines.append(f"created-by = {_value(created_by)}")
    for wheel in sorted(wheels, key=lambda w: w.name):
        lines += ["", "[[packages]]", f"name = {_value(wheel.name)}"]
        lines.append(f"version = {_value(wheel.version)}")
        if wheel.requires_python:
            lines.append(f"requires-python = {_value(wheel.requires_python)}")
        if wheel.index is not None and wheel.index.url is not None:
            lines.append(f"index = {_value(wheel.index.url)}")
        entry: dict[str, object] = {"name": wheel.filename}
        if wheel.upload_time is not None:
            entry["upload-time"] = wheel.upload_time
        if wheel.url is not None:
            entry["url"] = wheel.url
        if wheel.path is not None:
            entry["path"] = wheel.path
        entry["size"] = wheel.size
        entry["hashes"] = {"sha256": wheel.sha256}
        lines.append(f"wheels = [{_value(entry)}]")
        if wheel.variants_json is not None:
            _table(lines, ["packages", "variants-json"], wheel.variants_json)
        tool: dict[str, object] = {}
        if wheel.index is not None:
            tool["index"] = wheel.index.name
        if wheel.label is not None:
            tool["variant"] = wheel.label
        if tool:
            _table(lines, ["packages", "tool", _TOOL], tool)
    return "\n".join(lines) + "\n"


def environment_marker(environment: Mapping[str, str]) -> str:
    """A PEP 508 marker that holds on the target only (the keys a wheel's tags depend on)."""
    keys = ("sys_platform", "platform_machine", "implementation_name", "python_version")
    return " and ".join(f"{k} == {json.dumps(environment[k])}" for k in keys if k in environment)


def write_pylock(result: InstallResult, path: str | Path) -> Path:
    """Write the lock of `result` to `path` (conventionally `pylock.toml`)."""
    target = Path(path)
    text = render_pylock(locked_wheels(result), environment=result.result.target.markers)
    try:
        target.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise LockWriteError(
            f"cannot write the lock file {target}: {exc.strerror}; choose a writable path"
        ) from None
    return target


def lock_not_written(*, dry_run: bool) -> str:
    """Why `--lock` wrote no file for a dry run or a plan that installs nothing: a lock
    records what an install wrote, and an empty one would replace a good one."""
    if dry_run:
        return (
            "no lock file written: a dry run installs nothing, and a lock records what an "
            "install wrote"
        )
    return (
        "no lock file written: nothing was installed, and a lock records what an install wrote "
        "(--force-reinstall installs, and locks, the packages again)"
    )


# --- a small TOML writer (the standard library reads TOML but does not write it) ---------------


def _key(key: str) -> str:
    return key if _BARE_KEY.match(key) else _string(key)


def _string(text: str) -> str:
    # JSON string escapes are a subset of TOML basic-string escapes.
    return json.dumps(text, ensure_ascii=False)


def _value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        inner = ", ".join(f"{_key(str(k))} = {_value(v)}" for k, v in value.items())
        return "{ " + inner + " }" if inner else "{}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if value is None:
        raise LockWriteError("TOML has no null; a lock value was empty")
    raise LockWriteError(f"cannot write a {type(value).__name__} into TOML")


def _table(lines: list[str], path: list[str], table: Mapping[str, object]) -> None:
    """`[a.b]` with its plain keys, then each nested mapping as its own sub-table."""
    lines += ["", "[" + ".".join(_key(p) for p in path) + "]"]
    nested = []
    for key, value in table.items():
        if value is None:
            continue
        if isinstance(value, Mapping):
            nested.append((key, value))
        else:
            lines.append(f"{_key(str(key))} = {_value(value)}")
    for key, value in nested:
        _table(lines, [*path, str(key)], value)


__all__ = [
    "CREATED_BY",
    "LOCK_VERSION",
    "PYPI_NAME",
    "LockWriteError",
    "LockedIndex",
    "LockedWheel",
    "environment_marker",
    "index_for",
    "lock_not_written",
    "locked_wheels",
    "narrowed_variants_json",
    "render_pylock",
    "variants_document",
    "write_pylock",
]
