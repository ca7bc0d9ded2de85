"""Requirements files (`-r`) and constraints files (`-c`), read the way pip reads them.

pip's rules kept here: `#` starts a comment at the start of a line or after whitespace; a line
ending in `\\` continues on the next (a comment line ends the continuation); `${NAME}` (upper
case, digits, `_`) is replaced by a set, non-empty environment variable and left as written
otherwise; nested `-r`/`-c` paths are relative to the including file; a file that includes
itself, directly or not, is an error. Only the options pip allows in files are accepted
(`--no-deps`, `-U` and the like are command-line only there too).

Expanded values never reach a message: requests and options keep the line *as written* for
display, and URLs shown are redacted.
"""

from __future__ import annotations

import codecs
import os
import re
import shlex
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from wheelnext_jupyter.index.redact import redact_text, redact_url
from wheelnext_jupyter.record import replace
from wheelnext_jupyter.resolve.requirements import InvalidRequest, Request, parse_request

_COMMENT_RE = re.compile(r"(^|\s+)#.*$")
_ENV_VAR_RE = re.compile(r"\$\{(?P<name>[A-Z0-9_]+)\}")
_HASH_RE = re.compile(r"^(?P<algorithm>sha256|sha384|sha512):(?P<digest>[0-9a-fA-F]+)$")
_HASH_LENGTHS = {"sha256": 64, "sha384": 96, "sha512": 128}
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF32_LE, "utf-32"),  # Before UTF-16 LE, whose BOM is its prefix.
    (codecs.BOM_UTF16_BE, "utf-16"),
    (codecs.BOM_UTF16_LE, "utf-16"),
)


class RequirementsFileError(ValueError):
    """A requirements file that cannot be read; the message names the file, line and the fix."""


@dataclass(frozen=True)
class OptionValue:
    """One option value from a file (`--index-url`, `--find-links`…) and where it was written."""

    #: The value with environment variables expanded (may hold credentials: not in the repr).
    value: str = field(repr=False)
    #: The value as written, redacted: safe for messages and reports.
    shown: str
    comes_from: str


@dataclass(frozen=True)
class RequirementsFile:
    """Everything read from one top-level requirements or constraints file and its includes."""

    requests: tuple[Request, ...] = ()
    constraints: tuple[Request, ...] = ()
    #: The last `-i/--index-url` (each one replaces the previous, as in pip).
    index_url: OptionValue | None = None
    extra_index_urls: tuple[OptionValue, ...] = ()
    #: `-f/--find-links`; a relative path that exists next to the file is made absolute.
    find_links: tuple[OptionValue, ...] = ()
    no_index: bool = False
    pre: bool = False
    require_hashes: bool = False
    trusted_hosts: tuple[OptionValue, ...] = ()
    #: Options pip accepts in files that mean nothing here, and the like.
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Option:
    dest: str
    takes_value: bool
    #: Allowed on a requirement line (applies to that requirement).
    per_requirement: bool = False


_OPTIONS: Mapping[str, _Option] = {
    "-r": _Option("requirement", True),
    "--requirement": _Option("requirement", True),
    "-c": _Option("constraint", True),
    "--constraint": _Option("constraint", True),
    "-e": _Option("editable", True),
    "--editable": _Option("editable", True),
    "-i": _Option("index_url", True),
    "--index-url": _Option("index_url", True),
    "--extra-index-url": _Option("extra_index_url", True),
    "--no-index": _Option("no_index", False),
    "-f": _Option("find_links", True),
    "--find-links": _Option("find_links", True),
    "--pre": _Option("pre", False),
    "--require-hashes": _Option("require_hashes", False),
    "--no-require-hashes": _Option("no_require_hashes", False),
    "--trusted-host": _Option("trusted_host", True),
    "--hash": _Option("hash", True, per_requirement=True),
    # Accepted by pip in files; without effect here (only wheels are installed, no builds).
    "--no-binary": _Option("no_binary", True),
    "--only-binary": _Option("only_binary", True),
    "--prefer-binary": _Option("prefer_binary", False),
    "--use-feature": _Option("use_feature", True),
    "--all-releases": _Option("all_releases", True),
    "--only-final": _Option("only_final", True),
    "--config-settings": _Option("config_settings", True, per_requirement=True),
    "-C": _Option("config_settings", True, per_requirement=True),
}
_IGNORED = frozenset(
    {"no_binary", "only_binary", "prefer_binary", "use_feature", "config_settings", "all_releases",
     "only_final", "no_require_hashes"}
)  # fmt: skip


def _decode(data: bytes, path: Path) -> str:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data.decode(encoding)  # These codecs drop the BOM themselves.
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RequirementsFileError(
            f"{path} is not UTF-8 ({exc.reason} at byte {exc.start}); save it as UTF-8"
        ) from None


def _logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """(first line number, line) after joining continuations and removing comments."""
    start: int | None = None
    pending: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        is_comment = _COMMENT_RE.match(line) is not None
        if line.endswith("\\") and not is_comment:
            if not pending:
                start = number
            pending.append(line[:-1])
        elif pending:
            assert start is not None
            # A comment line ends a continuation without contributing to it.
            yield start, "".join(pending) + ("" if is_comment else line)
            pending = []
        else:
            yield number, line
    if pending:
        assert start is not None
        yield start, "".join(pending)


def _strip_comment(line: str) -> str:
    return _COMMENT_RE.sub("", line).strip()


def expand_variables(line: str, environ: Mapping[str, str]) -> str:
    """Replace `${NAME}` by the variable's value when it is set and not empty (pip's rule)."""

    def substitute(match: re.Match[str]) -> str:
        value = environ.get(match.group("name"))
        return value if value else match.group(0)

    return _ENV_VAR_RE.sub(substitute, line)


def _split_requirement_and_options(line: str) -> tuple[str, str]:
    """The requirement part and the options part: options start at the first `-` word.

    Only the options are shell-split; markers would not survive it.
    """
    words = line.split(" ")
    for index, word in enumerate(words):
        if word.startswith("-"):
            return " ".join(words[:index]).strip(), " ".join(words[index:])
    return line.strip(), ""


def _parse_options(text: str, where: str, shown: str) -> list[tuple[str, str | None]]:
    try:
        words = shlex.split(text)
    except ValueError as exc:
        raise RequirementsFileError(
            f"{where}: cannot split {redact_text(shown)!r}: {exc}"
        ) from None
    result: list[tuple[str, str | None]] = []
    index = 0
    while index < len(words):
        word = words[index]
        index += 1
        value: str | None = None
        if word.startswith("--"):
            key, sep, attached = word.partition("=")
            if key not in _OPTIONS:
                # Unambiguous prefixes of long options work, as with pip's option parser.
                matches = [o for o in _OPTIONS if o.startswith("--") and o.startswith(key)]
                if len(matches) != 1:
                    raise _unknown_option(key, where)
                key = matches[0]
            value = attached if sep else None
        elif word.startswith("-") and len(word) >= 2:
            key, attached = word[:2], word[2:]
            if key not in _OPTIONS:
                raise _unknown_option(key, where)
            value = attached or None
        else:
            raise RequirementsFileError(
                f"{where}: unexpected {word!r} after the options; put one requirement per line"
            )
        option = _OPTIONS[key]
        if option.takes_value and value is None:
            if index >= len(words):
                raise RequirementsFileError(f"{where}: {key} needs a value")
            value = words[index]
            index += 1
        elif not option.takes_value and value is not None:
            raise RequirementsFileError(f"{where}: {key} takes no value")
        result.append((key, value))
    return result


def _unknown_option(key: str, where: str) -> RequirementsFileError:
    hint = ""
    if key in ("--no-deps", "-U", "--upgrade", "--dry-run", "--user", "--target"):
        hint = f"; {key} is a command-line option (pip does not accept it in files either)"
    return RequirementsFileError(
        f"{where}: option {key} is not allowed in a requirements file{hint}"
    )


def _is_remote(location: str) -> bool:
    return urlsplit(location).scheme.lower() in ("http", "https")


def _local_path(location: str) -> Path:
    if urlsplit(location).scheme.lower() == "file":
        return Path(unquote(urlsplit(location).path))
    return Path(location).expanduser()


@dataclass
class _Reader:
    environ: Mapping[str, str]
    requests: list[Request] = field(default_factory=list)
    constraints: list[Request] = field(default_factory=list)
    index_url: OptionValue | None = None
    extra_index_urls: list[OptionValue] = field(default_factory=list)
    find_links: list[OptionValue] = field(default_factory=list)
    trusted_hosts: list[OptionValue] = field(default_factory=list)
    no_index: bool = False
    pre: bool = False
    require_hashes: bool = False
    warnings: list[str] = field(default_factory=list)

    def read(self, path: Path, *, constraint: bool, chain: tuple[Path, ...], via: str) -> None:
        resolved = path.resolve()
        if resolved in chain:
            cycle = " -> ".join(str(p) for p in (*chain[chain.index(resolved) :], resolved))
            raise RequirementsFileError(
                f"{path} includes itself ({cycle}); remove one of these -r/-c lines"
            )
        kind = "constraints" if constraint else "requirements"
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise RequirementsFileError(
                f"cannot open {kind} file {path}{via}: {exc.strerror or exc}"
            ) from None
        chain = (*chain, resolved)
        flag = "-c" if constraint else "-r"
        for number, raw in _logical_lines(_decode(data, path)):
            written = _strip_comment(raw)
            if not written:
                continue
            comes_from = f"{flag} {path} (line {number})"
            self.line(path, written, comes_from, constraint=constraint, chain=chain)

    def line(
        self,
        path: Path,
        written: str,
        comes_from: str,
        *,
        constraint: bool,
        chain: tuple[Path, ...],
    ) -> None:
        expanded = expand_variables(written, self.environ)
        requirement, options_text = _split_requirement_and_options(expanded)
        shown_requirement, _ = _split_requirement_and_options(written)
        options = _parse_options(options_text, comes_from, written) if options_text else []
        if requirement:
            self.requirement_line(requirement, shown_requirement, options, comes_from, constraint)
            return
        for key, value in options:
            assert value is not None or not _OPTIONS[key].takes_value
            self.option(path, key, value or "", written, comes_from, chain=chain)

    def requirement_line(
        self,
        text: str,
        shown: str,
        options: list[tuple[str, str | None]],
        comes_from: str,
        constraint: bool,
    ) -> None:
        hashes: set[str] = set()
        for key, value in options:
            option = _OPTIONS[key]
            if not option.per_requirement:
                raise RequirementsFileError(
                    f"{comes_from}: {key} cannot follow a requirement; put it on its own line"
                )
            if option.dest == "hash":
                assert value is not None
                hashes.add(_check_hash(value, comes_from))
            else:
                self.warnings.append(f"{comes_from}: {key} has no effect here (no builds); ignored")
        try:
            request = parse_request(text, comes_from, shown=shown)
        except InvalidRequest as exc:
            raise RequirementsFileError(str(exc)) from None
        if hashes:
            request = replace(request, hashes=frozenset(hashes))
        if not constraint:
            self.requests.append(request)
            return
        if request.name_from_filename:
            raise RequirementsFileError(
                f"{comes_from}: a constraint needs a name: write `name @ URL` or `name==version`"
            )
        if request.extras:
            raise RequirementsFileError(
                f"{comes_from}: constraints cannot have extras ({request.text}); "
                "put the extras in the requirement instead"
            )
        self.constraints.append(request)

    def option(
        self,
        path: Path,
        key: str,
        value: str,
        written: str,
        comes_from: str,
        *,
        chain: tuple[Path, ...],
    ) -> None:
        option = _OPTIONS[key]
        dest = option.dest
        shown = OptionValue(value, redact_url(_written_value(written, key, value)), comes_from)
        if dest in ("requirement", "constraint"):
            if _is_remote(value):
                raise RequirementsFileError(
                    f"{comes_from}: remote requirements files are not read "
                    f"({redact_url(value)}); download it and pass the local path"
                )
            nested = _local_path(value)
            if not nested.is_absolute():
                nested = path.parent / nested
            self.read(
                nested, constraint=dest == "constraint", chain=chain, via=f" (from {comes_from})"
            )
        elif dest == "editable":
            raise RequirementsFileError(
                f"{comes_from}: editable installs (-e) are not supported: they need a build; "
                "install the project with `pip install -e` instead, or list a built wheel"
            )
        elif dest == "index_url":
            self.index_url = shown
        elif dest == "extra_index_url":
            self.extra_index_urls.append(shown)
        elif dest == "find_links":
            relative = path.parent / value
            if not _is_remote(value) and not Path(value).is_absolute() and relative.exists():
                shown = OptionValue(str(relative), str(relative), comes_from)
            self.find_links.append(shown)
        elif dest == "trusted_host":
            self.trusted_hosts.append(shown)
        elif dest == "no_index":
            self.no_index = True
        elif dest == "pre":
            self.pre = True
        elif dest == "require_hashes":
            self.require_hashes = True
        elif dest == "hash":
            self.warnings.append(f"{comes_from}: --hash without a requirement; ignored")
        else:
            assert dest in _IGNORED
            self.warnings.append(f"{comes_from}: {key} has no effect here; ignored")


def _written_value(written: str, key: str, expanded_value: str) -> str:
    """The option's value as written (variables unexpanded), for display.

    Falls back to the expanded value when the written line cannot be split the same way; the
    caller redacts credentials either way.
    """
    try:
        words = shlex.split(_split_requirement_and_options(written)[1])
    except ValueError:
        return expanded_value
    for index, word in enumerate(words):
        if word == key and index + 1 < len(words):
            return words[index + 1]
        if word.startswith(key + "="):
            return word[len(key) + 1 :]
        if len(key) == 2 and word.startswith(key) and len(word) > 2:
            return word[2:]
    return expanded_value


def _check_hash(value: str, comes_from: str) -> str:
    match = _HASH_RE.match(value)
    if match is None:
        raise RequirementsFileError(
            f"{comes_from}: --hash={value!r} is not `sha256:<hex>` (or sha384, sha512)"
        )
    algorithm, digest = match.group("algorithm"), match.group("digest")
    if len(digest) != _HASH_LENGTHS[algorithm]:
        raise RequirementsFileError(
            f"{comes_from}: --hash={algorithm}:… has {len(digest)} hex digits, "
            f"{algorithm} needs {_HASH_LENGTHS[algorithm]}"
        )
    return f"{algorithm}:{digest.lower()}"


def read_requirements_file(
    path: str | os.PathLike[str],
    *,
    constraint: bool = False,
    environ: Mapping[str, str] | None = None,
) -> RequirementsFile:
    """Read a requirements file (or, with `constraint`, a constraints file) and its includes.

    `environ` is the environment for `${NAME}` expansion (default: `os.environ`). Raises
    `RequirementsFileError` naming the file and line for anything pip would reject, and for
    editables, remote includes and include cycles.
    """
    reader = _Reader(environ=os.environ if environ is None else environ)
    location = os.fspath(path)
    if _is_remote(location):
        raise RequirementsFileError(
            f"remote requirements files are not read ({redact_url(location)}); "
            "download it and pass the local path"
        )
    reader.read(_local_path(location), constraint=constraint, chain=(), via="")
    return RequirementsFile(
        requests=tuple(reader.requests),
        constraints=tuple(reader.constraints),
        index_url=reader.index_url,
        extra_index_urls=tuple(reader.extra_index_urls),
        find_links=tuple(reader.find_links),
        no_index=reader.no_index,
        pre=reader.pre,
        require_hashes=reader.require_hashes,
        trusted_hosts=tuple(reader.trusted_hosts),
        warnings=tuple(reader.warnings),
    )
