"""External provider plugins: trust gate, isolated install, timeout, validation, cache.

The plugins are real packages (tests/data/plugins/), packed into wheels here and installed by pip
from a local directory, with pip's own configuration switched off.
"""

from __future__ import annotations

import base64
import hashlib
import os
import zipfile
from pathlib import Path
from typing import Any

import pytest

from wheelnext_jupyter.providers import external
from wheelnext_jupyter.providers.external import (
    PluginSources,
    query_external_provider,
)
from wheelnext_jupyter.providers.trust import TrustError, TrustList, load_trust_list
from wheelnext_jupyter.variants.metadata import ProviderInfo
from wheelnext_jupyter.variants.properties import VariantFeatureConfig as Config

PLUGINS = Path(__file__).parents[1] / "data" / "plugins"
NAMES = {
    "marker": "MarkerPlugin",
    "noisy": "NoisyPlugin",
    "sleepy": "SleepyPlugin",
    "crashy": "CrashyPlugin",
    "liar": "LiarPlugin",
}


def build_wheel(source_dir: Path, dist: str, version: str, out_dir: Path) -> Path:
    """A minimal pure-Python wheel holding the modules of `source_dir`."""
    stem = f"{dist.replace('-', '_')}-{version}"
    info = f"{stem}.dist-info"
    files: dict[str, bytes] = {p.name: p.read_bytes() for p in sorted(source_dir.glob("*.py"))}
    files[f"{info}/METADATA"] = (
        f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n".encode()
    )
    files[f"{info}/WHEEL"] = (
        b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    )
    record = []
    for name, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{name},sha256={digest},{len(data)}")
    record.append(f"{info}/RECORD,,")
    files[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    path = out_dir / f"{stem}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return path


@pytest.fixture(scope="module")
def wheel_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheels")
    for directory in NAMES:
        build_wheel(PLUGINS / directory, f"{directory}-variant-provider", "1.0", out)
    return out


@pytest.fixture(scope="module")
def shared_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(autouse=True)
def fresh_memory() -> Any:
    external.clear_memory_cache()
    yield
    external.clear_memory_cache()


@pytest.fixture
def marker(tmp_path: Path) -> Path:
    return tmp_path / "imported.txt"


@pytest.fixture
def environ(tmp_path: Path, marker: Path) -> dict[str, str]:
    """An environment with pip's configuration switched off (this machine's points at mirrors)."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "PIP_CONFIG_FILE": os.devnull,
        "PIP_NO_CACHE_DIR": "1",
        "WNJ_TEST_MARKER": str(marker),
    }


def provider(name: str, requires: str | None = None) -> ProviderInfo:
    return ProviderInfo(
        namespace=f"{name}_hw",
        requires=(requires or f"{name}-variant-provider==1.0",),
        plugin_api=f"{name}_variant_provider:{NAMES[name]}",
    )


def query(name: str, *, trust: TrustList, wheel_dir: Path, cache: Path, **kw: Any) -> Any:
    return query_external_provider(
        provider(name),
        trust=trust,
        sources=PluginSources(find_links=(str(wheel_dir),), no_index=True),
        cache_dir=cache,
        **kw,
    )


TRUST_ALL = TrustList.from_specs(f"{name}-variant-provider==1.0" for name in NAMES)


# -- trust ------------------------------------------------------------------------------------


def test_untrusted_plugin_is_never_installed_or_imported(
    wheel_dir: Path, tmp_path: Path, environ: dict[str, str], marker: Path
) -> None:
    cache = tmp_path / "cache"
    result = query("marker", trust=TrustList(), wheel_dir=wheel_dir, cache=cache, environ=environ)
    assert result.status == "untrusted"
    assert not marker.exists()
    assert not cache.exists()  # no venv, no download, nothing
    assert "--trust-provider marker-variant-provider==1.0" in result.message
    assert "trusted-providers" in result.message


def test_trusting_another_version_is_not_trusting_this_one(
    wheel_dir: Path, tmp_path: Path, environ: dict[str, str], marker: Path
) -> None:
    trust = TrustList.from_specs(["marker-variant-provider==0.9"])
    result = query("marker", trust=trust, wheel_dir=wheel_dir, cache=tmp_path, environ=environ)
    assert result.status == "untrusted"
    assert "0.9 do not satisfy" in result.message
    assert not marker.exists()


@pytest.mark.parametrize(
    "spec", ["marker-variant-provider", "x>=1.0", "x==1.*", "x[y]==1", "x @ file:///x"]
)
def test_trust_needs_an_exact_name_and_version(spec: str) -> None:
    with pytest.raises(TrustError, match="NAME==VERSION"):
        TrustList.from_specs([spec])


def test_trust_list_merges_config_file_and_command_line(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('trusted-providers = ["My_Provider==1.0"]\n', encoding="utf-8")
    trust = load_trust_list(["other==2.0"], config_path=config)
    assert trust.is_trusted("my-provider", "1.0")
    assert trust.is_trusted("other", "2.0")
    assert not trust.is_trusted("my-provider", "1.1")


def test_missing_config_file_trusts_nothing(tmp_path: Path) -> None:
    assert load_trust_list(config_path=tmp_path / "absent.toml").entries == frozenset()


@pytest.mark.parametrize(
    ("content", "problem"),
    [(b"trusted-providers = [", "not valid TOML"), (b"# \xe9\n", "cannot read")],
)
def test_a_config_file_that_cannot_be_read_is_a_trust_error_naming_it(
    tmp_path: Path, content: bytes, problem: str
) -> None:
    config = tmp_path / "config.toml"
    config.write_bytes(content)
    with pytest.raises(TrustError, match=problem) as caught:
        load_trust_list(config_path=config)
    assert str(config) in str(caught.value)


# -- trusted plugins ----------------------------------------------------------------------------


def test_trusted_plugin_answers_and_is_cached(
    wheel_dir: Path, tmp_path: Path, environ: dict[str, str], marker: Path
) -> None:
    cache = tmp_path / "cache"
    first = query("marker", trust=TRUST_ALL, wheel_dir=wheel_dir, cache=cache, environ=environ)
    assert first.status == "ok", first.message
    assert first.configs == (Config("arch", ("b1", "a1")), Config("accel", ("y",), True))
    assert first.plugins == ("marker-variant-provider==1.0",)
    assert marker.read_text().count("imported") == 1

    second = query("marker", trust=TRUST_ALL, wheel_dir=wheel_dir, cache=cache, environ=environ)
    assert (second.configs, second.from_cache) == (first.configs, True)
    assert marker.read_text().count("imported") == 1  # not run again

    external.clear_memory_cache()  # as a new kernel would start
    third = query("marker", trust=TRUST_ALL, wheel_dir=wheel_dir, cache=cache, environ=environ)
    assert (third.configs, third.from_cache) == (first.configs, True)
    assert marker.read_text().count("imported") == 1


def test_changed_override_variable_asks_the_plugin_again(
    wheel_dir: Path, tmp_path: Path, environ: dict[str, str], marker: Path
) -> None:
    cache = tmp_path / "cache"
    query("marker", trust=TRUST_ALL, wheel_dir=wheel_dir, cache=cache, environ=environ)
    environ["MARKER_HW_FORCE_ARCH"] = "a1"
    query("marker", trust=TRUST_ALL, wheel_dir=wheel_dir, cache=cache, environ=environ)
    assert marker.read_text().count("imported") == 2


def test_withdrawn_trust_ignores_the_cached_answer(
    wheel_dir: Path, tmp_path: Path, environ: dict[str, str]
) -> None:
    cache = tmp_path / "cache"
    assert query("marker", trust=TRUST_ALL, wheel_dir=wheel_dir, cache=cache, environ=environ).ok
    again = query("marker", trust=TrustList(), wheel_dir=wheel_dir, cache=cache, environ=environ)
    assert again.status == "untrusted"


def test_plugin_printing_garbage_still_gives_its_answer(
    wheel_dir: Path, shared_cache: Path, environ: dict[str, str]
) -> None:
    result = query(
        "noisy", trust=TRUST_ALL, wheel_dir=wheel_dir, cache=shared_cache, environ=environ
    )
    assert result.status == "ok", result.message
    assert result.configs == (Config("level", ("1",)),)


def test_plugin_that_never_answers_is_stopped(
    wheel_dir: Path, shared_cache: Path, environ: dict[str, str]
) -> None:
    result = query(
        "sleepy",
        trust=TRUST_ALL,
        wheel_dir=wheel_dir,
        cache=shared_cache,
        environ=environ,
        timeout=2.0,
    )
    assert result.status == "timeout"
    assert "did not answer within 2 s" in result.message


def test_plugin_that_raises_is_reported(
    wheel_dir: Path, shared_cache: Path, environ: dict[str, str]
) -> None:
    result = query(
        "crashy", trust=TRUST_ALL, wheel_dir=wheel_dir, cache=shared_cache, environ=environ
    )
    assert result.status == "crashed"
    assert "RuntimeError: no device handle" in result.message
    assert result.configs == ()


def test_plugin_supporting_values_outside_its_all_configs_is_refused(
    wheel_dir: Path, shared_cache: Path, environ: dict[str, str]
) -> None:
    result = query(
        "liar", trust=TRUST_ALL, wheel_dir=wheel_dir, cache=shared_cache, environ=environ
    )
    assert result.status == "invalid-answer"
    assert "['3']" in result.message
    assert result.configs == ()


def test_plugin_for_another_namespace_is_refused(
    wheel_dir: Path, shared_cache: Path, environ: dict[str, str]
) -> None:
    info = ProviderInfo(
        namespace="other_hw",
        requires=("noisy-variant-provider==1.0",),
        plugin_api="noisy_variant_provider:NoisyPlugin",
    )
    result = query_external_provider(
        info,
        trust=TRUST_ALL,
        sources=PluginSources(find_links=(str(wheel_dir),), no_index=True),
        cache_dir=shared_cache,
        environ=environ,
    )
    assert result.status == "invalid-answer"
    assert "'noisy_hw', not 'other_hw'" in result.message


def test_plugin_that_cannot_be_installed_is_reported(
    tmp_path: Path, environ: dict[str, str]
) -> None:
    empty = tmp_path / "no-wheels"
    empty.mkdir()
    result = query(
        "marker", trust=TRUST_ALL, wheel_dir=empty, cache=tmp_path / "c", environ=environ
    )
    assert result.status == "install-failed"
    assert "marker-variant-provider==1.0" in result.message
