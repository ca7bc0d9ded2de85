"""ipywidgets front end for hosts without lab extensions (Colab, Kaggle, VS Code).

`WheelnextPanel` shows the hardware summary, a requirements box, the index list (highest priority
first), "Plan" and "Install" buttons and the report; `restart_button()` is offered after an install
that changed already-imported packages. The panel builds the same `InstallRequest` as `%wninstall`.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Sequence
from html import escape
from typing import TYPE_CHECKING, Any

from wheelnext_jupyter.record import replace

if TYPE_CHECKING:
    from wheelnext_jupyter.engine import InstallRequest, PlanResult


def widgets_available() -> bool:
    return importlib.util.find_spec("ipywidgets") is not None


def _ipywidgets() -> Any:
    # Untyped package: used through `Any`.
    return importlib.import_module("ipywidgets")


def _kernel() -> Any:
    from IPython import get_ipython

    shell = get_ipython()
    return getattr(shell, "kernel", None)


def restart_button(packages: Sequence[str]) -> Any | None:
    """A "Restart kernel" button, or None without ipywidgets or outside a kernel."""
    if not widgets_available() or _kernel() is None:
        return None
    ipywidgets = _ipywidgets()
    button = ipywidgets.Button(
        description="Restart kernel",
        button_style="warning",
        icon="refresh",
        tooltip=f"Restart to use the new version of {', '.join(packages)}",
    )

    def restart(_button: Any) -> None:
        kernel = _kernel()
        if kernel is not None:
            kernel.do_shutdown(restart=True)

    button.on_click(restart)
    return button


class WheelnextPanel:
    """The install panel. `panel.widget` is the ipywidgets box; displaying the panel shows it."""

    def __init__(self, request: InstallRequest | None = None, *, detect_host: bool = True) -> None:
        w = _ipywidgets()
        from wheelnext_jupyter.engine import InstallRequest

        self.base = request if request is not None else InstallRequest()
        index = self.base.index
        urls = [*index.indexes, *([index.index_url] if index.index_url else [])]
        urls += index.extra_index_urls
        self.hardware = w.HTML(self._hardware_html() if detect_host else "")
        self.requirements = w.Textarea(
            value="\n".join(self.base.requirements),
            placeholder="one requirement per line, e.g. torch",
            description="Packages",
            layout=w.Layout(width="100%"),
        )
        self.indexes = w.Textarea(
            value="\n".join(urls),
            placeholder="index URLs, highest priority first (empty: your pip configuration)",
            description="Indexes",
            layout=w.Layout(width="100%"),
        )
        self.plan_button = w.Button(description="Plan", icon="search")
        self.install_button = w.Button(
            description="Install", button_style="primary", icon="download"
        )
        self.status = w.HTML()
        self.report = w.HTML()
        self.last_report: dict[str, Any] | None = None
        self.plan_button.on_click(lambda _b: self.plan())
        self.install_button.on_click(lambda _b: self.install())
        self.widget = w.VBox(
            [
                self.hardware,
                self.requirements,
                self.indexes,
                w.HBox([self.plan_button, self.install_button]),
                self.status,
                self.report,
            ]
        )

    def _hardware_html(self) -> str:
        from wheelnext_jupyter.detection import detect
        from wheelnext_jupyter.display import DetectionView

        try:
            bundle = DetectionView(detect(profile=self.base.profile))._repr_mimebundle_()
        except Exception as exc:  # the panel must open even if detection is broken
            return f"<p>Hardware detection failed: {escape(str(exc))}</p>"
        return str(bundle["text/html"])

    def request(self) -> InstallRequest:
        """The base request with the boxes' requirements and indexes."""
        requirements = [r.strip() for r in self.requirements.value.splitlines() if r.strip()]
        urls = [u.strip() for u in self.indexes.value.splitlines() if u.strip()]
        index = replace(self.base.index, indexes=urls, index_url=None, extra_index_urls=[])
        return replace(self.base, requirements=requirements, index=index)

    def _run(self, *, install: bool) -> None:
        from wheelnext_jupyter.cli import USER_ERRORS
        from wheelnext_jupyter.display import InstallReport, ProgressView
        from wheelnext_jupyter.engine import install as run_install
        from wheelnext_jupyter.engine import plan
        from wheelnext_jupyter.report import build_report

        progress = ProgressView(publish=lambda bundle: self._set_status(bundle["text/html"]))
        self.plan_button.disabled = self.install_button.disabled = True
        result: PlanResult | None = None
        try:
            progress.phase("Resolving")
            result = plan(self.request(), prefetch=install)
            if not install or not result.plan.to_install:
                progress.finish("Planned")
                self._show(InstallReport(build_report(result), dry_run=True, log=progress.log))
                return
            done = run_install(result, progress=progress)
            progress.finish(f"Installed {', '.join(done.installed)}")
            report = build_report(result, restart_required=done.restart_required)
            self._show(InstallReport(report, log=progress.log))
            button = restart_button(done.restart_required) if done.restart_required else None
            if button is not None:
                self.widget.children = (*self.widget.children, button)
        except USER_ERRORS as exc:
            progress.fail(str(exc))
            self.report.value = f"<pre>{escape(str(exc))}</pre>"
        finally:
            if result is not None:
                result.close()
            self.plan_button.disabled = self.install_button.disabled = False

    def _set_status(self, html: str) -> None:
        self.status.value = html

    def _show(self, report: Any) -> None:
        bundle = report._repr_mimebundle_()
        self.last_report = bundle["application/vnd.wheelnext.report+json"]
        self.report.value = bundle["text/html"]

    def plan(self) -> None:
        self._run(install=False)

    def install(self) -> None:
        self._run(install=True)

    def _repr_mimebundle_(self, include: object = None, exclude: object = None) -> Any:
        return self.widget._repr_mimebundle_(include=include, exclude=exclude)


def panel(request: InstallRequest | None = None) -> WheelnextPanel:
    """The install panel for hosts without the JupyterLab sidebar."""
    return WheelnextPanel(request)
