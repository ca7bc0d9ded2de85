"""Per-user directories: worked out by hand on Linux, where platformdirs would put them."""

from __future__ import annotations

import subprocess
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


@pytest.mark.parametrize(
    "url",
    [
        "file:///tmp/a%20b/c.whl",
        "file://localhost/srv/y%2Bz-1.0-py3-none-any.whl",
        "file:///d%C3%A9j%C3%A0/w.whl",
        "file:///100%25/x",
    ],
)
def test_a_file_url_names_the_path_the_standard_library_reads_in_it(url: str) -> None:
    from urllib.parse import urlsplit
    from urllib.request import url2pathname

    assert paths.file_url_path(url) == Path(url2pathname(urlsplit(url).path))


def test_reading_a_file_url_imports_no_http_client() -> None:
    # urllib.request brings http.client, email and more: tens of milliseconds, which download
    # threads reading local wheels spent contending for the interpreter lock.
    program = (
        "import sys\n"
        "from wheelnext_jupyter.paths import file_url_path\n"
        "file_url_path('file:///tmp/a%20b.whl')\n"
        "print('urllib.request' in sys.modules, 'http.client' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True)
    assert done.stdout.split() == ["False", "False"], done.stderr
