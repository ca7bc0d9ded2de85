"""Compiled regular expressions kept from one run of the command line to the next.

The command line's imports compile about eighty regular expressions (`packaging`'s grammar, the
standard library's, ours): some 15 ms of its start, all before its first request. `re` turns a
pattern into a list of instructions for its matching engine, and that list depends only on the
pattern, its flags and the interpreter. So, like bytecode, it is written once, next to this
module's own bytecode (in `__pycache__`, or under `sys.pycache_prefix`; not at all where
bytecode is not written), and at the next start the patterns are rebuilt from it straight into
`re`'s own cache, where `re.compile` finds them.

A file is used only by the interpreter that wrote it (same version and build, same format of
the engine's instructions); anything else, or anything unreadable or damaged (a checksum covers
the file), is ignored and the patterns compile as usual. The engine also checks every
instruction list it is given: an entry it refuses is left out. Interpreters whose `re` is laid
out otherwise (before 3.11) keep compiling their patterns. Nothing here ever fails a command:
at worst the patterns compile as they would without it.
"""

from __future__ import annotations

import _sre  # type: ignore[import-not-found]  # `re`'s engine, already loaded with it
import contextlib
import marshal
import os
import re
import sys
import zlib

TYPE_CHECKING = False  # mypy treats this name as true; `typing` stays off the start-up path
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from typing import Any

    #: `re`'s own cache key: the pattern's type, the pattern, its flags as an integer.
    Key = tuple[type, str | bytes, int]
    #: What `_sre.compile` takes after the pattern, and the flags `re.compile` was given.
    Entry = tuple[str | bytes, int, int, list[int], int, dict[str, int], tuple[str | None, ...]]

#: Changed whenever the file's layout changes.
FORMAT = 1
#: A file starts with these bytes, then the CRC-32 of the rest, then the rest (`marshal`).
#: Checked before anything is unmarshalled: a damaged length inside could ask for gigabytes.
_MAGIC = b"wnj-re" + FORMAT.to_bytes(2, "little")
_HEADER = len(_MAGIC) + 4
#: Patterns left to `re`: `DEBUG` prints as it compiles (and is never cached), `LOCALE` is kept
#: out to stay with the plainest cases, `TEMPLATE` (3.11) warns when used.
_LEFT_ALONE = re.DEBUG | re.LOCALE | getattr(re, "TEMPLATE", 0)


def location() -> str | None:
    """Where this interpreter's file is: beside this module's bytecode, named for the build too
    (two builds of one Python version that share a package directory keep a file each)."""
    cached = globals().get("__cached__")
    if not isinstance(cached, str):
        return None
    build = zlib.crc32(sys.version.encode()).to_bytes(4, "big").hex()
    return f"{os.path.splitext(cached)[0]}.{build}.patterns"  # noqa: PTH122 - pathlib costs milliseconds here


def _identity() -> tuple[object, ...]:
    return (
        sys.version,
        sys.hexversion,
        sys.implementation.cache_tag,
        _sre.MAGIC,
        _sre.CODESIZE,
    )


def _cache() -> dict[Key, re.Pattern[str] | re.Pattern[bytes]] | None:
    """`re`'s cache of compiled patterns, where its layout is the one this module knows."""
    cache = getattr(re, "_cache", None)
    if not isinstance(cache, dict) or not hasattr(re, "_compiler"):
        return None
    return cache


def restore(path: str | None = None) -> frozenset[Key]:
    """Put the patterns saved at `path` (by default `location()`) into `re`'s cache; the keys
    of those restored, none when there was no file this interpreter can use."""
    path = path if path is not None else location()
    cache = _cache()
    if path is None or cache is None:
        return frozenset()
    try:
        with open(path, "rb") as file:  # noqa: PTH123
            data = file.read()
        identity, entries = _decode(data)
    except (OSError, EOFError, ValueError, TypeError):
        return frozenset()
    if identity != _identity() or not isinstance(entries, list):
        return frozenset()
    build: Callable[..., re.Pattern[str] | re.Pattern[bytes]] = _sre.compile
    restored = []
    for entry in entries:
        try:
            pattern, flags, compiled_flags, code, groups, groupindex, indexgroup = entry
            if type(pattern) not in (str, bytes) or type(flags) is not int:
                continue
            compiled = build(pattern, compiled_flags, code, groups, groupindex, indexgroup)
        except (TypeError, ValueError, OverflowError, RuntimeError):
            continue  # RuntimeError: instructions the engine does not accept
        key = (type(pattern), pattern, flags)
        cache.setdefault(key, compiled)
        restored.append(key)
    return frozenset(restored)


def _encode(content: Any) -> bytes:
    """A file's bytes for `content`."""
    payload = marshal.dumps(content)
    return _MAGIC + zlib.crc32(payload).to_bytes(4, "little") + payload


def _decode(data: bytes) -> tuple[object, object]:
    """A file's content (an identity and entries); ValueError if it is not whole."""
    payload = memoryview(data)[_HEADER:]
    checksum = zlib.crc32(payload).to_bytes(4, "little")
    if data[: len(_MAGIC)] != _MAGIC or data[len(_MAGIC) : _HEADER] != checksum:
        raise ValueError("not a file of compiled patterns, or a damaged one")
    identity, entries = marshal.loads(payload)
    return identity, entries


def compiled() -> list[Key]:
    """The keys of the patterns `re` has compiled (and cached) so far."""
    cache = _cache()
    return list(cache) if cache is not None else []


def _entry(key: Key) -> Entry | None:
    """What `re._compiler.compile` hands the engine for `key`'s pattern, made the same way."""
    kind, pattern, flags = key
    if kind not in (str, bytes) or type(pattern) is not kind or not isinstance(flags, int):
        return None
    flags = int(flags)  # as `re` keys its cache: a `re.RegexFlag` by its value
    if flags & _LEFT_ALONE:
        return None
    # `re`'s own parser and code generator, not public: a version that changed them leaves the
    # pattern out rather than failing the command that is saving it.
    try:
        from re import _compiler, _parser  # type: ignore[attr-defined]

        parsed = _parser.parse(pattern, flags)
        code = _compiler._code(parsed, flags)
        groupindex = {str(name): int(index) for name, index in parsed.state.groupdict.items()}
        indexgroup: list[str | None] = [None] * parsed.state.groups
        for name, index in groupindex.items():
            indexgroup[index] = name
        return (
            pattern,
            flags,
            int(flags | parsed.state.flags),
            [int(instruction) for instruction in code],
            parsed.state.groups - 1,
            groupindex,
            tuple(indexgroup),
        )
    except Exception:  # see above
        return None


def save(keys: Iterable[Key], path: str | None = None) -> bool:
    """Write the patterns of `keys` (from `compiled()`) to `path` (by default `location()`),
    unless bytecode is not written; whether a file was written. Never raises: a directory that
    cannot be written only means the patterns compile again next time."""
    path = path if path is not None else location()
    if path is None or sys.dont_write_bytecode or _cache() is None:
        return False
    # Written whole and then renamed, as bytecode is: a run that starts meanwhile reads the old
    # file or the new one, never half of one. Opened first, so that where nothing can be
    # written no pattern is compiled again for nothing.
    partial = f"{path}.{os.getpid()}"
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)  # noqa: PTH103, PTH120
        with open(partial, "wb") as file:  # noqa: PTH123
            entries = [entry for entry in map(_entry, keys) if entry is not None]
            file.write(_encode((_identity(), entries)))
        os.replace(partial, path)  # noqa: PTH105
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(partial)  # noqa: PTH108
        return False
    return True


__all__ = ["FORMAT", "compiled", "location", "restore", "save"]
