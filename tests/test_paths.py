"""Per-user directories: worked out by hand on Linux, where platformdirs would put them."""

from __future__ import annotations

import sys
from pathlib import Path

import platformdirs
import pytest

from wheelnext_jupyter import paths
from wheelnext_jupyter.index import config

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux layout")

SETTINGS = pytest.mark.parametrize(
    "value", [None, "", "   ", "/srv/xdg base"], ids=["unset", "empty", "blank", "set"]
)


@SETTINGS
def test_the_configuration_file_is_where_platformdirs_puts_it(
    monkeypatch: pytest.MonkeyPatch, value: str | None
) -> None:
    if value is None:
        monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    else:
        monkeypatch.setenv("XDG_CONFIG_HOME", value)
    expected = Path(platformdirs.user_config_dir(paths.APP_NAME, appauthor=False))
    assert paths.user_config_path() == expected / "config.toml"


@SETTINGS
def test_the_cache_directory_is_where_platformdirs_puts_it(
    monkeypatch: pytest.MonkeyPatch, value: str | None
) -> None:
    monkeypatch.delenv(paths.CACHE_DIR_VARIABLE, raising=False)
    if value is None:
        monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    else:
        monkeypatch.setenv("XDG_CACHE_HOME", value)
    assert paths.cache_dir() == Path(platformdirs.user_cache_dir(paths.APP_NAME, appauthor=False))


@SETTINGS
def test_pips_user_configuration_is_where_platformdirs_puts_it(
    monkeypatch: pytest.MonkeyPatch, value: str | None
) -> None:
    monkeypatch.delenv("PIP_CONFIG_FILE", raising=False)
    if value is None:
        monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    else:
        monkeypatch.setenv("XDG_CONFIG_HOME", value)
    expected = Path(platformdirs.user_config_dir("pip", appauthor=False, roaming=True))
    assert expected / "pip.conf" in config._pip_config_files()


def test_the_cache_variable_overrides_the_cache_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(paths.CACHE_DIR_VARIABLE, str(tmp_path))
    assert paths.cache_dir() == tmp_path
