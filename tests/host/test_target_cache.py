"""archspec's CPU match is kept on disk so that a new kernel does not import archspec again."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from wheelnext_jupyter.host import target_cache
from wheelnext_jupyter.host.cpu import TargetMatch, detect_cpu, match_target

CPUINFO = Path(__file__).parents[1] / "data" / "cpuinfo"  # recorded, MIT (LICENSE-MIT there)


def haswell(tmp_path: Path) -> Path:
    (tmp_path / "proc").mkdir()
    (tmp_path / "proc" / "cpuinfo").write_bytes((CPUINFO / "linux-rhel7-haswell").read_bytes())
    return tmp_path


@pytest.fixture(autouse=True)
def no_memory_cache() -> object:
    match_target.cache_clear()
    yield
    match_target.cache_clear()


def test_a_match_read_back_from_the_cache_equals_archspec_answer(
    tmp_path: Path, private_cache_dir: Path
) -> None:
    info = detect_cpu(root=haswell(tmp_path), machine="x86_64")
    computed = match_target(info)
    assert list(private_cache_dir.iterdir()), "the first match is written to the cache"
    match_target.cache_clear()
    cached = match_target(info)
    assert isinstance(cached, TargetMatch)
    assert cached == computed
    assert cached.name == "haswell"
    assert cached.generic == "x86_64_v3"


def test_a_new_interpreter_answers_from_the_cache_without_archspec(
    tmp_path: Path, private_cache_dir: Path
) -> None:
    root = haswell(tmp_path)
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from wheelnext_jupyter.host.cpu import detect_cpu, match_target\n"
        f"m = match_target(detect_cpu(root=Path({str(root)!r}), machine='x86_64'))\n"
        "print(m.name, m.generic, len(m.features), 'archspec' in sys.modules)\n"
    )

    def run() -> str:
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        return done.stdout.strip()

    first, second = run(), run()
    assert first.endswith(" True")
    assert second == first.replace(" True", " False")


def test_a_corrupt_cache_file_is_ignored_and_replaced(
    tmp_path: Path, private_cache_dir: Path
) -> None:
    path = target_cache.cache_file(private_cache_dir)
    path.write_bytes(b"\x00not marshal data")
    match = match_target(detect_cpu(root=haswell(tmp_path), machine="x86_64"))
    assert match is not None and match.name == "haswell"
    match_target.cache_clear()
    assert match_target(detect_cpu(root=tmp_path, machine="x86_64")) == match


def test_an_empty_cache_directory_variable_switches_the_cache_off(
    tmp_path: Path, private_cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(target_cache.CACHE_DIR_VARIABLE, "")
    assert target_cache.cache_dir() is None
    match_target(detect_cpu(root=haswell(tmp_path), machine="x86_64"))
    assert list(private_cache_dir.iterdir()) == []


def test_archspec_pointed_at_other_json_is_not_cached(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARCHSPEC_CPU_DIR", "/elsewhere")
    assert target_cache.fingerprint(__file__) is None


def test_an_entry_is_found_only_under_its_own_key(private_cache_dir: Path) -> None:
    target_cache.store(("archspec stamp A", "x86_64"), ("answer A",))
    assert target_cache.load(("archspec stamp A", "x86_64")) == ("answer A",)
    assert target_cache.load(("archspec stamp B", "x86_64")) is None


def test_only_the_newest_entries_are_kept(private_cache_dir: Path) -> None:
    for n in range(target_cache.MAX_ENTRIES + 3):
        target_cache.store(("key", n), ("value", n))
    assert target_cache.load(("key", 0)) is None
    last = target_cache.MAX_ENTRIES + 2
    assert target_cache.load(("key", last)) == ("value", last)
