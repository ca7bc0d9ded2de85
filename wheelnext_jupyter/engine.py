"""The engine's front door: `plan(request)` (and, with the installer, `install(plan)`).

The command line, the magic, the sidebar and the widgets all build an `InstallRequest` and call
these; nothing here knows about IPython or Jupyter. Caches that should live as long as the kernel
(HTTP clients with their in-memory caches; detection, in `detection.py`) are kept per process.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import sys
import threading
from concurrent.futures import as_completed
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.utils import canonicalize_name
from packaging.version import Version

from wheelnext_jupyter.collector import paused
from wheelnext_jupyter.detection import Detection, detect
from wheelnext_jupyter.index.config import IndexOptions, resolve_index_config
from wheelnext_jupyter.index.http import HttpClient
from wheelnext_jupyter.install.target import (
    EnvironmentKind,
    TargetEnvironment,
    current_target,
    probe_target,
)
from wheelnext_jupyter.paths import cache_dir
from wheelnext_jupyter.providers import builtin
from wheelnext_jupyter.providers.trust import load_trust_list
from wheelnext_jupyter.record import MutableRecord, Record, field, replace
from wheelnext_jupyter.resolve.build import SourceBuilder
from wheelnext_jupyter.resolve.candidates import CandidateFinder, FileVerdict, VariantPolicy
from wheelnext_jupyter.resolve.hash_checking import (
    HashRules,
    hash_rules,
    mismatch_message,
    needed_algorithms,
    unhashed_message,
    unpinned_message,
    verdict,
)
from wheelnext_jupyter.resolve.installed import InstalledDistribution, installed_distributions
from wheelnext_jupyter.resolve.provider import MetadataSource, ResolveOptions
from wheelnext_jupyter.resolve.requirements import InvalidRequest, Request, parse_request
from wheelnext_jupyter.resolve.resolver import Plan, PlannedPackage, resolve
from wheelnext_jupyter.variants.ordering import Preference, Selection, SelectionOptions
from wheelnext_jupyter.variants.properties import ABI_DEPENDENCY_NAMESPACE
from wheelnext_jupyter.workers import WorkerPool

if TYPE_CHECKING:
    import mmap
    from collections.abc import Callable, Iterator, Mapping

    from wheelnext_jupyter.index.models import IndexFile
    from wheelnext_jupyter.index.priority import SourceSet
    from wheelnext_jupyter.install.download import Downloader, FetchedFile
    from wheelnext_jupyter.install.prefetch import Prefetcher
    from wheelnext_jupyter.install.staging import StagedWheel, StagingArea
    from wheelnext_jupyter.install.unpacked_cache import UnpackedCache
    from wheelnext_jupyter.install.wheelfile import VerifiedWheel
    from wheelnext_jupyter.providers.trust import TrustList
    from wheelnext_jupyter.resolve.candidates import ExternalAnswers, Pick
    from wheelnext_jupyter.variants.metadata import VariantMetadata
    from wheelnext_jupyter.variants.properties import VariantFeatureConfig


class RequestError(ValueError):
    """An install request that cannot be carried out as written; the message says how to fix it."""


#: What Ctrl-C stopping `plan` or `install` carries: nothing was written to the environment
#: (a roll-back restores it, and the commit, which cannot be undone, does not take Ctrl-C).
INTERRUPTED_INSTALL = "interrupted: nothing was installed, the environment is as it was"
#: What it carries once uv, which writes as it goes, was installing.
INTERRUPTED_UV = (
    "interrupted while uv was installing: what it had written stays "
    "(`wheelnext-jupyter list` shows the environment)"
)


@contextlib.contextmanager
def _interrupt_says(message: str) -> Iterator[None]:
    """Ctrl-C in the block ends it as `KeyboardInterrupt(message)`, unless one from deeper
    down says already what it left behind."""
    try:
        yield
    except KeyboardInterrupt as exc:
        if str(exc):
            raise
        raise KeyboardInterrupt(message) from None


class InstallRequest(MutableRecord):
    """Everything `wheelnext-jupyter install` and `%wninstall` accept (pip's names where pip has one)."""

    requirements: list[str] = field(default_factory=list)
    requirement_files: list[str] = field(default_factory=list)
    constraint_files: list[str] = field(default_factory=list)
    index: IndexOptions = field(default_factory=IndexOptions)
    pre: bool = False
    no_deps: bool = False
    #: pip's hash-checking mode for every package (on anyway once a requirement has a --hash).
    require_hashes: bool = False
    #: `-U`: upgrade the named packages (not their dependencies, as pip's only-if-needed).
    upgrade: bool = False
    force_reinstall: bool = False
    #: Install into the environment of this interpreter instead of the running one.
    python: str | None = None
    #: Into the interpreter's user site (`pip install --user`).
    user: bool = False
    #: Use this target profile (JSON or uv's TOML) instead of detecting the hardware.
    profile: str | None = None
    #: `NAME=LABEL`: choose this variant of NAME (only if the target supports it).
    variants: list[str] = field(default_factory=list)
    #: `NAME=LABEL`: never choose this variant of NAME.
    exclude_variants: list[str] = field(default_factory=list)
    #: `NS`, `NS::FEATURE` or `NS::FEATURE::VALUE`, first in the preference order.
    prefer: list[str] = field(default_factory=list)
    enable_providers: list[str] = field(default_factory=list)
    trust_providers: list[str] = field(default_factory=list)
    no_variants: bool = False
    no_default_extras: bool = False
    only_binary: bool = False
    refresh: bool = False
    #: Resolve for this Python version instead of the target interpreter's (e.g. "3.12").
    python_version: str | None = None
    environ: Mapping[str, str] | None = None


class PlanResult(MutableRecord):
    """A plan with everything it was made against, for reports and the installer."""

    plan: Plan
    request: InstallRequest
    target: TargetEnvironment
    detection: Detection
    sources: SourceSet
    finder: CandidateFinder
    installed: Mapping[str, InstalledDistribution]
    #: Core metadata of every pick the resolver read (reused by reports and the installer).
    metadata: MetadataSource
    #: Downloads started while resolving (`plan(prefetch=True)`); `install()` takes them over.
    prefetched: Prefetcher | None = None
    #: pip's hash-checking mode: the files `install()` may write.
    hashes: HashRules = field(default_factory=HashRules)

    def close(self) -> None:
        """Cancel downloads started while resolving that no install has used (idempotent)."""
        if self.prefetched is not None:
            self.prefetched.close()


# -- per-process state ---------------------------------------------------------------------------

_clients: dict[Path, HttpClient] = {}
_clients_lock = threading.Lock()


def http_client() -> HttpClient:
    """One HTTP client per cache directory for the life of the process (a kernel session)."""
    directory = cache_dir() / "http"
    with _clients_lock:
        client = _clients.get(directory)
        if client is None:
            client = _clients[directory] = HttpClient(cache_dir=directory)
            atexit.register(client.close)
        return client


# -- building blocks -----------------------------------------------------------------------------


def _name_label(text: str, option: str) -> tuple[str, str]:
    name, sep, label = text.partition("=")
    if not sep or not name.strip() or not label.strip():
        raise RequestError(f"{option} {text!r}: write NAME=LABEL (e.g. {option} torch=cu128)")
    return canonicalize_name(name.strip()), label.strip()


def variant_options(
    request: InstallRequest,
) -> tuple[dict[str, SelectionOptions], SelectionOptions]:
    """Per package: the exclude / select options (with the global preferences); and the options
    for every other package."""
    try:
        prefer = tuple(Preference.parse(text) for text in request.prefer)
    except ValueError as exc:
        raise RequestError(str(exc)) from None
    selected: dict[str, str] = {}
    for text in request.variants:
        name, label = _name_label(text, "--variant")
        selected[name] = label
    excluded: dict[str, set[str]] = {}
    for text in request.exclude_variants:
        name, label = _name_label(text, "--exclude-variant")
        excluded.setdefault(name, set()).add(label)
    options = {
        name: SelectionOptions(
            exclude=frozenset(excluded.get(name, ())), select=selected.get(name), prefer=prefer
        )
        for name in {*selected, *excluded}
    }
    return options, SelectionOptions(prefer=prefer)


def external_providers(detection: Detection, trust: TrustList, *, refresh: bool) -> ExternalAnswers:
    """Answers of trusted external plugins for namespaces we do not build in."""
    known: frozenset[str] | None = None

    def ask(
        metadata: VariantMetadata,
    ) -> tuple[dict[str, tuple[VariantFeatureConfig, ...]], dict[str, str]]:
        nonlocal known
        answered: dict[str, tuple[VariantFeatureConfig, ...]] = {}
        reasons: dict[str, str] = {}
        if detection.profile is not None:
            # A profile describes the target completely: no plugin runs.
            return answered, reasons
        if known is None:
            # Finding the built-ins imports them: only once a plan meets a variant.
            known = frozenset(builtin.available_namespaces())
        for ns, info in metadata.providers.items():
            if info.is_ahead_of_time or ns in known:
                continue
            # Imported at the first plugin: most installs run none.
            from wheelnext_jupyter.providers.external import query_external_provider

            result = query_external_provider(info, trust=trust, refresh=refresh)
            if result.ok:
                answered[ns] = result.configs
            else:
                reasons[ns] = result.message
        return answered, reasons

    return ask


def _requests(
    request: InstallRequest, target: TargetEnvironment
) -> tuple[list[Request], list[Request], InstallRequest]:
    """Parse requirement strings and files; files' index options join the request's. A lock
    file (`-r pylock.toml`) is read for `target`, alone: it lists every package to install."""
    requests: list[Request] = []
    constraints: list[Request] = []
    index = replace(
        request.index,
        indexes=list(request.index.indexes),
        extra_index_urls=list(request.index.extra_index_urls),
        find_links=list(request.index.find_links),
    )
    pre = request.pre
    require_hashes = request.require_hashes
    no_deps = request.no_deps
    if request.requirement_files or request.constraint_files:
        # Imported only for files (`-r`, `-c`): names on the command line need no file reader.
        from wheelnext_jupyter.resolve.lock_file import is_lock_file, read_lock_file
        from wheelnext_jupyter.resolve.requirements_file import read_requirements_file
    try:
        for text in request.requirements:
            requests.append(parse_request(text, "command line"))
        for path in request.requirement_files:
            if is_lock_file(path):
                if len(request.requirement_files) > 1 or request.requirements:
                    raise RequestError(
                        f"a lock file lists everything to install: give {path} alone, "
                        "without other requirements or -r files"
                    )
                python = request.python_version or ".".join(map(str, target.version))
                locked = read_lock_file(
                    path, markers=target.markers, python_version=Version(python)
                )
                requests.extend(locked.requests)
                index.extra_index_urls += list(locked.extra_index_urls)
                index.find_links += list(locked.find_links)
                index.locked = locked.wheels
                require_hashes = no_deps = True
                continue
            parsed = read_requirements_file(path, environ=request.environ)
            requests.extend(parsed.requests)
            constraints.extend(parsed.constraints)
            if parsed.index_url is not None and index.index_url is None:
                index.index_url = parsed.index_url.value
            index.extra_index_urls += [o.value for o in parsed.extra_index_urls]
            index.find_links += [o.value for o in parsed.find_links]
            index.no_index = index.no_index or parsed.no_index
            pre = pre or parsed.pre
            require_hashes = require_hashes or parsed.require_hashes
        for path in request.constraint_files:
            parsed = read_requirements_file(path, constraint=True, environ=request.environ)
            constraints.extend(parsed.constraints or parsed.requests)
    except (InvalidRequest, ValueError) as exc:
        raise RequestError(str(exc)) from None
    if not requests:
        raise RequestError(
            "nothing to install: name at least one requirement (e.g. `torch`) or a file with -r"
        )
    return (
        requests,
        constraints,
        replace(request, index=index, pre=pre, require_hashes=require_hashes, no_deps=no_deps),
    )


def target_environment(request: InstallRequest) -> TargetEnvironment:
    if request.python:
        return probe_target(request.python, user=request.user)
    return current_target(user=request.user)


@paused()
def plan(
    request: InstallRequest,
    *,
    detection: Detection | None = None,
    prefetch: bool = False,
    stage_ahead: bool = True,
    installer: str = "wheelnext",
) -> PlanResult:
    """Resolve the request for its target: the exact files, sources and variants, with reasons.

    With `prefetch`, each wheel starts downloading as soon as the resolver pins it, and with
    `stage_ahead` is also unpacked for the built-in installer without bytecode (pass False when
    the install will compile bytecode or use uv); pass it when an install follows, and
    `install()` (or `PlanResult.close()`) ends what is left. `installer` is the one that
    install will use: uv needs wheel files, the built-in one does not.
    """
    target = target_environment(request)
    requests, constraints, request = _requests(request, target)
    hashes = hash_rules(requests, constraints, require_hashes=request.require_hashes)
    if hashes.active and (loose := unpinned_message(requests)) is not None:
        raise RequestError(loose)
    installed = installed_distributions(target.site_dirs)
    sources = resolve_index_config(request.index).open(http_client())
    if not request.refresh:
        # Their pages come while the profile is read and the installer is made ready. One
        # installed already may need none (re-running a notebook cell): its page is left for
        # the resolver to ask for if it needs it.
        again = request.upgrade or request.force_reinstall
        sources.ask_ahead(
            r.name
            for r in requests
            # A marker may leave the requirement out: its page is left to the resolver too.
            if r.url is None and r.marker is None and (again or r.name not in installed)
        )
    prefetcher = (
        _prefetcher(target, stage_ahead=stage_ahead, files=installer == "uv") if prefetch else None
    )
    try:
        with _interrupt_says(INTERRUPTED_INSTALL):
            return _plan(
                request,
                requests,
                constraints,
                target,
                installed,
                detection,
                sources,
                prefetcher,
                hashes,
            )
    except BaseException:
        if prefetcher is not None:
            prefetcher.close()
        raise


def _prefetcher(target: TargetEnvironment, *, stage_ahead: bool, files: bool) -> Prefetcher:
    from wheelnext_jupyter.install.cores import available_cores
    from wheelnext_jupyter.install.download import Downloader, WheelCache
    from wheelnext_jupyter.install.externally_managed import marker_path
    from wheelnext_jupyter.install.prefetch import Prefetcher
    from wheelnext_jupyter.install.unpacked_cache import UnpackedCache

    def make_area() -> StagingArea:
        # Imported at the first pin, while the resolver waits for the index, rather than
        # before the first request (the command line imports the engine for each run).
        from wheelnext_jupyter.install.staging import StagingArea

        return StagingArea(target, UnpackedCache(cache_dir() / "unpacked"))

    # Nothing is written into an externally managed environment before the installer's own
    # check has allowed it: there, wheels are only downloaded ahead. An environment that cannot
    # be written to is reported by the install itself, as without prefetching.
    staging = stage_ahead and marker_path(target) is None
    unpacked = None if files else _unpacked_cache(target)
    downloader = Downloader(http_client(), WheelCache(cache_dir() / "wheels"), unpacked=unpacked)
    return Prefetcher(
        downloader,
        unpacking=threading.Semaphore(available_cores()),
        make_area=make_area if staging else None,
        unpackers=available_cores(),
    )


def _unpacked_cache(target: TargetEnvironment) -> UnpackedCache | None:
    """The unpacked cache, where the target can have hard links to its files."""
    from wheelnext_jupyter.install.unpacked_cache import UnpackedCache

    cache = UnpackedCache(cache_dir() / "unpacked")
    return cache if cache.usable_for(target.scheme.purelib) else None


def _plan(
    request: InstallRequest,
    requests: list[Request],
    constraints: list[Request],
    target: TargetEnvironment,
    installed: Mapping[str, InstalledDistribution],
    detection: Detection | None,
    sources: SourceSet,
    prefetcher: Prefetcher | None,
    hashes: HashRules,
) -> PlanResult:
    if detection is None:
        detection = detect(refresh=request.refresh, profile=request.profile)
    options = ResolveOptions(
        pre=request.pre,
        no_deps=request.no_deps,
        upgrade=frozenset(r.name for r in requests) if request.upgrade else frozenset(),
        force_reinstall=request.force_reinstall,
        no_default_extras=request.no_default_extras,
    )
    builder = SourceBuilder(sources, target.python, cache_dir() / "built")
    versions: dict[str, Version] = {name: dist.version for name, dist in installed.items()}
    # `abi_dependency` variants are judged against the environment being built: the installed
    # versions overlaid with the plan's own. A plan that changes such a version is made again with
    # the new versions until it stops changing (a package and its ABI-matched extension settle in
    # two rounds).
    for _ in range(_ABI_ROUNDS):
        policy = variant_policy(request, target, detection, installed_versions=versions)
        finder = CandidateFinder(
            sources,
            target,
            policy,
            refresh=request.refresh,
            only_binary=request.only_binary,
            python_version=Version(request.python_version) if request.python_version else None,
            hashes=hashes,
        )
        metadata = MetadataSource(
            finder,
            builder,
            from_downloads=(
                _metadata_reader(prefetcher, {r.name for r in requests})
                if prefetcher is not None
                else None
            ),
        )
        result = resolve(
            requests,
            finder=finder,
            installed=installed,
            options=options,
            constraints=constraints,
            metadata=metadata,
            on_pin=(
                _pin_handler(prefetcher, {r.name for r in requests})
                if prefetcher is not None
                else None
            ),
            on_guess=(
                _pin_handler(prefetcher, {r.name for r in requests}, guess=True)
                if prefetcher is not None
                else None
            ),
        )
        built: dict[str, Version] = dict(versions)
        built.update((p.name, p.version) for p in result.packages)
        if not _uses_abi_dependency(result) or built == versions:
            break
        versions = built
    if hashes.active:
        _check_hashes_given(result, hashes)
    if target.reads_first:
        _check_precedence(result, target)
    return PlanResult(
        result, request, target, detection, sources, finder, installed, metadata, prefetcher, hashes
    )


def _check_precedence(plan: Plan, target: TargetEnvironment) -> None:
    """What an install writes must be what the interpreter imports: a copy of it in a site
    directory read first (the user site ahead of a plain interpreter's site-packages, a virtual
    environment's own ahead of the user site) would still win. pip refuses the same."""
    for package in plan.to_install:
        old = package.replaces
        if old is None or old.path is None or old.path.parent not in target.reads_first:
            continue
        if target.kind is EnvironmentKind.USER:
            way_out = "install without --user"
        else:
            way_out = (
                f"install with --user (it replaces that copy), or remove it first "
                f"(python -m pip uninstall {package.name})"
            )
        raise RequestError(
            f"{package.name} {old.version} in {old.path.parent} comes first on the "
            f"interpreter's path, so {package.name} {package.version} installed into "
            f"{target.scheme.purelib} would not be imported; {way_out}"
        )


def _check_hashes_given(plan: Plan, hashes: HashRules) -> None:
    """In hash-checking mode, before anything is fetched for the install: every package the
    plan writes has hashes, and a source distribution's match as its index publishes them
    (the build downloads it checked against those)."""
    changing = plan.to_install
    missing = unhashed_message(p.name for p in changing if not hashes.allowed.get(p.name))
    if missing is not None:
        raise RequestError(missing)
    for package in changing:
        candidate = package.pick.candidate
        if package.pick.is_sdist and candidate is not None:
            allowed = hashes.allowed[package.name]
            if verdict(allowed, candidate.file.hashes) is not True:
                raise RequestError(
                    f"hash-checking mode: the index publishes no hash of {candidate.file.filename} "
                    f"that matches a --hash given for {package.name}, so its build cannot be "
                    "checked; give the hash of a wheel of it, or of this file"
                )


def _pin_handler(
    prefetcher: Prefetcher, requested: set[str], *, guess: bool = False
) -> Callable[[Pick], None]:
    start = prefetcher.guessed if guess else prefetcher.pinned

    def pinned(pick: Pick) -> None:
        # Source distributions are built by the installer, from the file it downloads itself.
        if pick.candidate is not None and not pick.is_sdist:
            start(
                pick.candidate.file,
                pick.candidate.source.name,
                requested=pick.name in requested,
            )

    return pinned


def _metadata_reader(
    prefetcher: Prefetcher, requested: set[str]
) -> Callable[[Pick, bool], bytes | None]:
    def read(pick: Pick, wait: bool) -> bytes | None:
        candidate = pick.candidate
        assert candidate is not None
        fetched = prefetcher.local(candidate.file)
        if fetched is None:
            if not wait:
                return None
            fetched = prefetcher.fetched(
                candidate.file, candidate.source.name, requested=pick.name in requested
            )
        from wheelnext_jupyter.install.unpacked_cache import StaleEntry

        try:
            return fetched.core_metadata()
        except StaleEntry:
            return None  # a changed cache entry: the index's copy of the wheel is read instead

    return read


#: At most this many resolutions to settle `abi_dependency` variants against the plan's versions.
_ABI_ROUNDS = 3


def _uses_abi_dependency(result: Plan) -> bool:
    """Whether any package's variant choice depended on `abi_dependency` properties."""
    return any(
        p.pick.selection is not None and ABI_DEPENDENCY_NAMESPACE in p.pick.selection.namespaces
        for p in result.packages
    )


def variant_policy(
    request: InstallRequest,
    target: TargetEnvironment,
    detection: Detection,
    *,
    installed_versions: Mapping[str, Version] | None = None,
) -> VariantPolicy:
    """How variants are judged for this request: the target's support, trusted external plugins
    and the user's variant options."""
    per_package, default_options = variant_options(request)
    return VariantPolicy(
        supported_for=detection.supported_for,
        environment=_enable_if_environment(target, detection),
        enabled_optional=frozenset(request.enable_providers),
        options=per_package,
        default_options=default_options,
        external=external_providers(
            detection, load_trust_list(request.trust_providers), refresh=request.refresh
        ),
        installed_versions=dict(installed_versions or {}),
        no_variants=request.no_variants,
    )


def _enable_if_environment(target: TargetEnvironment, detection: Detection) -> dict[str, str]:
    """`enable-if` is evaluated for the machine being installed for: a profile's recorded
    markers win over the target interpreter's."""
    environment = dict(target.markers)
    if detection.profile is not None:
        markers = detection.profile.host.get("markers")
        if isinstance(markers, dict):
            environment.update({str(k): str(v) for k, v in markers.items()})
    return environment


# -- install -------------------------------------------------------------------------------------

if TYPE_CHECKING:
    from wheelnext_jupyter.index.sources import SourceRef
    from wheelnext_jupyter.install.download import Downloader
    from wheelnext_jupyter.install.staging import StagedWheel, StagingArea
    from wheelnext_jupyter.install.wheelfile import VerifiedWheel


class Progress(Record):
    """One progress event: the phase, and for downloads the file and bytes."""

    phase: str  # "download", "build", "verify", "install", "done"
    files_done: int
    files_total: int
    filename: str | None = None
    bytes_done: int = 0
    bytes_total: int | None = None
    #: The file came from the wheel cache or a local directory: no bytes were transferred.
    cached: bool = False
    #: Set on the one "download" event that ends a file (the others report bytes in flight).
    file_finished: bool = False


class FetchedWheel(Record):
    """A planned package's wheel as installed: the exact file and where it came from."""

    package: PlannedPackage
    filename: str
    #: None where no file was kept: the wheel went from memory, or from the unpacked cache,
    #: into the environment.
    path: Path | None
    sha256: str
    size: int
    #: None for a wheel built here from a source distribution.
    source: SourceRef | None
    #: The wheel's `variant.json` (for lock files), or None.
    variant_json: bytes | None = None


class InstallResult(MutableRecord):
    result: PlanResult
    installed: tuple[str, ...]
    removed: tuple[str, ...]
    restart_required: tuple[str, ...]
    warnings: tuple[str, ...]
    #: The files installed, in plan order (for lock files and reports).
    wheels: tuple[FetchedWheel, ...] = ()


#: Installers `install()` can hand the verified files to.
INSTALLERS = ("wheelnext", "uv")


class _DownloadMeter:
    """Turns byte counts from many download threads into ordered `Progress` events."""

    def __init__(self, report: Callable[[Progress], None], total: int, size: int | None) -> None:
        self._report = report
        self._lock = threading.Lock()
        self._total = total
        self._size = size
        self._files = 0
        self._bytes = 0

    def add(self, filename: str, count: int) -> None:
        with self._lock:
            self._bytes += count
            self._report(
                Progress("download", self._files, self._total, filename, self._bytes, self._size)
            )

    def finished(self, filename: str, cached: bool) -> None:
        with self._lock:
            self._files += 1
            self._report(
                Progress(
                    "download",
                    self._files,
                    self._total,
                    filename,
                    self._bytes,
                    self._size,
                    cached=cached,
                    file_finished=True,
                )
            )


def _fetch(
    result: PlanResult,
    package: PlannedPackage,
    builder: SourceBuilder,
    downloader: Downloader,
    meter: _DownloadMeter,
    area: StagingArea | None,
    compile_bytecode: bool,
    unpacking: threading.Semaphore,
) -> tuple[FetchedWheel, VerifiedWheel | StagedWheel]:
    """Download (or build) one planned package's wheel and verify it, in a worker thread.

    With a staging `area` the wheel is verified while it is unpacked there (read once, in this
    thread, while other files are still downloading); without one (uv installs it) it is a file.
    """
    from wheelnext_jupyter.install.download import FetchedFile
    from wheelnext_jupyter.install.unpacked_cache import StaleEntry
    from wheelnext_jupyter.install.wheelfile import verify_wheel
    from wheelnext_jupyter.install.writer import WriteOptions

    pick = package.pick
    assert pick.candidate is not None
    file = pick.candidate.file
    source = None if pick.is_sdist else pick.candidate.source
    staged: StagedWheel | None = None

    def on_bytes(count: int) -> None:
        meter.add(file.filename, count)

    if pick.is_sdist:
        path = builder.wheel(pick)
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        got = FetchedFile(path, path.name, digest, path.stat().st_size, False)
        meter.finished(path.name, cached=False)
    else:
        prefetched = result.prefetched
        if prefetched is not None and not prefetched.started(file):
            prefetched = None
        if prefetched is not None:
            got = prefetched.result(file, on_bytes)
        else:
            got = downloader.fetch(file, source=pick.candidate.source.name, on_bytes=on_bytes)
        meter.finished(file.filename, cached=got.from_cache)
        allowed = result.hashes.for_project(package.name)
        if allowed is not None:
            got = _hash_checked(package.name, allowed, got, downloader, file, source)
        if prefetched is not None and area is not None and area is prefetched.area:
            # Unpacked while resolving, with the default options; waited for outside the
            # `unpacking` slots, which the prefetcher's own staging needs.
            staged = prefetched.staged(file)
            if staged is not None and staged.options != WriteOptions(requested=package.requested):
                staged = None
    options = WriteOptions(requested=package.requested, compile_bytecode=compile_bytecode)
    if staged is None:
        # Verified here, while other files are still downloading: nothing is written into the
        # environment until every wheel of the plan has passed.
        # Unpacking is decompressing, hashing and writing: as many at once as there are cores;
        # more threads would only contend for the GIL and the file system while downloads
        # still overlap.
        with unpacking:
            if area is None:
                got = _on_disk(got, downloader, file, source)
                assert got.path is not None
                verified = verify_wheel(got.path, result.target)
                return _fetched(package, got, source, verified), verified
            # Built wheels are not kept unpacked: they are made once for this install.
            try:
                staged = area.stage_fetched(got, options, cache=not pick.is_sdist)
            except StaleEntry:
                assert source is not None
                got = downloader.fetch(file, source=source.name, entries=False)
                staged = area.stage_fetched(got, options)
    if got.content is not None:
        if not staged.unpacked_entry:
            # Its members could not be kept unpacked: the wheel cache keeps the file instead.
            downloader.cache.keep(got)
        got.release()
    return _fetched(package, got, source, staged.wheel), staged


def _on_disk(
    got: FetchedFile, downloader: Downloader, file: IndexFile, source: SourceRef | None
) -> FetchedFile:
    """The fetched wheel as a file (for uv), written from memory or downloaded again."""
    from wheelnext_jupyter.install.download import FetchedFile

    if got.path is not None:
        return got
    path = downloader.cache.keep(got)
    got.release()
    if path is not None:
        return FetchedFile(path, got.filename, got.sha256, got.size, got.from_cache)
    assert source is not None
    return downloader.fetch(file, source=source.name, entries=False)


def _hash_checked(
    name: str,
    allowed: frozenset[str],
    got: FetchedFile,
    downloader: Downloader,
    file: IndexFile,
    source: SourceRef | None,
) -> FetchedFile:
    """The fetched wheel, once its content has matched one of the --hash values given for its
    project (hash-checking mode); raises `HashMismatch` before anything is written."""
    from wheelnext_jupyter.index.errors import HashMismatch

    where = source.name if source is not None else "here"
    digests = {"sha256": got.sha256}
    if verdict(allowed, digests) is None:
        # Hashes of another algorithm only: the wheel's own bytes are needed, which a wheel
        # linked from the unpacked cache does not have at hand.
        if got.content is None and got.path is None:
            got = downloader.fetch(file, source=where, entries=False)
        data: bytes | mmap.mmap
        if got.content is not None:
            data = got.content
        else:
            assert got.path is not None
            data = got.path.read_bytes()
        for algorithm in needed_algorithms(allowed):
            digests[algorithm] = hashlib.new(algorithm, data).hexdigest()
    if verdict(allowed, digests) is not True:
        raise HashMismatch(
            mismatch_message(name, got.filename, where, digests),
            url=where,
            algorithm=", ".join(sorted(digests)),
            expected=", ".join(sorted(allowed)),
            got=", ".join(f"{a}:{v}" for a, v in sorted(digests.items())),
        )
    return got


def _fetched(
    package: PlannedPackage, got: FetchedFile, source: SourceRef | None, wheel: VerifiedWheel
) -> FetchedWheel:
    return FetchedWheel(
        package, got.filename, got.path, got.sha256, got.size, source, wheel.variant_json
    )


@paused()
def install(
    result: PlanResult,
    *,
    progress: Callable[[Progress], None] | None = None,
    compile_bytecode: bool = False,
    break_system_packages: bool = False,
    installer: str = "wheelnext",
    max_downloads: int = 8,
    client: HttpClient | None = None,
) -> InstallResult:
    """Carry out a plan in its target environment: every package or none.

    Files are downloaded in parallel (`max_downloads` at a time, through `client`, by default
    the process's shared one), each verified as soon as it arrives; a failure of any (network,
    hash, wheel check) stops the install before anything is written. `installer` "uv" hands the
    verified files to uv instead of writing them here.
    """
    from wheelnext_jupyter.install.cores import available_cores
    from wheelnext_jupyter.install.download import Downloader, WheelCache
    from wheelnext_jupyter.install.externally_managed import check_externally_managed
    from wheelnext_jupyter.install.restart import restart_required
    from wheelnext_jupyter.install.staging import StagedWheel, StagingArea
    from wheelnext_jupyter.install.transaction import PlannedWheel, install_wheels
    from wheelnext_jupyter.install.unpacked_cache import UnpackedCache
    from wheelnext_jupyter.install.wheelfile import VerifiedWheel

    if installer not in INSTALLERS:
        raise RequestError(
            f"unknown installer {installer!r}; choose one of {', '.join(INSTALLERS)}"
        )

    def report(event: Progress) -> None:
        if progress is not None:
            progress(event)

    packages = result.plan.to_install
    total = len(packages)
    # Nothing was written to the environment before the end of this block: a roll-back
    # restored it, and the commit, which cannot be undone, does not take Ctrl-C.
    with _interrupt_says(INTERRUPTED_INSTALL):
        builder = result.metadata.build or SourceBuilder(
            result.sources, result.target.python, cache_dir() / "built"
        )
        sizes = [p.pick.candidate.file.size if p.pick.candidate else None for p in packages]
        known = [size for size in sizes if size is not None]
        meter = _DownloadMeter(report, total, sum(known) if len(known) == len(sizes) else None)
        # The built-in installer unpacks each wheel into a staging directory as soon as it has
        # arrived (checking it on the way); uv gets the verified files.
        if installer != "uv":
            check_externally_managed(result.target, break_system_packages=break_system_packages)
        prefetched = result.prefetched
        area: StagingArea | None = None
        if installer != "uv" and packages:
            # Wheels staged while resolving were staged without bytecode.
            if prefetched is not None and prefetched.area is not None and not compile_bytecode:
                area = prefetched.area
            else:
                area = StagingArea(result.target, UnpackedCache(cache_dir() / "unpacked"))
        downloader = Downloader(
            client or http_client(),
            WheelCache(cache_dir() / "wheels"),
            unpacked=area.unpacked if area is not None else None,
        )
        try:
            done: dict[str, tuple[FetchedWheel, VerifiedWheel | StagedWheel]] = {}
            workers = min(max(1, max_downloads), max(1, total))
            pool = WorkerPool(max_workers=workers, thread_name_prefix="wheelnext-download")
            unpacking = (
                prefetched.unpacking
                if prefetched is not None
                else threading.Semaphore(available_cores())
            )
            try:
                futures = {
                    pool.submit(
                        _fetch,
                        result,
                        package,
                        builder,
                        downloader,
                        meter,
                        area,
                        compile_bytecode,
                        unpacking,
                    ): package
                    # Largest first: the big wheels take longest to unpack, so starting them early
                    # keeps the last wheels from finishing alone on one core.
                    for package in sorted(packages, key=_size, reverse=True)
                }
                for verified, future in enumerate(as_completed(futures), start=1):
                    package = futures[future]
                    done[package.name] = future.result()
                    report(
                        Progress("verify", verified, total, _wheel_of(done[package.name][1]).name)
                    )
            except BaseException:
                # Downloads stop at once (an interrupt is answered then, not once every file has
                # arrived); a wheel being unpacked is finished before its staging area goes.
                downloader.cancel()
                if prefetched is not None:
                    prefetched.cancel()
                pool.shutdown(wait=True, cancel_futures=True)
                raise
            pool.shutdown(wait=True)
            ordered = [done[package.name] for package in packages]
            warnings: list[str] = []
            outcome = None
            if installer == "uv":
                from wheelnext_jupyter.install.uv_backend import install_with_uv

                verified_wheels = [
                    (fetched.package, wheel)
                    for fetched, wheel in ordered
                    if isinstance(wheel, VerifiedWheel)
                ]
                with _interrupt_says(INTERRUPTED_UV):
                    by_uv = install_with_uv(
                        verified_wheels,
                        result.target,
                        compile_bytecode=compile_bytecode,
                        break_system_packages=break_system_packages,
                    )
                if by_uv.refused_variants is None:
                    outcome = by_uv.outcome
                    report(Progress("install", total, total))
                else:
                    warnings.append(by_uv.refused_variants)
            if outcome is None:
                planned = [
                    PlannedWheel(
                        wheel.wheel if isinstance(wheel, StagedWheel) else wheel,
                        requested=fetched.package.requested,
                        replaces=(
                            fetched.package.replaces.name
                            if fetched.package.replaces is not None
                            else None
                        ),
                        staged=wheel if isinstance(wheel, StagedWheel) else None,
                    )
                    for fetched, wheel in ordered
                ]
                outcome = install_wheels(
                    planned,
                    result.target,
                    compile_bytecode=compile_bytecode,
                    break_system_packages=break_system_packages,
                    after_wheel=lambda position, _: report(Progress("install", position, total)),
                )
        finally:
            # The prefetcher first: it stops its workers, then removes its own staging area.
            result.close()
            if area is not None and (prefetched is None or area is not prefetched.area):
                area.close()
    restart: tuple[str, ...] = ()
    if result.target.is_current:
        if result.target.kind is EnvironmentKind.USER:
            _read_user_site(result.target)
        replacing = [p.name for p in packages if p.replaces is not None]
        restart = tuple(need.name for need in restart_required(outcome, shadowing=replacing))
    report(Progress("done", total, total))
    return InstallResult(
        result=result,
        installed=tuple(f"{d.name} {d.version}" for d in outcome.installed),
        removed=tuple(f"{d.name} {d.version}" for d in outcome.removed),
        restart_required=restart,
        warnings=(*outcome.recovered, *warnings),
        wheels=tuple(fetched for fetched, _ in ordered),
    )


def _read_user_site(target: TargetEnvironment) -> None:
    """Put the user site on this interpreter's path where `site` would have (after a virtual
    environment's own site-packages, ahead of a plain interpreter's) if a first install there
    has just made it: `site` adds it at start-up only where it exists."""
    import site

    first = {str(directory) for directory in target.reads_first}
    after = {str(directory) for directory in target.reads_after}
    for directory in dict.fromkeys(str(d) for d in (target.scheme.purelib, target.scheme.platlib)):
        if directory in sys.path or not Path(directory).is_dir():
            continue
        site.addsitedir(directory)  # its .pth files too
        sys.path.remove(directory)
        behind = [i + 1 for i, entry in enumerate(sys.path) if entry in first]
        ahead = [i for i, entry in enumerate(sys.path) if entry in after]
        sys.path.insert(max(behind) if behind else min(ahead, default=len(sys.path)), directory)


def _size(package: PlannedPackage) -> int:
    candidate = package.pick.candidate
    return (candidate.file.size or 0) if candidate is not None else 0


def _wheel_of(item: VerifiedWheel | StagedWheel) -> Path:
    from wheelnext_jupyter.install.staging import StagedWheel

    return item.wheel.path if isinstance(item, StagedWheel) else item.path


# -- explain -------------------------------------------------------------------------------------


class PackageExplanation(Record):
    """The per-variant verdicts of one package version from its source, without installing."""

    name: str
    version: Version
    source: str
    selection: Selection | None
    files: tuple[FileVerdict, ...]
    #: Set when no variant metadata applies (no variant wheels, or none usable): why.
    note: str | None = None


def explain_package(
    request: InstallRequest, *, detection: Detection | None = None
) -> PackageExplanation:
    """Which variants of one version (the newest that matches, or the pinned one) fit the target."""
    if len(request.requirements) != 1:
        raise RequestError("explain takes exactly one package, e.g. `explain torch==2.9.0`")
    wanted = parse_request(request.requirements[0], "command line")
    target = target_environment(request)
    if detection is None:
        detection = detect(refresh=request.refresh, profile=request.profile)
    sources = resolve_index_config(request.index).open(http_client())
    policy = variant_policy(request, target, detection)
    finder = CandidateFinder(sources, target, policy, refresh=request.refresh)
    lookup = finder.lookup(wanted.name)
    versions = [
        (version, source)
        for version, source in finder.versions(wanted.name, lookup)
        if wanted.specifier.contains(version, prereleases=request.pre or None)
    ]
    if not versions:
        where = ", ".join(f"{a.source.name}: {a.outcome.value}" for a in lookup.attempts)
        if lookup.is_empty:
            raise RequestError(
                f"no source has {wanted.name} ({where or 'no sources configured'}): check the "
                "name, or add the index or directory that has it "
                "(`--extra-index-url URL`, `--find-links PATH`)"
            )
        raise RequestError(
            f"no version of {wanted.name} matches {wanted.specifier or 'any version'} ({where}); "
            f"`wheelnext-jupyter explain {wanted.name}` shows the newest"
        )
    version, source = versions[0]
    outcome = finder.outcome(wanted.name, lookup, version, source)
    # The verdicts of every published variant, whatever the tags of this target (the file
    # verdicts say which wheels the target can take at all).
    candidate = lookup.of_version(version, source)[0]
    metadata = finder.sources.variant_metadata(lookup, candidate)
    selection = policy.select(wanted.name, metadata) if metadata is not None else None
    note = None if selection is not None else f"{wanted.name} {version} publishes no variants"
    return PackageExplanation(wanted.name, version, str(source), selection, outcome.files, note)
