"""Reading a PEP 751 lock: where each package's wheels are."""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging.version import Version

from wheelnext_jupyter.resolve.lock_file import LockFileError, read_lock_file

MARKERS = {"python_version": "3.11", "sys_platform": "linux", "platform_machine": "x86_64"}
DIGEST = "a" * 64


def read(tmp_path: Path, wheels: str, more: str = ""):
    path = tmp_path / "pylock.toml"
    path.write_text(
        'lock-version = "1.0"\ncreated-by = "hand"\n\n[[packages]]\nname = "Demo_Pkg"\n'
        f'version = "1.0"\nwheels = [{wheels}]\n{more}'
    )
    return read_lock_file(path, markers=MARKERS, python_version=Version("3.11"))


def test_a_wheel_named_by_url_is_taken_from_there_with_the_locks_hashes(tmp_path):
    locked = read(
        tmp_path,
        '{ name = "demo_pkg-1.0-py3-none-any.whl", url = "https://files.example/d/x.whl", '
        f'size = 12, hashes = {{ sha256 = "{DIGEST.upper()}" }} }}',
    )
    (file,) = locked.wheels.files
    assert (file.project, file.filename, file.url) == (
        "demo-pkg",
        "demo_pkg-1.0-py3-none-any.whl",
        "https://files.example/d/x.whl",
    )
    assert dict(file.hashes) == {"sha256": DIGEST}
    assert file.size == 12
    assert locked.find_links == ()


def test_a_wheel_without_a_name_is_named_by_its_url(tmp_path):
    locked = read(
        tmp_path,
        '{ url = "https://files.example/d/demo_pkg-1.0-py3-none-any.whl", '
        f'hashes = {{ sha256 = "{DIGEST}" }} }}',
    )
    assert [f.filename for f in locked.wheels.files] == ["demo_pkg-1.0-py3-none-any.whl"]


def test_a_wheel_named_by_a_file_url_is_read_from_its_directory(tmp_path):
    wheel = tmp_path / "wheels" / "demo_pkg-1.0-py3-none-any.whl"
    locked = read(tmp_path, f'{{ url = "{wheel.as_uri()}", hashes = {{ sha256 = "{DIGEST}" }} }}')
    assert locked.find_links == (str(wheel.parent),)
    assert locked.wheels.files == ()


def test_the_variant_metadata_a_lock_inlines_is_kept_for_its_version(tmp_path):
    locked = read(
        tmp_path,
        f'{{ url = "https://h/demo_pkg-1.0-py3-none-any.whl", hashes = {{ sha256 = "{DIGEST}" }} }}',
        '[packages.variants-json]\n"$schema" = "https://variants.wheelnext.dev/v0.0.3.json"\n',
    )
    document = locked.wheels.variants[("demo-pkg", "1.0")]
    assert document["$schema"] == "https://variants.wheelnext.dev/v0.0.3.json"


@pytest.mark.parametrize(
    ("wheel", "says"),
    [
        (
            f'{{ url = "ftp://h/demo_pkg-1.0-py3-none-any.whl", hashes = {{ sha256 = "{DIGEST}" }} }}',
            "is neither http(s) nor file",
        ),
        (
            f'{{ url = "https://h/download?id=3", hashes = {{ sha256 = "{DIGEST}" }} }}',
            "'download' is not a wheel's file name; name the wheel in the entry's `name`",
        ),
        (
            f'{{ url = "https://h/other-1.0-py3-none-any.whl", hashes = {{ sha256 = "{DIGEST}" }} }}',
            "the wheel other-1.0-py3-none-any.whl is not one of Demo_Pkg",
        ),
    ],
    ids=["scheme", "not-a-wheel", "other-project"],
)
def test_a_wheel_url_that_cannot_be_used_is_refused_naming_why(tmp_path, wheel, says):
    with pytest.raises(LockFileError, match="package Demo_Pkg") as raised:
        read(tmp_path, wheel)
    assert says in str(raised.value)
