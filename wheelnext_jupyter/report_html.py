"""HTML and text renderings of the JSON report and of a detection, for notebooks.

Everything here works on the JSON documents (`report.build_report`, `NamespaceResult.to_json`)
rather than on engine objects, so that a report read back from a file or received over a comm
renders the same way. Every value is escaped; nothing from the process environment is shown.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from html import escape
from typing import Any

#: The JSON report's MIME type (our renderer in JupyterLab; other front ends fall back to HTML).
REPORT_MIME = "application/vnd.wheelnext.report+json"

_STYLE = (
    "<style>"
    ".wnj{font-family:var(--jp-ui-font-family,sans-serif);font-size:13px;line-height:1.4}"
    ".wnj table{border-collapse:collapse;margin:4px 0}"
    ".wnj th,.wnj td{text-align:left;padding:2px 8px;vertical-align:top;"
    "border-bottom:1px solid var(--jp-border-color2,#ddd)}"
    ".wnj code{font-size:12px}"
    ".wnj .wnj-restart{border-left:4px solid #e0a800;padding:4px 8px;margin:6px 0;"
    "background:rgba(224,168,0,.12)}"
    ".wnj .wnj-warning{color:#a15c00}"
    ".wnj .wnj-rejected{color:#888}"
    ".wnj .wnj-chosen{font-weight:bold}"
    "</style>"
)


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _code(value: object) -> str:
    return f"<code>{_e(value)}</code>"


def _dict(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: object) -> Sequence[Any]:
    return value if isinstance(value, list | tuple) else ()


# -- host ----------------------------------------------------------------------------------------


def host_lines(host: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(what, description) rows for CPU, GPUs, TPU and platform, from `host_json()` facts.

    Only named facts are read (models, versions, counts); allow-listed environment values that
    detectors keep for the record are never shown.
    """
    rows: list[tuple[str, str]] = []
    cpu = _dict(host.get("cpu"))
    if cpu:
        model = cpu.get("model_name") or cpu.get("model") or "unknown model"
        arch = cpu.get("architecture") or ""
        level = cpu.get("psabi_level")
        text = f"{model} ({arch})" if arch else str(model)
        if level and level != "unknown":
            text += f", x86-64-{level}"
        rows.append(("CPU", text))
    for kind in ("nvidia", "amd", "intel"):
        data = _dict(host.get(kind))
        driver = (
            data.get("driver_version")
            or data.get("kernel_driver_version")
            or data.get("kernel_module_version")
        )
        extras = [
            f"driver {driver}" if driver else "",
            f"CUDA {data['cuda_driver_version']}" if data.get("cuda_driver_version") else "",
            f"ROCm {data['rocm_version']}" if data.get("rocm_version") else "",
        ]
        suffix = "; ".join(part for part in extras if part)
        for device in _list(data.get("gpus")):
            device = _dict(device)
            bits = [str(device.get("name") or device.get("marketing_name") or "unknown device")]
            memory = device.get("memory_total_bytes")
            if isinstance(memory, int) and memory > 0:
                bits.append(f"{memory / 2**30:.0f} GiB")
            if device.get("compute_capability"):
                bits.append(f"compute capability {device['compute_capability']}")
            arch = device.get("gfx") or device.get("device_ip")
            if arch:
                bits.append(str(arch))
            rows.append((f"GPU ({kind})", ", ".join(bits) + (f"; {suffix}" if suffix else "")))
    tpu = _dict(host.get("tpu"))
    if tpu.get("present") or tpu.get("chips"):
        generation = tpu.get("generation") or "unknown generation"
        rows.append(("TPU", f"{generation}, {tpu.get('chips') or '?'} chip(s)"))
    if not any(what.startswith(("GPU", "TPU")) for what, _ in rows) and (cpu or host.get("nvidia")):
        rows.append(("Accelerators", "none detected"))
    platform = _dict(host.get("platform"))
    hosting = _dict(host.get("hosting"))
    where = hosting.get("platform") or "local"
    system = " ".join(str(platform[k]) for k in ("system", "machine") if platform.get(k))
    python = platform.get("python")
    text = (
        str(where) + (f" ({system})" if system else "") + (f", Python {python}" if python else "")
    )
    if hosting or platform:
        rows.append(("Platform", text))
    for kind, problem in _dict(host.get("errors")).items():
        rows.append((f"Detector {kind}", f"failed: {problem}"))
    return rows


def _features_text(features: Iterable[Mapping[str, Any]]) -> str:
    flags: list[str] = []
    parts: list[str] = []
    for feature in features:
        values = [str(v) for v in _list(feature.get("values"))]
        if values == ["on"]:
            flags.append(str(feature.get("name")))
        else:
            parts.append(f"{feature.get('name')} = {', '.join(values)}")
    if flags:
        parts.append("features: " + " ".join(flags))
    return "; ".join(parts)


def _table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A table of already-escaped cells."""
    head = "".join(f"<th>{cell}</th>" for cell in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _host_table(host: Mapping[str, Any]) -> str:
    rows = host_lines(host)
    if not rows:
        return ""
    return _table(("", ""), ((f"<b>{_e(what)}</b>", _e(text)) for what, text in rows))


def _namespaces_html(namespaces: Mapping[str, Mapping[str, Any]]) -> str:
    rows = []
    for ns, result in namespaces.items():
        features = _list(result.get("features"))
        status = "supported" if features else "unsupported"
        provenance = str(result.get("provenance") or "")
        source = str(result.get("source") or "")
        if provenance != "detected" and not source.startswith(provenance):
            source = f"{provenance}: {source}"
        elif provenance == "detected":
            source = provenance
        rows.append(
            (
                _code(ns),
                _e(status),
                _e(_features_text(features)) if features else "",
                _e(source),
            )
        )
    return _table(("Namespace", "Status", "Supported properties (best first)", "From"), rows)


def detection_html(doc: Mapping[str, Any]) -> str:
    """`%wndetect`: host facts, then every namespace with its supported properties.

    `doc` is `{"host": host_json(), "namespaces": {ns: NamespaceResult.to_json()},
    "profile": source or None}`.
    """
    parts = [_STYLE, '<div class="wnj">']
    if doc.get("profile"):
        parts.append(f"<p>Target profile: {_code(doc['profile'])}</p>")
    parts.append("<b>Hardware</b>")
    parts.append(_host_table(_dict(doc.get("host"))))
    parts.append("<b>Supported variant properties</b>")
    parts.append(_namespaces_html(_dict(doc.get("namespaces"))))
    parts.append("</div>")
    return "".join(parts)


# -- install report ------------------------------------------------------------------------------


def _chosen_file(item: Mapping[str, Any]) -> Mapping[str, Any]:
    files = _list(_dict(item.get("decision")).get("files"))
    return next((_dict(f) for f in files if _dict(f).get("verdict") == "chosen"), {})


def _name_version(item: Mapping[str, Any]) -> tuple[str, str]:
    metadata = _dict(item.get("metadata"))
    return str(metadata.get("name", "?")), str(metadata.get("version", "?"))


def _verdict_rows(entries: Iterable[Any], key: str) -> list[tuple[str, str, str]]:
    rows = []
    for entry in entries:
        entry = _dict(entry)
        verdict = str(entry.get("verdict", ""))
        klass = {"chosen": "wnj-chosen", "rejected": "wnj-rejected"}.get(verdict, "")
        reasons = "<br>".join(_e(r) for r in _list(entry.get("reasons")))
        rank = entry.get("rank")
        label = _code(entry.get(key, ""))
        if rank is not None:
            label += f" #{_e(rank)}"
        rows.append((label, f'<span class="{klass}">{_e(verdict)}</span>', reasons))
    return rows


def _why_html(item: Mapping[str, Any]) -> str:
    decision = _dict(item.get("decision"))
    parts = ["<details><summary>why</summary>"]
    requested_by = _list(decision.get("requested_by"))
    if requested_by:
        parts.append(f"<p>Requested by: {_e(', '.join(map(str, requested_by)))}</p>")
    variants = _list(decision.get("variants"))
    if variants:
        parts.append("<p>Variants, best first:</p>")
        parts.append(_table(("Variant", "Verdict", "Reasons"), _verdict_rows(variants, "label")))
    files = _list(decision.get("files"))
    if files:
        parts.append("<p>Files of this version:</p>")
        parts.append(_table(("File", "Verdict", "Reasons"), _verdict_rows(files, "filename")))
    passed = _list(decision.get("versions_passed_over"))
    if passed:
        rows = [(_code(_dict(p).get("version")), _e(_dict(p).get("reason", ""))) for p in passed]
        parts.append("<p>Versions passed over:</p>" + _table(("Version", "Reason"), rows))
    notes = _list(decision.get("notes"))
    if notes:
        parts.append("<ul>" + "".join(f"<li>{_e(n)}</li>" for n in notes) + "</ul>")
    parts.append("</details>")
    return "".join(parts)


def _source_html(source: Mapping[str, Any]) -> str:
    name, url = source.get("name", "?"), source.get("url", "")
    return _code(url) if name == url else f"{_e(name)} {_code(url)}"


def _package_html(item: Mapping[str, Any]) -> str:
    name, version = _name_version(item)
    action = _dict(item.get("decision")).get("action", "install")
    source = _dict(item.get("source"))
    variant = item.get("variant")
    rows: list[tuple[str, str]] = [
        ("Version", _e(version) + f" ({_e(action)})"),
        ("From", _source_html(source)),
    ]
    if isinstance(variant, Mapping):
        rows.append(("Variant", _code(variant.get("label"))))
        properties = _list(variant.get("properties"))
        if properties:
            rows.append(("Properties", "<br>".join(_code(p) for p in properties)))
    else:
        rows.append(("Variant", "none (not a variant wheel)"))
    chosen = _chosen_file(item)
    if chosen:
        rows.append(("File", _code(chosen.get("filename", ""))))
    requested = " (requested)" if item.get("requested") else ""
    return (
        f"<h4>{_e(name)} {_e(version)}{_e(requested)}</h4>"
        + _table(("", ""), ((f"<b>{what}</b>", text) for what, text in rows))
        + _why_html(item)
    )


def report_headline(report: Mapping[str, Any], *, dry_run: bool) -> str:
    """One line: what happened (or would happen)."""
    items = _list(report.get("install"))
    names = ", ".join(" ".join(_name_version(_dict(i))) for i in items)
    count = f"{len(items)} package{'s' if len(items) != 1 else ''}"
    if not items:
        return "Nothing to install: every requirement is already satisfied."
    if dry_run:
        return f"Would install {count}: {names}"
    return f"Installed {count}: {names}"


def restart_notice(report: Mapping[str, Any]) -> str | None:
    packages = [str(p) for p in _list(report.get("restart_required"))]
    if not packages:
        return None
    return (
        f"Restart the kernel to use the new version of {', '.join(packages)}: "
        "this kernel imported the old one before the install."
    )


def report_html(report: Mapping[str, Any], *, dry_run: bool = False, log: str = "") -> str:
    """The full report: headline, restart notice, host, sources, then each package with its why."""
    parts = [
        _STYLE,
        '<div class="wnj">',
        f"<p><b>{_e(report_headline(report, dry_run=dry_run))}</b></p>",
    ]
    notice = restart_notice(report)
    if notice:
        parts.append(f'<div class="wnj-restart"><b>Restart required.</b> {_e(notice)}</div>')
    for warning in _list(report.get("warnings")):
        parts.append(f'<p class="wnj-warning">warning: {_e(warning)}</p>')
    parts.append("<details><summary>Host</summary>")
    parts.append(_host_table(_dict(report.get("host"))))
    supported = _dict(report.get("supported_properties"))
    rows = [(_code(ns), _e(_features_text(_list(f)))) for ns, f in supported.items()]
    if rows:
        parts.append(_table(("Namespace", "Supported properties (best first)"), rows))
    parts.append("</details>")
    sources = _list(report.get("sources"))
    if sources:
        rows2 = [
            (str(n), _e(_dict(s).get("name", "")), _code(_dict(s).get("url", "")))
            for n, s in enumerate(sources, start=1)
        ]
        strategy = report.get("index_strategy")
        title = "Indexes, highest priority first" + (f" ({_e(strategy)})" if strategy else "")
        parts.append(f"<details><summary>{title}</summary>")
        parts.append(_table(("#", "Name", "URL"), rows2) + "</details>")
    for item in _list(report.get("install")):
        parts.append(_package_html(_dict(item)))
    unchanged = _list(report.get("unchanged"))
    if unchanged:
        kept = ", ".join(f"{_dict(u).get('name')} {_dict(u).get('version')}" for u in unchanged)
        parts.append(f"<p>Already installed: {_e(kept)}</p>")
    if log:
        parts.append(f"<details><summary>details</summary><pre>{_e(log)}</pre></details>")
    parts.append("</div>")
    return "".join(parts)


def report_text(report: Mapping[str, Any], *, dry_run: bool = False) -> str:
    """The plain-text form (saved notebooks without HTML, terminals)."""
    lines = [report_headline(report, dry_run=dry_run)]
    notice = restart_notice(report)
    if notice:
        lines.append(f"RESTART REQUIRED: {notice}")
    for item in _list(report.get("install")):
        item = _dict(item)
        name, version = _name_version(item)
        source = _dict(item.get("source")).get("name", "?")
        variant = item.get("variant")
        label = f" variant {_dict(variant).get('label')}" if isinstance(variant, Mapping) else ""
        lines.append(f"  {name} {version}{label} from {source}")
    lines.extend(f"warning: {w}" for w in _list(report.get("warnings")))
    return "\n".join(lines)


def explanation_html(doc: Mapping[str, Any]) -> str:
    """`%wnexplain`: the verdict of every variant of one version, then of every file.

    `doc` is the `explain --json` document (`Selection.to_json()` plus name, version, source,
    files and note).
    """
    title = f"{doc.get('name')} {doc.get('version')} from {doc.get('source')}"
    parts = [_STYLE, '<div class="wnj">', f"<p><b>{_e(title)}</b></p>"]
    order = _list(doc.get("order"))
    if order:
        parts.append(f"<p>Chosen variant: {_code(order[0])}</p>")
    elif doc.get("note"):
        parts.append(f"<p>{_e(doc['note'])}</p>")
    else:
        parts.append("<p>No variant fits this target.</p>")
    variants = _list(doc.get("variants"))
    if variants:
        parts.append(_table(("Variant", "Verdict", "Reasons"), _verdict_rows(variants, "label")))
    files = _list(doc.get("files"))
    if files:
        parts.append("<details><summary>Files</summary>")
        parts.append(_table(("File", "Verdict", "Reasons"), _verdict_rows(files, "filename")))
        parts.append("</details>")
    parts.append("</div>")
    return "".join(parts)
