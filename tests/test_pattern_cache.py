"""Compiled regular expressions are kept between runs of the command line, like bytecode."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from wheelnext_jupyter import pattern_cache

pytestmark = pytest.mark.skipif(
    not hasattr(re, "_compiler"), reason="re is laid out otherwise before Python 3.11"
)

#: Patterns with what can differ between two compilations: groups, names, flags, bytes.
PATTERNS: list[tuple[str | bytes, int]] = [
    (r"^(?P<name>[a-z0-9]+)(?:-(?P<version>\d+(?:\.\d+)*))?$", 0),
    (
        r"""
        v?(?:(?P<epoch>[0-9]+)!)?        # epoch
        (?P<release>[0-9]+(?:\.[0-9]+)*) # release
     """,
        re.VERBOSE | re.IGNORECASE,
    ),
    (r"(a|b)*?c{2,5}\b", re.MULTILINE | re.DOTALL),
    (rb"[\x00-\x1f]+(?P<tail>.)", 0),
    (r"[^\W\d_]+", re.ASCII),
]
SAMPLES = ["pkg-1.2.3", "V1!2.0 ", "abacc\nccccc x", "\x01\x02z", "Straße 12", ""]


@pytest.fixture(autouse=True)
def _bytecode_written(monkeypatch: pytest.MonkeyPatch) -> None:
    """As where bytecode is written, whatever this test run's environment says."""
    monkeypatch.setattr(sys, "dont_write_bytecode", False)


def _fresh(pattern: str | bytes, flags: int) -> re.Pattern[str] | re.Pattern[bytes]:
    """The pattern compiled now, past `re`'s cache."""
    compiled: re.Pattern[str] | re.Pattern[bytes] = re._compiler.compile(pattern, flags)  # type: ignore[attr-defined]
    return compiled


def _key(pattern: str | bytes, flags: int) -> pattern_cache.Key:
    return (type(pattern), pattern, flags)


@pytest.fixture
def saved(tmp_path: Path) -> Path:
    """A file of `PATTERNS`, and `re`'s cache emptied as in a new process."""
    path = tmp_path / "patterns"
    for pattern, flags in PATTERNS:
        re.compile(pattern, flags)
    assert pattern_cache.save([_key(*item) for item in PATTERNS], str(path))
    re.purge()
    return path


def _restored(path: Path) -> dict[pattern_cache.Key, re.Pattern[str] | re.Pattern[bytes]]:
    """The patterns `restore` put into `re`'s cache, taken from it before anything compiles."""
    keys = pattern_cache.restore(str(path))
    assert keys == {_key(*item) for item in PATTERNS}
    cache = re._cache  # type: ignore[attr-defined]
    return {key: cache[key] for key in keys}


def test_restored_patterns_are_what_re_compile_returns(saved: Path) -> None:
    restored = _restored(saved)
    for pattern, flags in PATTERNS:
        assert re.compile(pattern, flags) is restored[_key(pattern, flags)]


def test_a_restored_pattern_equals_the_same_pattern_compiled_anew(saved: Path) -> None:
    # Patterns compare equal when their flags, text and the engine's instructions are equal.
    patterns = _restored(saved)
    for pattern, flags in PATTERNS:
        restored, fresh = patterns[_key(pattern, flags)], _fresh(pattern, flags)
        assert restored == fresh
        assert (restored.flags, restored.groups, restored.groupindex) == (
            fresh.flags,
            fresh.groups,
            fresh.groupindex,
        )


def test_a_restored_pattern_matches_as_the_pattern_compiled_anew(saved: Path) -> None:
    patterns = _restored(saved)
    for pattern, flags in PATTERNS:
        restored, fresh = patterns[_key(pattern, flags)], _fresh(pattern, flags)
        for sample in SAMPLES:
            text: str | bytes = (
                sample.encode("latin-1", "replace") if isinstance(pattern, bytes) else sample
            )
            found = [m.groupdict() or m.group() for m in restored.finditer(text)]  # type: ignore[arg-type]
            assert found == [m.groupdict() or m.group() for m in fresh.finditer(text)]  # type: ignore[arg-type]


def test_a_file_another_interpreter_wrote_is_ignored(saved: Path) -> None:
    identity, entries = pattern_cache._decode(saved.read_bytes())
    saved.write_bytes(
        pattern_cache._encode(((*identity[:-2], identity[-2] + 1, identity[-1]), entries))
    )
    assert pattern_cache.restore(str(saved)) == frozenset()
    assert _key(*PATTERNS[0]) not in re._cache  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "damage", ["truncated", "garbage", "empty", "flipped", "not a pair", "not a list"]
)
def test_a_damaged_file_is_ignored(saved: Path, damage: str) -> None:
    data = saved.read_bytes()
    identity, _ = pattern_cache._decode(data)
    saved.write_bytes(
        {
            "truncated": data[: len(data) // 2],
            "garbage": b"\xff" * 64,
            "empty": b"",
            "flipped": data[:-1] + bytes([data[-1] ^ 1]),
            "not a pair": pattern_cache._encode(None),
            "not a list": pattern_cache._encode((identity, {"a": 1})),
        }[damage]
    )
    assert pattern_cache.restore(str(saved)) == frozenset()


def test_instructions_the_engine_refuses_leave_out_that_pattern_only(saved: Path) -> None:
    identity, entries = pattern_cache._decode(saved.read_bytes())
    entries[0] = (*entries[0][:3], [255, 255, 255], *entries[0][4:])
    saved.write_bytes(pattern_cache._encode((identity, entries)))
    restored = pattern_cache.restore(str(saved))
    assert restored == {_key(*item) for item in PATTERNS[1:]}
    assert re.compile(*PATTERNS[0]) == _fresh(*PATTERNS[0])


def test_a_missing_file_restores_nothing(tmp_path: Path) -> None:
    assert pattern_cache.restore(str(tmp_path / "absent")) == frozenset()


def test_nothing_is_written_where_bytecode_is_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    assert not pattern_cache.save([_key(*PATTERNS[0])], str(tmp_path / "patterns"))
    assert list(tmp_path.iterdir()) == []


def test_a_place_that_cannot_be_written_is_no_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    assert not pattern_cache.save([_key(*PATTERNS[0])], str(blocker / "patterns"))
    assert sorted(path.name for path in tmp_path.iterdir()) == ["file"]


def test_patterns_whose_flags_are_left_to_re_are_not_saved(tmp_path: Path) -> None:
    path = tmp_path / "patterns"
    locale = (b"[a-z]+", re.LOCALE)
    re.compile(*locale)
    assert pattern_cache.save([_key(*locale), _key(*PATTERNS[0])], str(path))
    re.purge()
    assert pattern_cache.restore(str(path)) == {_key(*PATTERNS[0])}


def test_the_file_sits_beside_this_modules_bytecode() -> None:
    location = pattern_cache.location()
    assert location is not None
    cached = pattern_cache.__cached__
    assert Path(location).parent == Path(cached).parent
    assert Path(location).name.startswith(Path(cached).stem + ".")
    assert Path(location).suffix == ".patterns"


def test_two_builds_of_one_python_version_keep_a_file_each(monkeypatch: pytest.MonkeyPatch) -> None:
    first = pattern_cache.location()
    monkeypatch.setattr(sys, "version", sys.version + " (another build)")
    assert pattern_cache.location() != first


def test_a_pattern_res_internals_cannot_describe_is_left_out_without_failing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As with a future `re` whose parser is laid out otherwise.
    path = tmp_path / "patterns"
    parse = re._parser.parse  # type: ignore[attr-defined]

    def changed(pattern: str | bytes, flags: int = 0) -> object:
        if pattern == PATTERNS[0][0]:
            raise AttributeError("a parser laid out otherwise")
        return parse(pattern, flags)

    monkeypatch.setattr(re._parser, "parse", changed)  # type: ignore[attr-defined]
    assert pattern_cache.save([_key(*item) for item in PATTERNS[:2]], str(path))
    monkeypatch.undo()
    re.purge()
    assert pattern_cache.restore(str(path)) == {_key(*PATTERNS[1])}
