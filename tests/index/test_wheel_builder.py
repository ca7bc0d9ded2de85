"""The test wheel builder makes wheels an installer accepts: valid RECORD, WHEEL, variant.json."""

from __future__ import annotations

import base64
import hashlib
import json
import zipfile
from pathlib import Path

from tests.support.wheels import build_wheel, sha256_hex
from wheelnext_jupyter.variants.filename import parse_wheel_filename
from wheelnext_jupyter.variants.metadata import read_variant_metadata


def test_record_lists_every_member_with_its_digest(tmp_path: Path) -> None:
    built = build_wheel(tmp_path, "demo", "1.0", console_scripts={"demo": "demo:main"})
    with zipfile.ZipFile(built.path) as archive:
        record = archive.read("demo-1.0.dist-info/RECORD").decode().splitlines()
        rows = [line.rsplit(",", 2) for line in record]
        assert {row[0] for row in rows} == set(archive.namelist())
        for path, digest, size in rows:
            if path.endswith("RECORD"):
                assert (digest, size) == ("", "")
                continue
            data = archive.read(path)
            expected = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
            assert digest == "sha256=" + expected.decode() and int(size) == len(data)
        assert "demo = demo:main" in archive.read("demo-1.0.dist-info/entry_points.txt").decode()


def test_variant_wheel_carries_its_label_and_variant_json(tmp_path: Path) -> None:
    props = {"nvidia": {"cuda_version_lower_bound": ["12.0"]}}
    built = build_wheel(tmp_path, "Demo.Pkg", "2.0", label="cu12", variant=props)
    assert built.filename == "demo_pkg-2.0-py3-none-any-cu12.whl"
    assert parse_wheel_filename(built.filename).label == "cu12"
    with zipfile.ZipFile(built.path) as archive:
        doc = json.loads(archive.read("demo_pkg-2.0.dist-info/variant.json"))
        init = archive.read("demo_pkg/__init__.py").decode()
    assert doc["variants"] == {"cu12": {"nvidia": {"cuda_version_lower_bound": ["12.0"]}}}
    assert doc["default-priorities"] == {"namespace": ["nvidia"]}
    assert read_variant_metadata(json.dumps(doc), source="t").labels() == ("cu12",)
    assert "VARIANT = 'cu12'" in init


def test_same_inputs_give_the_same_bytes(tmp_path: Path) -> None:
    first = build_wheel(tmp_path / "a", "demo", "1.0")
    second = build_wheel(tmp_path / "b", "demo", "1.0")
    assert first.sha256 == second.sha256 == sha256_hex(first.path.read_bytes())
