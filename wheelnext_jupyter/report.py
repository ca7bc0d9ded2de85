"""The decision record and its renderers.

The JSON report is a superset of pip's installation report (version "1"): every `install` item has
pip's `metadata`, `download_info`, `requested` and `requested_extras`, and adds `source`, `variant`
and `decision`; the top level adds `host`, `supported_properties`, `sources`, `warnings` and
`restart_required`. No URL in it carries credentials.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from wheelnext_jupyter import __version__
from wheelnext_jupyter.index.redact import redact_url

if TYPE_CHECKING:
    from collections.abc import Sequence

    from wheelnext_jupyter.engine import PlanResult
    from wheelnext_jupyter.resolve.metadata_fields import MetadataFields
    from wheelnext_jupyter.resolve.resolver import PlannedPackage
    from wheelnext_jupyter.variants.ordering import Selection

REPORT_VERSION = "1"

#: Core-metadata fields that may appear several times (JSON form: lists), per the metadata spec.
_MULTIPLE_USE = {
    "dynamic",
    "platform",
    "supported_platform",
    "classifier",
    "requires_dist",
    "requires_external",
    "project_url",
    "provides_extra",
    "provides_dist",
    "obsoletes_dist",
    "license_file",
    "default_extra",
    "import_name",
    "import_namespace",
}


def metadata_json(fields: MetadataFields) -> dict[str, Any]:
    """Core metadata in its JSON form (PEP 566): lower-case keys with `_`, lists for
    multiple-use fields, `keywords` split, the body as `description`. Takes the fields the
    resolver already read for every planned package."""
    out: dict[str, Any] = {}
    for name, values in fields.items():
        field = name.replace("-", "_")
        if field in _MULTIPLE_USE:
            out[field] = values
        elif field == "keywords":
            # A field given twice keeps its last value, as a dict of the fields would.
            out[field] = [k.strip() for k in values[-1].replace(",", " ").split() if k.strip()]
        else:
            out[field] = values[-1]
    if fields.body.strip():
        out.setdefault("description", fields.body)
    return out


def _install_item(result: PlanResult, package: PlannedPackage) -> dict[str, Any]:
    pick = package.pick
    candidate = pick.candidate
    assert candidate is not None
    file = candidate.file
    item: dict[str, Any] = {
        "metadata": metadata_json(result.metadata.headers(pick)),
        "download_info": {
            "url": redact_url(file.url),
            "archive_info": {"hashes": dict(file.hashes)} if file.hashes else {},
        },
        "is_direct": False,
        "is_yanked": file.yanked,
        "requested": package.requested,
        "requested_extras": sorted(package.extras),
        "source": {"name": candidate.source.name, "url": candidate.source.url},
        "variant": _variant_json(package),
        "decision": _decision_json(package),
    }
    if package.replaces is not None:
        item["replaces"] = {
            "version": str(package.replaces.version),
            "variant_label": package.replaces.variant_label,
        }
    return item


def _variant_json(package: PlannedPackage) -> dict[str, Any] | None:
    variant = package.pick.variant
    if variant is None:
        return None
    return {
        "label": variant.label,
        "properties": [str(p) for p in variant.properties],
        "supported_properties": sorted(str(p) for p in package.pick.narrowed),
    }


def _decision_json(package: PlannedPackage) -> dict[str, Any]:
    pick = package.pick
    selection: Selection | None = pick.selection
    return {
        "action": package.action,
        "requested_by": list(package.requested_by),
        "files": [f.to_json() for f in pick.files],
        "variants": selection.to_json()["variants"] if selection is not None else [],
        "versions_passed_over": [
            {"version": version, "reason": reason}
            for version, reason in package.passed_over.items()
        ],
        "rejected_files": {
            version: [f.to_json() for f in files]
            for version, files in package.rejected_files.items()
        },
        "notes": list(package.notes),
    }


def build_report(result: PlanResult, *, restart_required: Sequence[str] = ()) -> dict[str, Any]:
    """The JSON report of a plan (or of an install, with `restart_required`)."""
    plan = result.plan
    detection = result.detection
    return {
        "version": REPORT_VERSION,
        "installer": {"name": "wheelnext-jupyter", "version": __version__},
        "environment": dict(result.target.markers),
        "install": [_install_item(result, p) for p in plan.to_install],
        "unchanged": [
            {
                "name": p.name,
                "version": str(p.version),
                "variant_label": p.pick.label,
                "requested": p.requested,
                "notes": list(p.notes),
            }
            for p in plan.packages
            if not p.changes
        ],
        "host": detection.host_json(),
        "supported_properties": {
            ns: [
                {"name": f.name, "values": list(f.values), "multi_value": f.multi_value}
                for f in features
            ]
            for ns, features in detection.supported.items()
        },
        "sources": [
            {"name": s.ref.name, "url": s.ref.url, "kind": s.ref.kind, "explicit": s.explicit}
            for s in result.sources.sources
        ],
        "index_strategy": result.sources.strategy.value,
        "target": {"python": str(result.target.python), "prefix": str(result.target.prefix)},
        "warnings": list(plan.warnings),
        "restart_required": list(restart_required),
    }


#: The width of the plan's action column: its longest word, "downgrade".
_ACTION = len("downgrade")


def render_plan_text(result: PlanResult, *, dry_run: bool = True) -> str:
    """The plan as a person reads it: what changes, from where, which variant and why."""
    plan = result.plan
    lines: list[str] = []
    if len(result.sources.sources) > 1:
        lines.append(result.sources.describe())
    for package in plan.packages:
        pick = package.pick
        if not package.changes:
            lines.append(
                f"  {'keep':<{_ACTION}} {package.name} {package.version} (already installed)"
            )
            continue
        extras = f"[{','.join(sorted(package.extras))}]" if package.extras else ""
        variant = f"  variant {pick.label}" if pick.label else ""
        source = f"  from {pick.source.name}" if pick.source else ""
        lines.append(
            f"  {package.action:<{_ACTION}} {package.name}{extras} {package.version}{variant}{source}"
        )
        if pick.candidate is not None:
            lines.append(f"  {'':<{_ACTION}} file {pick.candidate.file.filename}")
        chosen = next((f for f in pick.files if f.verdict == "chosen"), None)
        if chosen is not None and pick.label:
            lines.append(f"  {'':<{_ACTION}} why  {chosen.reasons[0]}")
    changes = len(plan.to_install)
    if not changes:
        # As the notebook's report says it.
        lines.append("Nothing to install: every requirement is already satisfied.")
    else:
        verb = "Would install" if dry_run else "Installing"
        lines.append(f"{verb} {changes} package{'s' if changes != 1 else ''}.")
    lines.extend(f"warning: {w}" for w in plan.warnings)
    return "\n".join(lines) + "\n"


def render_selection_text(selection: Selection, *, title: str) -> str:
    """A readable table of labels, verdicts and reasons, best first."""
    lines = [title, ""]
    width = max([len(v.label) for v in selection.verdicts] + [5])
    lines.append(f"  {'RANK':<4}  {'LABEL':<{width}}  VERDICT")
    for verdict in selection.verdicts:
        rank = str(verdict.rank) if verdict.rank is not None else "-"
        lines.append(f"  {rank:<4}  {verdict.label:<{width}}  {verdict.verdict}")
        for reason in verdict.reasons:
            lines.append(f"  {'':<4}  {'':<{width}}    {reason}")
    if not selection.verdicts:
        lines.append("  (no variants published)")
    lines.append("")
    if selection.chosen is None:
        lines.append(
            "No variant fits this target: a non-variant wheel is used if one is published."
        )
    else:
        lines.append(f"Chosen: {selection.chosen}")
    if selection.namespaces:
        lines.append("")
        lines.append("Namespaces:")
        for ns, support in selection.namespaces.items():
            if support.enabled:
                lines.append(f"  {ns}: {support.source}")
            else:
                lines.append(f"  {ns}: disabled — {support.reason}")
    for note in selection.diagnostics:
        lines.append(f"note: {note}")
    return "\n".join(lines) + "\n"
