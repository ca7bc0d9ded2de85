"""The decision record and its renderers (text now; JSON and HTML share the same records)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from wheelnext_jupyter.variants.ordering import Selection


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
        lines.append("No variant fits this target: a non-variant wheel is used if one is published.")
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
