"""Which sources to use, in which order: command-line options, the user's config file, pip's.

Order of sources, highest priority first:

1. `--find-links` locations (local directories and flat pages the user pointed at on purpose);
2. `--index` URLs in the order given;
3. `--extra-index-url` URLs (uv's order: every extra index before the index URL);
4. `[[index]]` entries of the user config file;
5. the default index: `--index-url`, else the config file's `default-index`, else pip's
   `index-url`, else pip's built-in default (PyPI) — unless `--no-index`.

pip's configuration (`pip.conf` files and `PIP_*` variables, read as pip reads them) is used only
when the command line names no source at all, so corporate mirrors keep working unchanged.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from wheelnext_jupyter.index.errors import ConfigError
from wheelnext_jupyter.index.priority import SourceSet, Strategy
from wheelnext_jupyter.index.redact import redact_url
from wheelnext_jupyter.index.sources import (
    FindLinksDirectory,
    FlatPageSource,
    IndexSource,
    LockedWheels,
    LockSource,
)
from wheelnext_jupyter.paths import file_url_path, user_base, user_config_path
from wheelnext_jupyter.record import MutableRecord, Record
from wheelnext_jupyter.record import field as record_field

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from wheelnext_jupyter.index.http import HttpClient
    from wheelnext_jupyter.index.sources import Source

APP_NAME = "wheelnext-jupyter"
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_TRUE = {"1", "true", "yes", "on"}


class IndexOptions(MutableRecord):
    """Index options as the command line and the magic spell them."""

    #: `--index [NAME=]URL`, repeatable, highest priority first.
    indexes: list[str] = record_field(default_factory=list)
    index_url: str | None = None
    extra_index_urls: list[str] = record_field(default_factory=list)
    find_links: list[str] = record_field(default_factory=list)
    no_index: bool = False
    #: `--index-strategy`; None = the config file's, else first-index.
    strategy: str | None = None
    #: `--pin NAME=INDEX` (INDEX is a source name or URL).
    pins: list[str] = record_field(default_factory=list)
    allow_fallthrough: bool | None = None
    #: The wheels a lock file being installed names by URL (`-r pylock.toml`).
    locked: LockedWheels | None = None

    def names_a_source(self) -> bool:
        return bool(
            self.indexes
            or self.index_url
            or self.extra_index_urls
            or self.find_links
            or self.no_index
        )


class SourceSpec(Record):
    """A source before it is opened."""

    kind: str  # "index" | "find-links" | "lock"
    location: str
    name: str | None = None
    explicit: bool = False
    #: Where it was configured: "command line", "config file", "pip configuration", "default".
    origin: str = "command line"
    #: For a lock: the files it names.
    locked: LockedWheels | None = None

    def __repr__(self) -> str:
        return (
            f"SourceSpec({self.kind!r}, {redact_url(self.location)!r}, name={self.name!r}, "
            f"explicit={self.explicit}, origin={self.origin!r})"
        )


class IndexConfig(Record):
    sources: tuple[SourceSpec, ...]
    strategy: Strategy = Strategy.FIRST_INDEX
    pins: Mapping[str, str] = record_field(default_factory=dict)
    allow_fallthrough: bool = False

    def open(self, client: HttpClient) -> SourceSet:
        """Open every source over `client` and wrap them in a `SourceSet`."""
        return SourceSet(
            [open_source(spec, client) for spec in self.sources],
            strategy=self.strategy,
            pins=self.pins,
            allow_fallthrough=self.allow_fallthrough,
            max_workers=client.max_workers,
        )


def open_source(spec: SourceSpec, client: HttpClient) -> Source:
    if spec.locked is not None:
        return LockSource(spec.locked, client)
    if spec.kind == "index":
        return IndexSource(spec.location, client, name=spec.name, explicit=spec.explicit)
    parts = urlsplit(spec.location)
    if parts.scheme in ("http", "https"):
        return FlatPageSource(spec.location, client, name=spec.name)
    path = file_url_path(spec.location) if parts.scheme == "file" else Path(spec.location)
    return FindLinksDirectory(path.expanduser(), name=spec.name)


# --- pip's configuration -----------------------------------------------------------------------


class PipIndexSettings(Record):
    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    no_index: bool = False


def read_pip_config(*, use_pip: bool = True) -> PipIndexSettings:
    """pip's index settings as `pip install` would see them now (files, then `PIP_*`)."""
    values: dict[str, str] | None = _pip_config_via_pip() if use_pip else None
    if values is None:
        values = _pip_config_by_hand()
    return PipIndexSettings(
        index_url=values.get("index-url") or None,
        extra_index_urls=tuple(values.get("extra-index-url", "").split()),
        find_links=tuple(values.get("find-links", "").split()),
        no_index=values.get("no-index", "").strip().lower() in _TRUE,
    )


_PIP_KEYS = ("index-url", "extra-index-url", "find-links", "no-index")
# pip applies `[global]`, then the command's own section, then environment variables.
_PIP_SECTIONS = ("global", "install", ":env:")


def _pip_config_via_pip() -> dict[str, str] | None:
    try:
        from pip._internal.configuration import Configuration
    except Exception:
        return None
    try:
        configuration = Configuration(isolated=False)
        configuration.load()
        # items() maps each file (and ":env:") to its values, in pip's override order.
        items: dict[str, Any] = {}
        for file_values in dict(configuration.items()).values():
            items.update(file_values)
    except Exception:
        return None
    values: dict[str, str] = {}
    for section in _PIP_SECTIONS:
        for key in _PIP_KEYS:
            value = items.get(f"{section}.{key}")
            if value is not None:
                values[key] = str(value)
    return values


def _pip_config_files() -> list[Path]:
    """pip's file order: global (site config dirs), user (legacy, new), site, PIP_CONFIG_FILE."""
    env_file = os.environ.get("PIP_CONFIG_FILE")
    if env_file == os.devnull:
        return []
    xdg = os.environ.get("XDG_CONFIG_DIRS") or "/etc/xdg"
    global_files = [Path(d) / "pip" / "pip.conf" for d in xdg.split(os.pathsep) if d]
    global_files.append(Path("/etc/pip.conf"))
    files = global_files
    if not (env_file and Path(env_file).exists()):
        files += [Path.home() / ".pip" / "pip.conf", _pip_user_config_dir() / "pip.conf"]
    files.append(Path(sys.prefix) / "pip.conf")
    if env_file:
        files.append(Path(env_file))
    return files


def _pip_user_config_dir() -> Path:
    base = user_base("config")
    if base is not None:
        return base / "pip"
    import platformdirs

    return Path(platformdirs.user_config_dir("pip", appauthor=False, roaming=True))


def _pip_config_by_hand() -> dict[str, str]:
    by_section: dict[str, dict[str, str]] = {}
    for path in _pip_config_files():
        if not path.is_file():
            continue
        import configparser  # only where a pip configuration file exists

        parser = configparser.RawConfigParser()
        try:
            parser.read(path, encoding="utf-8")
        except (configparser.Error, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read pip configuration {path}: {exc}") from None
        for section in parser.sections():
            for key, value in parser.items(section):
                by_section.setdefault(section, {})[_pip_key(key)] = value
    for env_key, value in os.environ.items():
        if env_key.startswith("PIP_"):
            by_section.setdefault(":env:", {})[_pip_key(env_key[4:])] = value
    values: dict[str, str] = {}
    for section in _PIP_SECTIONS:
        for key in _PIP_KEYS:
            if key in by_section.get(section, {}):
                values[key] = by_section[section][key]
    return values


def _pip_key(name: str) -> str:
    return name.lower().replace("_", "-").removeprefix("--")


def pip_default_index() -> str:
    """pip's built-in default index URL, read from the installed pip."""
    try:
        from pip._internal.models.index import PyPI
    except Exception:
        raise ConfigError(
            "no index is configured and pip is not importable to tell its default; "
            "pass --index-url URL"
        ) from None
    url: str = PyPI.simple_url
    return url


# --- the user's config file --------------------------------------------------------------------


class UserConfig(Record):
    indexes: tuple[SourceSpec, ...] = ()
    default_index: str | None = None
    find_links: tuple[str, ...] = ()
    pins: Mapping[str, str] = record_field(default_factory=dict)
    strategy: Strategy | None = None
    allow_fallthrough: bool | None = None


def read_user_config(path: Path | None = None) -> UserConfig:
    """Read the TOML config file (schema in docs/indexes.md); a missing file is an empty config."""
    path = path or user_config_path()
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        return UserConfig()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    # Imported only now: most runs have no config file, and the parser takes a while to load
    # (it compiles its expressions).
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on 3.10 only
        import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    where = str(path)
    indexes = []
    raw_indexes = data.get("index", [])
    if not isinstance(raw_indexes, list):
        raise ConfigError(f"{where}: 'index' must be an array of tables ([[index]])")
    for number, item in enumerate(raw_indexes, 1):
        if not isinstance(item, dict) or not isinstance(item.get("url"), str):
            raise ConfigError(f"{where}: [[index]] entry {number} needs a 'url' string")
        name = item.get("name")
        if name is not None and (not isinstance(name, str) or not _NAME_RE.match(name)):
            raise ConfigError(f"{where}: [[index]] entry {number}: invalid name {name!r}")
        indexes.append(
            SourceSpec(
                "index",
                item["url"],
                name=name,
                explicit=bool(item.get("explicit", False)),
                origin="config file",
            )
        )
    pins = data.get("pins", {})
    if not isinstance(pins, dict) or not all(isinstance(v, str) for v in pins.values()):
        raise ConfigError(f"{where}: [pins] maps package names to index names (strings)")
    strategy = data.get("strategy")
    find_links = data.get("find-links", [])
    if isinstance(find_links, str):
        find_links = [find_links]
    return UserConfig(
        indexes=tuple(indexes),
        default_index=_opt_str(data.get("default-index"), "default-index", where),
        find_links=tuple(str(f) for f in find_links),
        pins=dict(pins),
        strategy=Strategy.parse(strategy) if isinstance(strategy, str) else None,
        allow_fallthrough=_opt_bool(data.get("allow-fallthrough"), where),
    )


def _opt_str(value: Any, key: str, where: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise ConfigError(f"{where}: {key!r} must be a string")


def _opt_bool(value: Any, where: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise ConfigError(f"{where}: 'allow-fallthrough' must be true or false")


# --- putting it together -----------------------------------------------------------------------


def parse_index_option(text: str) -> tuple[str | None, str]:
    """`--index [NAME=]URL` → (NAME or None, URL)."""
    name, sep, rest = text.partition("=")
    if sep and _NAME_RE.match(name) and "://" not in name and rest:
        return name, rest
    return None, text


def parse_pin(text: str) -> tuple[str, str]:
    name, sep, target = text.partition("=")
    if not sep or not name.strip() or not target.strip():
        raise ConfigError(
            f"invalid pin {redact_url(text)!r}: write NAME=INDEX (e.g. torch=pytorch)"
        )
    return name.strip(), target.strip()


def resolve_index_config(
    options: IndexOptions | None = None,
    *,
    user_config: UserConfig | None = None,
    pip_settings: PipIndexSettings | None = None,
) -> IndexConfig:
    """Merge command-line options, the user's config file and pip's configuration.

    `user_config` defaults to the file at `user_config_path()`; `pip_settings` to
    `read_pip_config()` (read only when the command line names no source).
    """
    options = options or IndexOptions()
    user = user_config if user_config is not None else read_user_config()
    specs: list[SourceSpec] = []
    if options.locked is not None and options.locked.files:
        # First, and whatever else is configured (even --no-index): the lock says where its
        # files are, and its hashes take only those.
        specs.append(SourceSpec("lock", options.locked.lock, locked=options.locked))
    pip = None
    if not options.names_a_source():
        pip = pip_settings if pip_settings is not None else read_pip_config()
    find_links = list(options.find_links) + list(user.find_links)
    if pip is not None:
        find_links += list(pip.find_links)
    specs += [SourceSpec("find-links", loc, origin="command line") for loc in find_links]
    no_index = options.no_index or (pip is not None and pip.no_index)
    if not no_index:
        for text in options.indexes:
            name, url = parse_index_option(text)
            specs.append(SourceSpec("index", url, name=name))
        specs += [SourceSpec("index", url) for url in options.extra_index_urls]
        specs += list(user.indexes)
        if pip is not None:
            specs += [
                SourceSpec("index", url, origin="pip configuration") for url in pip.extra_index_urls
            ]
        if options.index_url:
            specs.append(SourceSpec("index", options.index_url))
        elif user.default_index:
            specs.append(SourceSpec("index", user.default_index, origin="config file"))
        elif pip is not None and pip.index_url:
            specs.append(SourceSpec("index", pip.index_url, origin="pip configuration"))
        else:
            specs.append(SourceSpec("index", pip_default_index(), origin="default"))
    specs = _dedupe(specs)
    names = [s.name for s in specs if s.name]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise ConfigError(f"index names used twice: {', '.join(sorted(duplicates))}")
    pins = dict(user.pins)
    pins.update(parse_pin(p) for p in options.pins)
    strategy = (
        Strategy.parse(options.strategy)
        if options.strategy
        else user.strategy or Strategy.FIRST_INDEX
    )
    fallthrough = options.allow_fallthrough
    if fallthrough is None:
        fallthrough = bool(user.allow_fallthrough)
    return IndexConfig(tuple(specs), strategy, pins, fallthrough)


def _dedupe(specs: Sequence[SourceSpec]) -> list[SourceSpec]:
    """The same location twice keeps its first (highest) place."""
    seen: set[tuple[str, str]] = set()
    out = []
    for spec in specs:
        key = (spec.kind, spec.location.rstrip("/"))
        if key not in seen:
            seen.add(key)
            out.append(spec)
    return out
