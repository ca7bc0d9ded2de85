"""A wheel installed a second time is hard links to its unpacked copy in the cache."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.support.venvs import Venv
from tests.support.wheels import build_wheel, sha256_hex
from wheelnext_jupyter.install import staging, unpacked_cache
from wheelnext_jupyter.install.staging import StagingArea
from wheelnext_jupyter.install.target import probe_target
from wheelnext_jupyter.install.transaction import PlannedWheel, install_wheels
from wheelnext_jupyter.install.unpacked_cache import MANIFEST, UnpackedCache

pytestmark = pytest.mark.usefixtures("unpacker")


@pytest.fixture
def wheel(tmp_path: Path) -> Path:
    return build_wheel(
        tmp_path / "w",
        "cached",
        "1.0",
        console_scripts={"cached-cli": "cached:main"},
        files={"cached-1.0.data/scripts/cached-tool": b"#!python\nprint('tool')\n"},
    ).path


@pytest.fixture
def cache(tmp_path: Path) -> UnpackedCache:
    return UnpackedCache(tmp_path / "cache" / "unpacked")


@pytest.fixture
def second_venv(venv_template: Path, tmp_path: Path) -> Venv:
    root = tmp_path / "second"
    shutil.copytree(venv_template, root, symlinks=True)
    return Venv(root)


def _install(venv: Venv, wheel: Path, cache: UnpackedCache) -> None:
    target = probe_target(venv.python)
    with StagingArea(target, cache) as area:
        staged = area.stage(wheel, sha256=sha256_hex(wheel.read_bytes()))
        install_wheels([PlannedWheel(staged.wheel, staged=staged)], target)


def _module(venv: Venv) -> Path:
    return venv.site_packages / "cached" / "__init__.py"


def test_the_first_install_fills_the_cache_and_the_second_links_to_it(
    venv: Venv, second_venv: Venv, wheel: Path, cache: UnpackedCache
) -> None:
    _install(venv, wheel, cache)
    assert cache.lookup(sha256_hex(wheel.read_bytes())) is not None
    _install(second_venv, wheel, cache)
    assert _module(venv).samefile(_module(second_venv))
    out = second_venv.run("-c", "import cached; print(cached.__name__)")
    assert out.stdout.strip() == "cached"


def test_linked_installs_have_the_same_record_as_unpacked_ones(
    venv: Venv, second_venv: Venv, wheel: Path, cache: UnpackedCache
) -> None:
    _install(venv, wheel, cache)
    _install(second_venv, wheel, cache)
    record = "cached-1.0.dist-info/RECORD"
    first = (venv.site_packages / record).read_text().splitlines()
    second = (second_venv.site_packages / record).read_text().splitlines()
    # Scripts name their own environment's interpreter; every other row is identical.
    assert [r for r in first if "/bin/" not in r] == [r for r in second if "/bin/" not in r]
    assert len(first) == len(second)


def test_scripts_from_the_cache_name_their_own_interpreter(
    venv: Venv, second_venv: Venv, wheel: Path, cache: UnpackedCache
) -> None:
    _install(venv, wheel, cache)
    _install(second_venv, wheel, cache)
    for environment in (venv, second_venv):
        tool = environment.root / "bin" / "cached-tool"
        assert tool.read_text().splitlines()[0] == f"#!{environment.python}"
        assert os.access(tool, os.X_OK)
        done = subprocess.run([str(tool)], capture_output=True, text=True, check=True)
        assert done.stdout.strip() == "tool"


def test_a_file_changed_in_place_in_one_environment_never_reaches_the_next(
    venv: Venv, second_venv: Venv, wheel: Path, cache: UnpackedCache
) -> None:
    _install(venv, wheel, cache)
    original = _module(venv).read_bytes()
    with _module(venv).open("ab") as file:  # an in-place edit changes the shared inode
        file.write(b"\nEDITED = True\n")
    _install(second_venv, wheel, cache)
    assert _module(second_venv).read_bytes() == original
    assert not _module(venv).samefile(_module(second_venv))
    # The entry was made again from the archive and serves the next install.
    assert cache.lookup(sha256_hex(wheel.read_bytes())) is not None


def test_a_cached_file_rewritten_with_the_same_size_is_not_linked(
    venv: Venv, second_venv: Venv, wheel: Path, cache: UnpackedCache
) -> None:
    _install(venv, wheel, cache)
    original = _module(venv).read_bytes()
    _module(venv).write_bytes(original.replace(b"def", b"DEF"))  # same size, later time
    _install(second_venv, wheel, cache)
    assert _module(second_venv).read_bytes() == original


def test_a_file_missing_from_a_cache_entry_makes_the_wheel_unpack_again(
    venv: Venv, second_venv: Venv, wheel: Path, cache: UnpackedCache
) -> None:
    _install(venv, wheel, cache)
    entry = cache.root / sha256_hex(wheel.read_bytes())
    cached_module = next(
        path for path in entry.rglob("*") if path.is_file() and path.samefile(_module(venv))
    )
    cached_module.unlink()
    _install(second_venv, wheel, cache)
    assert second_venv.run("-c", "import cached").returncode == 0
    assert not _module(venv).samefile(_module(second_venv))


def test_pip_uninstall_of_a_linked_install_leaves_the_cache_usable(
    venv: Venv, second_venv: Venv, wheel: Path, cache: UnpackedCache
) -> None:
    _install(venv, wheel, cache)
    venv.pip("uninstall", "-y", "cached")
    assert not _module(venv).exists()
    _install(second_venv, wheel, cache)
    assert _module(second_venv).stat().st_nlink == 2  # the cache's copy and this one


def test_a_cache_on_another_file_system_is_not_used(venv: Venv, wheel: Path) -> None:
    shm = Path("/dev/shm")
    if not shm.is_dir() or shm.stat().st_dev == venv.root.stat().st_dev:
        pytest.skip("needs a second file system (/dev/shm)")
    with tempfile.TemporaryDirectory(dir=shm) as other:
        cache = UnpackedCache(Path(other) / "unpacked")
        _install(venv, wheel, cache)
        assert cache.lookup(sha256_hex(wheel.read_bytes())) is None
        assert _module(venv).stat().st_nlink == 1


def test_a_damaged_manifest_is_ignored_and_the_wheel_unpacked(
    venv: Venv, second_venv: Venv, wheel: Path, cache: UnpackedCache
) -> None:
    _install(venv, wheel, cache)
    (cache.root / sha256_hex(wheel.read_bytes()) / MANIFEST).write_bytes(b"\x00not marshal")
    _install(second_venv, wheel, cache)
    assert not _module(venv).samefile(_module(second_venv))
    assert second_venv.run("-c", "import cached").returncode == 0


def test_an_entry_without_a_manifest_of_either_format_is_left_alone(tmp_path: Path) -> None:
    # Only an entry another format made is removed: a directory appearing meanwhile is
    # another process's entry just renamed into place.
    cache = UnpackedCache(tmp_path)
    (tmp_path / ("ab" * 32)).mkdir()
    assert cache.lookup("ab" * 32) is None
    assert (tmp_path / ("ab" * 32)).is_dir()


def test_links_the_file_system_refuses_fall_back_to_unpacking(
    venv: Venv,
    second_venv: Venv,
    wheel: Path,
    cache: UnpackedCache,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _install(venv, wheel, cache)

    def refuse(source: str, destination: str) -> None:
        raise OSError(errno.EMLINK, "Too many links", source)

    monkeypatch.setattr(os, "link", refuse)
    if staging._native is not None:
        # The native linker meets the same refusal (a file system's link limit cannot be
        # reached here): everything else of the native module stays as it is.
        native = staging._native

        def refuse_all(
            source_dir: bytes, jobs: object, created_ns: int, base_dir: bytes | None = None
        ) -> None:
            raise OSError(errno.EMLINK, "Too many links", os.fsdecode(source_dir))

        monkeypatch.setattr(
            staging, "_native", SimpleNamespace(**{**vars(native), "link": refuse_all})
        )
    _install(second_venv, wheel, cache)
    assert not _module(venv).samefile(_module(second_venv))
    assert second_venv.run("-c", "import cached").returncode == 0


def test_a_cache_entry_whose_links_fail_while_unpacking_is_not_kept(
    venv: Venv, wheel: Path, cache: UnpackedCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_draft = UnpackedCache.draft

    def vanishing(self: UnpackedCache, wheel_sha256: str) -> unpacked_cache.EntryDraft | None:
        draft = make_draft(self, wheel_sha256)
        assert draft is not None
        # A file where the draft's first subdirectory goes: no member can be linked there.
        (Path(draft.directory) / "0").write_text("in the way")
        return draft

    monkeypatch.setattr(UnpackedCache, "draft", vanishing)
    _install(venv, wheel, cache)
    assert venv.run("-c", "import cached").returncode == 0
    assert cache.lookup(sha256_hex(wheel.read_bytes())) is None
