"""The PEP 751 lock file: readable TOML with the required keys, variants inlined, indexes named."""

from __future__ import annotations

from datetime import datetime, timezone

import tomllib

from wheelnext_jupyter.index.sources import SourceRef
from wheelnext_jupyter.install.pylock import (
    LockedIndex,
    LockedWheel,
    index_for,
    narrowed_variants_json,
    render_pylock,
)

SCHEMA = "https://variants-schema.wheelnext.dev/peps/825/v0.1.1.json"
DEFAULT = "https://default-index.invalid/simple/"
VARIANTS = {
    "$schema": SCHEMA,
    "default-priorities": {"namespace": ["nvidia"]},
    "variants": {
        "cu12": {"nvidia": {"cuda_version_lower_bound": ["12.0"], "sm_arch": ["80_real"]}},
        "cu11": {"nvidia": {"cuda_version_lower_bound": ["11.8"]}},
        "null": {},
    },
}


def wheel(**changes: object) -> LockedWheel:
    fields: dict[str, object] = {
        "name": "demo",
        "version": "1.0",
        "filename": "demo-1.0-py3-none-any.whl",
        "sha256": "ab" * 32,
        "size": 1234,
        "index": LockedIndex("pypi"),
    }
    fields.update(changes)
    return LockedWheel(**fields)  # type: ignore[arg-type]


def test_the_lock_has_every_key_pep_751_requires():
    lock = tomllib.loads(render_pylock([wheel()]))
    assert lock["lock-version"] == "1.0"
    assert lock["created-by"] == "wheelnext-jupyter"
    [package] = lock["packages"]
    assert package["name"] == "demo" and package["version"] == "1.0"
    [entry] = package["wheels"]
    assert entry["name"] == "demo-1.0-py3-none-any.whl"
    assert entry["hashes"] == {"sha256": "ab" * 32}
    assert entry["size"] == 1234


def test_the_environment_limits_the_lock_to_the_target():
    environment = {"sys_platform": "linux", "platform_machine": "x86_64", "python_version": "3.11"}
    lock = tomllib.loads(render_pylock([wheel()], environment=environment))
    assert lock["environments"] == [
        'sys_platform == "linux" and platform_machine == "x86_64" and python_version == "3.11"'
    ]
    assert lock["requires-python"] == "==3.11.*"


def test_a_variant_package_inlines_its_variants_json_with_the_schema():
    document = narrowed_variants_json(VARIANTS, "cu12")
    lock = tomllib.loads(render_pylock([wheel(label="cu12", variants_json=document)]))
    inlined = lock["packages"][0]["variants-json"]
    assert inlined["$schema"] == SCHEMA
    assert inlined["default-priorities"] == {"namespace": ["nvidia"]}
    assert inlined["variants"] == {
        "cu12": {"nvidia": {"cuda_version_lower_bound": ["12.0"], "sm_arch": ["80_real"]}}
    }
    assert lock["packages"][0]["tool"]["wheelnext-jupyter"]["variant"] == "cu12"


def test_the_null_variant_keeps_its_empty_entry():
    document = narrowed_variants_json(VARIANTS, "null")
    lock = tomllib.loads(render_pylock([wheel(label="null", variants_json=document)]))
    assert lock["packages"][0]["variants-json"]["variants"] == {"null": {}}


def test_the_default_index_is_named_and_its_url_never_written():
    ref = SourceRef(name=DEFAULT, url=DEFAULT, kind="index")
    index = index_for(ref, default_index=DEFAULT)
    assert index == LockedIndex("pypi", None)
    text = render_pylock([wheel(index=index)])
    assert "default-index.invalid" not in text
    lock = tomllib.loads(text)
    assert "index" not in lock["packages"][0]
    assert "url" not in lock["packages"][0]["wheels"][0]
    assert lock["packages"][0]["tool"]["wheelnext-jupyter"]["index"] == "pypi"


def test_a_named_user_index_keeps_its_name_and_a_url_without_credentials():
    shown = "https://build:****@packages.example.com/simple/"
    ref = SourceRef(name="company", url=shown, kind="index")
    index = index_for(ref, default_index=DEFAULT)
    assert index == LockedIndex("company", "https://packages.example.com/simple/")
    text = render_pylock(
        [wheel(index=index, url="https://packages.example.com/files/demo-1.0-py3-none-any.whl")]
    )
    assert "****" not in text and "build" not in text
    package = tomllib.loads(text)["packages"][0]
    assert package["index"] == "https://packages.example.com/simple/"
    assert package["tool"]["wheelnext-jupyter"]["index"] == "company"


def test_a_find_links_file_is_locked_by_path():
    ref = SourceRef(name="/srv/wheels", url="file:///srv/wheels", kind="find-links")
    index = index_for(ref, default_index=DEFAULT)
    text = render_pylock([wheel(index=index, path="/srv/wheels/demo-1.0-py3-none-any.whl")])
    entry = tomllib.loads(text)["packages"][0]["wheels"][0]
    assert entry["path"] == "/srv/wheels/demo-1.0-py3-none-any.whl"


def test_upload_time_is_a_toml_datetime():
    when = datetime(2025, 3, 1, 12, 30, tzinfo=timezone.utc)
    entry = tomllib.loads(render_pylock([wheel(upload_time=when)]))["packages"][0]["wheels"][0]
    assert entry["upload-time"] == when


def test_packages_are_sorted_by_name():
    lock = tomllib.loads(render_pylock([wheel(name="zeta"), wheel(name="alpha")]))
    assert [p["name"] for p in lock["packages"]] == ["alpha", "zeta"]
