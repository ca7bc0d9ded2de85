"""Every check `verify_wheel` makes before a wheel may be written."""

from __future__ import annotations

import csv
import json
import posixpath
import re
import zipfile
from pathlib import Path

import pytest

from tests.install.tampering import rewrite_wheel
from tests.support.wheels import build_wheel, variant_document
from wheelnext_jupyter.install import wheelfile
from wheelnext_jupyter.install.target import current_target
from wheelnext_jupyter.install.wheelfile import (
    IncompatibleWheel,
    InvalidWheel,
    PathEscape,
    RecordMismatch,
    VariantMismatch,
    all_normalised,
    verify_wheel,
)

INIT = "demo_pkg/__init__.py"
DIST_INFO = "demo_pkg-1.0.dist-info"


@pytest.fixture
def good(tmp_path: Path) -> Path:
    return build_wheel(tmp_path / "good", "demo-pkg", "1.0").path


def test_plain_wheel_passes_and_lists_every_member_but_record(good: Path) -> None:
    verified = verify_wheel(good, current_target())
    assert verified.name == "demo-pkg"
    assert str(verified.version) == "1.0"
    assert verified.dist_info == DIST_INFO
    assert verified.root_is_purelib is True
    assert {e.path for e in verified.entries} == {
        INIT,
        f"{DIST_INFO}/METADATA",
        f"{DIST_INFO}/WHEEL",
    }


def test_variant_wheel_passes_and_keeps_its_label(tmp_path: Path) -> None:
    built = build_wheel(
        tmp_path, "demo-pkg", "1.0", label="cu12", variant={"nvidia": {"cuda": ["12"]}}
    )
    verified = verify_wheel(built.path, current_target())
    assert verified.label == "cu12"
    assert verified.variant_metadata is not None
    assert "cu12" in verified.variant_metadata.variants


def test_changed_file_with_stale_record_is_a_record_mismatch(good: Path, tmp_path: Path) -> None:
    bad = rewrite_wheel(
        good, tmp_path / "bad" / good.name, replace={INIT: b"x = 1\n"}, fix_record=False
    )
    with pytest.raises(RecordMismatch, match=r"demo_pkg/__init__\.py has sha256="):
        verify_wheel(bad)


def test_member_missing_from_record_is_refused(good: Path, tmp_path: Path) -> None:
    bad = rewrite_wheel(
        good, tmp_path / "bad" / good.name, add={"demo_pkg/extra.py": b""}, fix_record=False
    )
    with pytest.raises(
        RecordMismatch, match=re.escape("extra.py is in the archive but not in RECORD")
    ):
        verify_wheel(bad)


@pytest.mark.parametrize(
    "member",
    [
        "../evil.py",
        "/tmp/evil.py",
        "demo_pkg/../../evil.py",
        "demo_pkg-1.0.data/elsewhere/x",
        "C:/evil.py",
        "\\evil.py",
        "demo_pkg\\..\\..\\evil.py",
    ],
)
def test_member_escaping_the_scheme_is_a_path_escape(
    good: Path, tmp_path: Path, member: str
) -> None:
    bad = rewrite_wheel(good, tmp_path / "bad" / good.name, add={member: b"boom\n"})
    with pytest.raises(PathEscape):
        verify_wheel(bad)


def test_a_record_path_written_unnormalised_is_matched_by_its_normal_form(
    good: Path, tmp_path: Path
) -> None:
    # Matched to the member `demo_pkg/__init__.py` (so that is not reported as unrecorded),
    # then refused as written: RECORD must name members exactly.
    with zipfile.ZipFile(good) as archive:
        record = archive.read(f"{DIST_INFO}/RECORD").decode()
    odd = rewrite_wheel(
        good,
        tmp_path / "odd" / good.name,
        replace={f"{DIST_INFO}/RECORD": record.replace(f"{INIT},", f"./{INIT},").encode()},
        fix_record=False,
    )
    with pytest.raises(RecordMismatch, match=re.escape(f"RECORD lists ./{INIT}, which is not")):
        verify_wheel(odd)


@pytest.mark.parametrize(
    ("paths", "expected"),
    [
        (["a/b.py", "a/.hidden/c"], True),  # a name starting with a dot is no `.` part
        (["a/b.py", "pkg-1.0.dist-info/RECORD"], True),
        (["..a/b", "c/d.."], True),
        (["a/.."], False),
        ([".."], False),
        ([""], False),
        (["/abs"], False),
        (["a//b"], False),
        (["a/./b"], False),
        (["a/../b"], False),
        (["./a"], False),
        (["a/."], False),
        (["a/"], False),
        (["."], False),
        (["a\n/b"], False),  # a newline in a name: a false "no", never a false "yes"
    ],
)
def test_all_normalised_never_passes_a_path_normpath_would_change(
    paths: list[str], expected: bool
) -> None:
    assert all_normalised(paths) is expected
    if expected:
        assert all(posixpath.normpath(p) == p for p in paths)


class _Record:
    """An archive with only a RECORD, for `_verify_record`."""

    def __init__(self, text: str) -> None:
        self.text = text

    def file_names(self) -> list[str]:
        return []

    def read(self, name: str) -> bytes:
        return self.text.encode()


_ROWS = ["p/a.py,sha256=AAA,1", "p/b.py,sha256=BBB,22", "p-1.dist-info/RECORD,,"]


@pytest.mark.parametrize(
    "text",
    [
        "\n".join(_ROWS) + "\n",
        "\r\n".join(_ROWS) + "\r\n",
        "\n".join(reversed(_ROWS)),
        "\n\n".join(_ROWS) + "\n\n",
        "\n".join(_ROWS).replace("\n", "\r\n", 1),  # line ends of both kinds
        "\n".join(_ROWS).replace("\n", "\r", 1),  # a lone carriage return
        '"p/a.py",sha256=AAA,1\np/b.py,sha256=BBB,22\n',
        "p/a.py,sha256=AAA\np/b.py,sha256=BBB,22,x\n",  # two and four fields
        "p/a.py,sha256=AAA,1\np/b.py,sha512=BBB,2\n",
        "p/a.py,md5=AAA,1\n",
        "p/a.py,sha256=,1\n",
        "p/a.py,sha256,1\n",
        "p/a.py,sha256=AAA, 1\np/b.py,sha256=BBB,x\n",
        "p/a.py,sha256=AAA,1\np/absent.py,sha256=BBB,2\n",
        "p/a.py,sha256=AAA,1\np-1.dist-info/RECORD\n",
        "p/a.py,sha256=AAA,1\np/a.py,sha256=CCC,3\np/b.py,sha256=BBB,2\n",
        "",
    ],
)
def test_record_read_at_once_is_read_as_row_by_row(
    text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def outcome() -> object:
        names = {"p/a.py", "p/b.py", "p-1.dist-info/RECORD"}
        try:
            return wheelfile._verify_record(
                _Record(text), "w.whl", "p-1.dist-info", "p-1.data", names
            )
        except (RecordMismatch, PathEscape, csv.Error) as exc:
            return f"{type(exc).__name__}: {exc}"

    at_once = outcome()
    monkeypatch.setattr(wheelfile, "_plain_record", lambda *_: None)
    assert at_once == outcome()


@pytest.mark.parametrize("end", ["\n", "\r\n"])
def test_a_plain_record_is_read_at_once(end: str) -> None:
    names = {"p/a.py", "p/b.py", "p-1.dist-info/RECORD"}
    read = wheelfile._plain_record(end.join(_ROWS) + end, names, {"p-1.dist-info/RECORD"})
    assert read is not None
    assert [tuple(entry) for entry in read.values()] == [
        ("p/a.py", "sha256", "AAA", 1),
        ("p/b.py", "sha256", "BBB", 22),
    ]


def test_dist_info_name_must_match_the_filename(good: Path, tmp_path: Path) -> None:
    other = build_wheel(tmp_path / "other", "other-pkg", "1.0").path
    renamed = tmp_path / "bad" / good.name
    renamed.parent.mkdir()
    renamed.write_bytes(other.read_bytes())
    with pytest.raises(InvalidWheel, match=re.escape("other_pkg-1.0.dist-info does not match")):
        verify_wheel(renamed)


def test_wheel_version_2_is_refused(good: Path, tmp_path: Path) -> None:
    wheel_file = b"Wheel-Version: 2.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    bad = rewrite_wheel(
        good, tmp_path / "bad" / good.name, replace={f"{DIST_INFO}/WHEEL": wheel_file}
    )
    with pytest.raises(InvalidWheel, match=re.escape("Wheel-Version '2.0' is not supported")):
        verify_wheel(bad)


def test_weak_record_hash_is_refused(good: Path, tmp_path: Path) -> None:
    import zipfile

    with zipfile.ZipFile(good) as archive:
        record = archive.read(f"{DIST_INFO}/RECORD").decode()
    weak = record.replace("sha256=", "md5=", 1).encode()
    bad = rewrite_wheel(
        good, tmp_path / "bad" / good.name, replace={f"{DIST_INFO}/RECORD": weak}, fix_record=False
    )
    with pytest.raises(RecordMismatch, match="'md5'"):
        verify_wheel(bad)


def test_tags_the_target_does_not_support_are_refused(tmp_path: Path) -> None:
    built = build_wheel(
        tmp_path,
        "demo-pkg",
        "1.0",
        python_tag="cp27",
        abi_tag="cp27mu",
        platform_tag="manylinux1_x86_64",
    )
    with pytest.raises(IncompatibleWheel, match="cp27-cp27mu-manylinux1_x86_64 are not supported"):
        verify_wheel(built.path, current_target())


def test_variant_wheel_without_variant_json_is_refused(tmp_path: Path) -> None:
    built = build_wheel(tmp_path, "demo-pkg", "1.0", label="cu12", variant={})
    bad = rewrite_wheel(
        built.path, tmp_path / "bad" / built.filename, drop=(f"{DIST_INFO}/variant.json",)
    )
    with pytest.raises(VariantMismatch, match=re.escape("variant.json is missing")):
        verify_wheel(bad)


def test_variant_json_naming_another_label_is_refused(tmp_path: Path) -> None:
    doc = variant_document({"cu13": {"nvidia": {"cuda": ["13"]}}})
    built = build_wheel(tmp_path, "demo-pkg", "1.0", label="cu12", variant_json=doc)
    with pytest.raises(
        VariantMismatch, match=r"names variant\(s\) cu13, not the filename's label 'cu12'"
    ):
        verify_wheel(built.path)


def test_unparseable_variant_json_is_refused(tmp_path: Path) -> None:
    built = build_wheel(tmp_path, "demo-pkg", "1.0", label="cu12", variant={})
    broken = json.dumps(["not", "an", "object"]).encode()
    bad = rewrite_wheel(
        built.path, tmp_path / "bad" / built.filename, replace={f"{DIST_INFO}/variant.json": broken}
    )
    with pytest.raises(VariantMismatch, match="unreadable"):
        verify_wheel(bad)


def test_entry_points_are_read_with_the_other_metadata(tmp_path: Path) -> None:
    built = build_wheel(tmp_path, "demo-pkg", "1.0", console_scripts={"demo": "demo_pkg:main"})
    verified = verify_wheel(built.path)
    assert verified.entry_points is not None
    assert "demo = demo_pkg:main" in verified.entry_points


def test_entry_points_that_are_not_utf8_are_refused(tmp_path: Path) -> None:
    built = build_wheel(tmp_path, "demo-pkg", "1.0", console_scripts={"demo": "demo_pkg:main"})
    member = f"{DIST_INFO}/entry_points.txt"
    bad = rewrite_wheel(
        built.path,
        tmp_path / "bad" / built.path.name,
        replace={member: b"[console_scripts]\ndemo\xff = demo_pkg:main\n"},
    )
    with pytest.raises(InvalidWheel, match=re.escape(f"{member} is not UTF-8 text")):
        verify_wheel(bad)
