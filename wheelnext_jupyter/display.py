"""Objects a notebook displays: live install progress, the report, detection and explanations.

Each has `_repr_mimebundle_` (text, HTML and, for the report, the JSON report under our MIME type),
so it renders in JupyterLab, Notebook, VS Code and Colab, and in a saved notebook.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from html import escape
from typing import TYPE_CHECKING, Any

from wheelnext_jupyter.report_html import (
    REPORT_MIME,
    detection_html,
    explanation_html,
    report_html,
    report_text,
)

if TYPE_CHECKING:
    from wheelnext_jupyter.detection import Detection
    from wheelnext_jupyter.engine import Progress

_PHASES = {
    "resolve": "Resolving",
    "download": "Downloading",
    "build": "Building",
    "verify": "Verifying",
    "install": "Installing",
    "done": "Done",
}


def show(*objects: object, **options: Any) -> Any:
    """IPython's `display()` (typed for our callers)."""
    from IPython.display import display

    publish: Callable[..., Any] = display
    return publish(*objects, **options)


class InstallReport:
    """The outcome of `%wninstall` (or a plan): text, HTML and the JSON report."""

    def __init__(self, report: Mapping[str, Any], *, dry_run: bool = False, log: str = "") -> None:
        self.report = dict(report)
        self.dry_run = dry_run
        self.log = log

    @property
    def restart_required(self) -> list[str]:
        return [str(name) for name in self.report.get("restart_required", [])]

    def _repr_mimebundle_(self, include: object = None, exclude: object = None) -> dict[str, Any]:
        return {
            "text/plain": report_text(self.report, dry_run=self.dry_run),
            "text/html": report_html(self.report, dry_run=self.dry_run, log=self.log),
            REPORT_MIME: self.report,
        }

    def __repr__(self) -> str:
        return report_text(self.report, dry_run=self.dry_run)


class DetectionView:
    """`%wndetect`: hardware and supported variant properties as a table."""

    def __init__(self, detection: Detection) -> None:
        self.detection = detection

    def document(self) -> dict[str, Any]:
        detection = self.detection
        return {
            "host": detection.host_json(),
            "namespaces": {ns: r.to_json() for ns, r in detection.results().items()},
            "profile": detection.profile_source if detection.profile is not None else None,
        }

    def _repr_mimebundle_(self, include: object = None, exclude: object = None) -> dict[str, Any]:
        from wheelnext_jupyter.detection import render_summary

        return {
            "text/plain": render_summary(self.detection),
            "text/html": detection_html(self.document()),
        }


class ExplanationView:
    """`%wnexplain`: every variant's verdict for one package version."""

    def __init__(self, document: Mapping[str, Any], text: str) -> None:
        self.document = dict(document)
        self.text = text

    def _repr_mimebundle_(self, include: object = None, exclude: object = None) -> dict[str, Any]:
        return {
            "text/plain": self.text,
            "text/html": explanation_html(self.document),
            "application/json": self.document,
        }


class ProgressView:
    """Live progress in one output that is updated in place, collapsed to a line at the end.

    Every event goes to the log (shown behind "details" when done); the visible part is one
    line with a progress bar. Outside a notebook (no display) it only records.
    """

    def __init__(
        self,
        title: str = "wninstall",
        *,
        publish: Callable[[dict[str, Any]], Any] | None = None,
    ) -> None:
        self.title = title
        self.lines: list[str] = []
        self._started = time.monotonic()
        self._status = "Starting"
        self._done = 0
        self._total = 0
        self._handle: Any = None
        self._publish = publish
        self._show(first=True)

    @property
    def log(self) -> str:
        return "\n".join(self.lines)

    def phase(self, text: str) -> None:
        self._status = text
        self.lines.append(text)
        self._show()

    def __call__(self, event: Progress) -> None:
        name = _PHASES.get(event.phase, event.phase.capitalize())
        self._done, self._total = event.files_done, event.files_total
        detail = f" {event.filename}" if event.filename else ""
        if event.bytes_total:
            detail += f" ({event.bytes_done}/{event.bytes_total} bytes)"
        self._status = f"{name} {event.files_done}/{event.files_total}{detail}"
        self.lines.append(self._status)
        self._show()

    def finish(self, summary: str) -> None:
        """Collapse to one line; the log stays behind a "details" toggle."""
        elapsed = time.monotonic() - self._started
        line = f"{summary} ({elapsed:.1f} s)"
        html = f"<div>&#10003; {escape(line)}"
        if self.lines:
            html += f"<details><summary>details</summary><pre>{escape(self.log)}</pre></details>"
        self._update({"text/plain": line, "text/html": html + "</div>"})

    def fail(self, message: str) -> None:
        line = f"{self.title} failed: {message.splitlines()[0] if message else ''}"
        html = f"<div>&#10007; {escape(line)}"
        if self.lines:
            html += f"<details><summary>details</summary><pre>{escape(self.log)}</pre></details>"
        self._update({"text/plain": line, "text/html": html + "</div>"})

    def bundle(self) -> dict[str, Any]:
        bar = ""
        if self._total:
            bar = f' <progress value="{self._done}" max="{self._total}"></progress>'
        text = f"{self.title}: {self._status}"
        return {"text/plain": text, "text/html": f"<div>{escape(text)}{bar}</div>"}

    def _show(self, *, first: bool = False) -> None:
        self._update(self.bundle(), first=first)

    def _update(self, bundle: dict[str, Any], *, first: bool = False) -> None:
        if self._publish is not None:
            self._publish(bundle)
            return
        from IPython.core.interactiveshell import InteractiveShell

        if not InteractiveShell.initialized():
            return
        if first or self._handle is None:
            self._handle = show(bundle, raw=True, display_id=True)
        else:
            self._handle.update(bundle, raw=True)
