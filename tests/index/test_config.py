"""Source configuration: command-line options, the user's TOML file, and pip's own configuration."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from wheelnext_jupyter.index.config import (
    IndexOptions,
    PipIndexSettings,
    UserConfig,
    pip_default_index,
    read_pip_config,
    read_user_config,
    resolve_index_config,
)
from wheelnext_jupyter.index.errors import ConfigError
from wheelnext_jupyter.index.http import HttpClient
from wheelnext_jupyter.index.priority import Strategy
from wheelnext_jupyter.index.sources import FindLinksDirectory, FlatPageSource, IndexSource

NO_PIP = PipIndexSettings()
EMPTY = UserConfig()


@pytest.fixture
def isolated_pip(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No pip configuration from this machine: no PIP_* variables, no user/global files."""
    for key in list(os.environ):
        if key.startswith("PIP_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("XDG_CONFIG_DIRS", str(tmp_path / "xdg"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "home-config"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    conf = tmp_path / "pip.conf"
    monkeypatch.setenv("PIP_CONFIG_FILE", str(conf))
    return conf


def _locations(options: IndexOptions, **kwargs: object) -> list[str]:
    kwargs.setdefault("user_config", EMPTY)
    kwargs.setdefault("pip_settings", NO_PIP)
    config = resolve_index_config(options, **kwargs)  # type: ignore[arg-type]
    return [spec.location for spec in config.sources]


def test_extra_index_urls_come_before_the_index_url() -> None:
    options = IndexOptions(index_url="https://c/", extra_index_urls=["https://a/", "https://b/"])
    assert _locations(options) == ["https://a/", "https://b/", "https://c/"]


def test_repeated_index_keeps_its_order_and_the_default_index_comes_last() -> None:
    options = IndexOptions(indexes=["https://x/", "https://y/"], index_url="https://d/")
    assert _locations(options) == ["https://x/", "https://y/", "https://d/"]


def test_index_option_before_extra_index_urls() -> None:
    options = IndexOptions(
        indexes=["https://x/"], extra_index_urls=["https://e/"], index_url="https://d/"
    )
    assert _locations(options) == ["https://x/", "https://e/", "https://d/"]


def test_find_links_come_first() -> None:
    options = IndexOptions(find_links=["/data/wheels"], index_url="https://d/")
    assert _locations(options) == ["/data/wheels", "https://d/"]


def test_no_index_leaves_only_find_links() -> None:
    options = IndexOptions(no_index=True, find_links=["/data/wheels"], index_url="https://d/")
    assert _locations(options) == ["/data/wheels"]


def test_named_index_option() -> None:
    config = resolve_index_config(
        IndexOptions(indexes=["corp=https://u:p@corp.example/simple/"], index_url="https://d/"),
        user_config=EMPTY,
        pip_settings=NO_PIP,
    )
    assert config.sources[0].name == "corp"
    assert config.sources[0].location == "https://u:p@corp.example/simple/"
    assert "u:****@" in repr(config.sources[0]) and ":p@" not in repr(config.sources[0])


def test_url_with_an_equals_sign_is_not_taken_for_a_name() -> None:
    options = IndexOptions(indexes=["https://h.example/simple/?a=b"], index_url="https://d/")
    assert _locations(options)[0] == "https://h.example/simple/?a=b"


def test_pins_and_strategy_from_options() -> None:
    config = resolve_index_config(
        IndexOptions(indexes=["corp=https://corp/"], pins=["Corp-Lib=corp"], strategy="best-match"),
        user_config=EMPTY,
        pip_settings=NO_PIP,
    )
    assert dict(config.pins) == {"Corp-Lib": "corp"}
    assert config.strategy is Strategy.BEST_MATCH


def test_invalid_pin_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="NAME=INDEX"):
        resolve_index_config(IndexOptions(pins=["torch"]), user_config=EMPTY, pip_settings=NO_PIP)


def test_default_strategy_is_first_index() -> None:
    config = resolve_index_config(IndexOptions(), user_config=EMPTY, pip_settings=NO_PIP)
    assert config.strategy is Strategy.FIRST_INDEX and not config.allow_fallthrough


# --- pip's configuration ------------------------------------------------------------------


def test_pip_config_supplies_sources_when_the_command_line_names_none(isolated_pip: Path) -> None:
    isolated_pip.write_text(
        "[global]\nindex-url = https://mirror.example/simple/\n"
        "extra-index-url =\n    https://extra1.example/simple/\n    https://extra2.example/simple/\n"
    )
    assert _locations(IndexOptions(), pip_settings=None) == [
        "https://extra1.example/simple/",
        "https://extra2.example/simple/",
        "https://mirror.example/simple/",
    ]


def test_pip_config_is_ignored_when_the_command_line_names_a_source(isolated_pip: Path) -> None:
    isolated_pip.write_text("[global]\nindex-url = https://mirror.example/simple/\n")
    assert _locations(IndexOptions(index_url="https://mine/"), pip_settings=None) == [
        "https://mine/"
    ]


def test_pip_install_section_overrides_global(isolated_pip: Path) -> None:
    isolated_pip.write_text(
        "[global]\nindex-url = https://global.example/\n[install]\nindex-url = https://install.example/\n"
    )
    assert read_pip_config().index_url == "https://install.example/"


def test_pip_environment_variables_override_files(
    isolated_pip: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    isolated_pip.write_text("[global]\nindex-url = https://file.example/\n")
    monkeypatch.setenv("PIP_INDEX_URL", "https://env.example/")
    monkeypatch.setenv("PIP_EXTRA_INDEX_URL", "https://e1.example/ https://e2.example/")
    monkeypatch.setenv("PIP_FIND_LINKS", "/wheels")
    settings = read_pip_config()
    assert settings == PipIndexSettings(
        index_url="https://env.example/",
        extra_index_urls=("https://e1.example/", "https://e2.example/"),
        find_links=("/wheels",),
    )


@pytest.mark.parametrize("use_pip", [True, False])
def test_reading_by_hand_matches_pip(
    isolated_pip: Path, monkeypatch: pytest.MonkeyPatch, use_pip: bool
) -> None:
    isolated_pip.write_text(
        "[global]\nindex-url = https://g.example/\nfind-links = /a /b\n"
        "[install]\nextra-index-url = https://x.example/\nno-index = false\n"
    )
    monkeypatch.setenv("PIP_INDEX_URL", "https://env.example/")
    assert read_pip_config(use_pip=use_pip) == PipIndexSettings(
        index_url="https://env.example/",
        extra_index_urls=("https://x.example/",),
        find_links=("/a", "/b"),
        no_index=False,
    )


def test_devnull_config_file_means_pip_defaults(
    isolated_pip: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    assert read_pip_config() == PipIndexSettings()
    assert read_pip_config(use_pip=False) == PipIndexSettings()


def test_without_any_configuration_pips_default_index_is_used(
    isolated_pip: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pip._internal.models.index import PyPI

    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    config = resolve_index_config(IndexOptions(), user_config=EMPTY)
    assert [(s.location, s.origin) for s in config.sources] == [(PyPI.simple_url, "default")]
    assert pip_default_index() == PyPI.simple_url


def test_pip_no_index_with_find_links(isolated_pip: Path) -> None:
    isolated_pip.write_text("[global]\nno-index = true\nfind-links = /kaggle/input/wheels\n")
    assert _locations(IndexOptions(), pip_settings=None) == ["/kaggle/input/wheels"]


# --- the user's config file ----------------------------------------------------------------


USER_TOML = """
strategy = "first-match"
allow-fallthrough = true
default-index = "https://mirror.example/simple/"
find-links = ["/opt/local-wheels"]

[[index]]
name = "pytorch"
url = "https://torch.example/whl/cu128/"

[[index]]
name = "corp"
url = "https://corp.example/simple/"
explicit = true

[pins]
corp-lib = "corp"
"""


def test_user_config_file_is_read(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(USER_TOML)
    user = read_user_config(path)
    assert [(s.name, s.location, s.explicit) for s in user.indexes] == [
        ("pytorch", "https://torch.example/whl/cu128/", False),
        ("corp", "https://corp.example/simple/", True),
    ]
    assert dict(user.pins) == {"corp-lib": "corp"}
    assert user.strategy is Strategy.FIRST_MATCH and user.allow_fallthrough is True


def test_user_config_sources_follow_command_line_ones(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(USER_TOML)
    config = resolve_index_config(
        IndexOptions(indexes=["https://cli.example/"], pins=["corp-lib=pytorch"]),
        user_config=read_user_config(path),
        pip_settings=NO_PIP,
    )
    assert [s.location for s in config.sources] == [
        "/opt/local-wheels",
        "https://cli.example/",
        "https://torch.example/whl/cu128/",
        "https://corp.example/simple/",
        "https://mirror.example/simple/",
    ]
    # A pin on the command line replaces the file's pin for that name.
    assert dict(config.pins) == {"corp-lib": "pytorch"}
    assert config.strategy is Strategy.FIRST_MATCH and config.allow_fallthrough


def test_command_line_strategy_beats_the_file(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(USER_TOML)
    config = resolve_index_config(
        IndexOptions(strategy="first-index", allow_fallthrough=False),
        user_config=read_user_config(path),
        pip_settings=NO_PIP,
    )
    assert config.strategy is Strategy.FIRST_INDEX and not config.allow_fallthrough


def test_missing_user_config_is_empty(tmp_path: Path) -> None:
    assert read_user_config(tmp_path / "absent.toml") == UserConfig()


@pytest.mark.parametrize(
    "text",
    ["[[index]]\nname = 'x'\n", "index = 'https://x/'\n", "strategy = 'fastest'\n", "= broken"],
)
def test_invalid_user_config_is_a_config_error_naming_the_file(tmp_path: Path, text: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text)
    with pytest.raises(ConfigError):
        read_user_config(path)


def test_an_unreadable_user_config_is_a_config_error_naming_the_file(tmp_path: Path) -> None:
    directory = tmp_path / "config.toml"
    directory.mkdir()
    with pytest.raises(ConfigError, match=r"config\.toml"):
        read_user_config(directory)
    latin = tmp_path / "latin.toml"
    latin.write_bytes(b"default-index = '\xe9'\n")
    with pytest.raises(ConfigError, match=r"latin\.toml"):
        read_user_config(latin)


def test_duplicate_index_names_are_an_error() -> None:
    with pytest.raises(ConfigError, match="twice"):
        resolve_index_config(
            IndexOptions(indexes=["a=https://one/", "a=https://two/"]),
            user_config=EMPTY,
            pip_settings=NO_PIP,
        )


def test_open_builds_the_right_kind_of_source(tmp_path: Path) -> None:
    config = resolve_index_config(
        IndexOptions(
            find_links=[str(tmp_path), "https://flat.example/links.html"],
            index_url="https://d.example/simple/",
            pins=["x=https://d.example/simple/"],
        ),
        user_config=EMPTY,
        pip_settings=NO_PIP,
    )
    with HttpClient(cache_dir=None) as client:
        sources = config.open(client)
    assert [type(s) for s in sources.sources] == [FindLinksDirectory, FlatPageSource, IndexSource]
