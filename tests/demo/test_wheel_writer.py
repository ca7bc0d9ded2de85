"""The demo's wheel writer makes real wheels: valid RECORD, metadata, variant.json, importable."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

from wheelnext_jupyter.demo.wheel_writer import WheelSpec, write_wheel

VARIANT_DOC = {
    "$schema": "https://variants-schema.wheelnext.dev/v0.0.3.json",
    "default-priorities": {"namespace": ["x86_64"]},
    "providers": {"x86_64": {"requires": ["provider-variant-x86-64"]}},
    "variants": {"x8664v3": {"x86_64": {"level": ["v3"]}}},
}


def _variant_spec() -> WheelSpec:
    return WheelSpec(
        name="Demo.Pkg",
        version="2.0",
        label="x8664v3",
        variant_json=VARIANT_DOC,
        build_description="v3 build",
    )


def test_variant_wheel_is_named_with_its_label(tmp_path: Path) -> None:
    written = write_wheel(tmp_path, _variant_spec())
    assert written.path.name == "demo_pkg-2.0-py3-none-any-x8664v3.whl"


def test_plain_wheel_has_the_standard_five_part_name(tmp_path: Path) -> None:
    written = write_wheel(tmp_path, WheelSpec(name="demo-pkg", version="2.0"))
    assert written.path.name == "demo_pkg-2.0-py3-none-any.whl"


def test_record_lists_every_member_with_its_sha256_and_size(tmp_path: Path) -> None:
    written = write_wheel(tmp_path, _variant_spec())
    with zipfile.ZipFile(written.path) as archive:
        names = set(archive.namelist())
        record = archive.read("demo_pkg-2.0.dist-info/RECORD").decode()
        rows = list(csv.reader(io.StringIO(record)))
        assert {row[0] for row in rows} == names
        for path, digest, size in rows:
            if path.endswith("RECORD"):
                assert (digest, size) == ("", "")
                continue
            data = archive.read(path)
            expected = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
            assert digest == "sha256=" + expected.decode()
            assert int(size) == len(data)


def test_variant_wheel_carries_its_variant_json(tmp_path: Path) -> None:
    written = write_wheel(tmp_path, _variant_spec())
    with zipfile.ZipFile(written.path) as archive:
        doc = json.loads(archive.read("demo_pkg-2.0.dist-info/variant.json"))
    assert doc["variants"] == {"x8664v3": {"x86_64": {"level": ["v3"]}}}


def test_metadata_declares_default_extras(tmp_path: Path) -> None:
    spec = WheelSpec(
        name="demo-plot",
        version="1.0",
        provides_extra=("recommended",),
        default_extra=("recommended",),
        requires_dist=('demo-helper; extra == "recommended"',),
    )
    written = write_wheel(tmp_path, spec)
    headers = Parser().parsestr(written.metadata.decode())
    assert headers.get_all("Default-Extra") == ["recommended"]
    assert headers.get_all("Provides-Extra") == ["recommended"]
    assert headers.get_all("Requires-Dist") == ['demo-helper; extra == "recommended"']


def test_returned_hash_is_the_sha256_of_the_file(tmp_path: Path) -> None:
    written = write_wheel(tmp_path, _variant_spec())
    assert written.sha256 == hashlib.sha256(written.path.read_bytes()).hexdigest()


def test_the_package_inside_says_which_variant_it_is(tmp_path: Path) -> None:
    written = write_wheel(tmp_path, _variant_spec())
    # A pure wheel is importable straight from the archive (zipimport).
    code = "import demo_pkg; print(demo_pkg.VARIANT, demo_pkg.__version__, demo_pkg.BUILD)"
    out = subprocess.run(
        [sys.executable, "-c", f"import sys; sys.path.insert(0, {str(written.path)!r}); {code}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out.strip() == "x8664v3 2.0 v3 build"


def test_same_spec_gives_the_same_bytes(tmp_path: Path) -> None:
    first = write_wheel(tmp_path / "a", _variant_spec())
    second = write_wheel(tmp_path / "b", _variant_spec())
    assert first.sha256 == second.sha256


def test_plain_spec_wheel_file_names_the_pure_python_tag_only(tmp_path: Path) -> None:
    written = write_wheel(tmp_path, WheelSpec(name="demo-pkg", version="2.0"))
    with zipfile.ZipFile(written.path) as archive:
        wheel = archive.read("demo_pkg-2.0.dist-info/WHEEL").decode()
    assert wheel == (
        "Wheel-Version: 1.0\nGenerator: wheelnext-jupyter-demo\nRoot-Is-Purelib: true\n"
        "Tag: py3-none-any\n"
    )


def test_compressed_tags_and_build_number_reach_the_name_and_wheel_file(tmp_path: Path) -> None:
    spec = WheelSpec(
        name="demo-pkg",
        version="2.0",
        python_tag="cp311.cp312",
        abi_tag="abi3",
        platform_tag="linux_x86_64",
        build=(1, "a"),
    )
    written = write_wheel(tmp_path, spec)
    assert written.path.name == "demo_pkg-2.0-1a-cp311.cp312-abi3-linux_x86_64.whl"
    with zipfile.ZipFile(written.path) as archive:
        wheel = archive.read("demo_pkg-2.0.dist-info/WHEEL").decode()
    assert Parser().parsestr(wheel).get_all("Tag") == [
        "cp311-abi3-linux_x86_64",
        "cp312-abi3-linux_x86_64",
    ]
    assert Parser().parsestr(wheel)["Build"] == "1a"


def test_console_scripts_are_written_to_entry_points(tmp_path: Path) -> None:
    spec = WheelSpec(name="demo-pkg", version="2.0", console_scripts={"demo": "demo_pkg:main"})
    written = write_wheel(tmp_path, spec)
    with zipfile.ZipFile(written.path) as archive:
        text = archive.read("demo_pkg-2.0.dist-info/entry_points.txt").decode()
    assert text == "[console_scripts]\ndemo = demo_pkg:main\n"


def test_plain_spec_has_no_entry_points_file(tmp_path: Path) -> None:
    written = write_wheel(tmp_path, WheelSpec(name="demo-pkg", version="2.0"))
    with zipfile.ZipFile(written.path) as archive:
        assert "demo_pkg-2.0.dist-info/entry_points.txt" not in archive.namelist()


def test_requires_python_and_extra_headers_reach_the_metadata(tmp_path: Path) -> None:
    spec = WheelSpec(
        name="demo-pkg",
        version="2.0",
        requires_python=">=3.10",
        extra_metadata=(("License-Expression", "MIT"),),
    )
    headers = Parser().parsestr(write_wheel(tmp_path, spec).metadata.decode())
    assert headers["Requires-Python"] == ">=3.10"
    assert headers["License-Expression"] == "MIT"


def test_module_source_replaces_the_demo_module(tmp_path: Path) -> None:
    spec = WheelSpec(name="demo-pkg", version="2.0", module_source="ANSWER = 42\n")
    written = write_wheel(tmp_path, spec)
    with zipfile.ZipFile(written.path) as archive:
        assert archive.read("demo_pkg/__init__.py") == b"ANSWER = 42\n"


def test_extra_files_may_be_text_or_bytes(tmp_path: Path) -> None:
    files: dict[str, str | bytes] = {
        "demo_pkg/notes.txt": "hello\n",
        "demo_pkg/blob.bin": b"\x00\x01",
    }
    spec = WheelSpec(name="demo-pkg", version="2.0", extra_files=files)
    written = write_wheel(tmp_path, spec)
    with zipfile.ZipFile(written.path) as archive:
        assert archive.read("demo_pkg/notes.txt") == b"hello\n"
        assert archive.read("demo_pkg/blob.bin") == b"\x00\x01"
