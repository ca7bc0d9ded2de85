"""The build hook compiles the native unpacker where it can and otherwise falls back, saying why."""

from __future__ import annotations

import hashlib
import importlib.util
import io
import shutil
import sysconfig
import zipfile
import zlib
from base64 import urlsafe_b64encode
from pathlib import Path
from types import ModuleType

import pytest

from hatch_build import SOURCE, _compile, build_extension
from tests.support.venvs import REPO_ROOT

SUFFIX = sysconfig.get_config_var("EXT_SUFFIX") or ".so"


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A source tree with only the extension's source and the headers beside it."""
    (tmp_path / SOURCE).parent.mkdir(parents=True)
    shutil.copy(REPO_ROOT / SOURCE, tmp_path / SOURCE)
    for header in (REPO_ROOT / SOURCE).parent.glob("*.h"):
        shutil.copy(header, (tmp_path / SOURCE).parent / header.name)
    return tmp_path


def _module(root: Path) -> Path:
    return (root / SOURCE).with_name("_unpack" + SUFFIX)


def _load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("_unpack", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(shutil.which("cc") is None, reason="no C compiler on this machine")
def test_the_built_module_imports_and_says_what_it_does(checkout: Path) -> None:
    built = build_extension(checkout)
    assert built == _module(checkout)
    assert _load(built).unpack(b"", [], None) == ([], False)


@pytest.mark.skipif(shutil.which("cc") is None, reason="no C compiler on this machine")
def test_without_libdeflate_the_module_builds_on_zlib_and_unpacks_the_same(
    checkout: Path, tmp_path: Path
) -> None:
    built = tmp_path / "zlib-only" / ("_unpack" + SUFFIX)
    built.parent.mkdir()
    done = _compile(checkout / SOURCE, built, libdeflate=False)
    assert done.returncode == 0, done.stderr
    module = _load(built)
    assert module.INFLATES_WHOLE is False
    data = b"import os\n" * 5000
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("pkg/big.py", data)
    member = zipfile.ZipFile(buffer).getinfo("pkg/big.py")
    target = tmp_path / "out" / "pkg" / "big.py"
    job = (member.header_offset, member.compress_size, 8, len(data), bytes(target), False, -1)
    results, _ = module.unpack(buffer.getvalue(), [job], None)
    digest = urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    assert results == [(digest, len(data))]
    assert target.read_bytes() == data
    raw = zlib.compress(data)[2:-4]  # the raw deflate stream, as a zip stores it
    assert module.inflate_small(raw, len(data)) == data


def test_without_a_compiler_the_build_says_why_and_leaves_no_module(
    checkout: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CC", "false")
    assert build_extension(checkout) is None
    assert "needs a C compiler" in capsys.readouterr().err
    assert list(_module(checkout).parent.glob("*_unpack*.so")) == []


def test_skipping_on_purpose_removes_a_module_left_from_an_earlier_build(
    checkout: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _module(checkout).write_bytes(b"stale")
    monkeypatch.setenv("WHEELNEXT_JUPYTER_NO_EXTENSION", "1")
    assert build_extension(checkout) is None
    assert "skipped" in capsys.readouterr().out
    assert not _module(checkout).exists()
