"""The HTML and text renderings of a JSON report and of a detection, from hand-written documents."""

from __future__ import annotations

from html.parser import HTMLParser

from wheelnext_jupyter.display import InstallReport
from wheelnext_jupyter.report_html import detection_html, host_lines, report_html, report_text

REPORT = {
    "version": "1",
    "install": [
        {
            "metadata": {"name": "demo", "version": "1.2"},
            "requested": True,
            "source": {"name": "corp", "url": "https://user:****@corp.example/simple/"},
            "variant": {
                "label": "cu12",
                "properties": ["nvidia :: cuda_version_lower_bound :: 12.0"],
            },
            "decision": {
                "action": "install",
                "requested_by": ["demo (command line)"],
                "files": [
                    {
                        "filename": "demo-1.2-py3-none-any-cu12.whl",
                        "verdict": "chosen",
                        "reasons": ["best"],
                    },
                ],
                "variants": [
                    {"label": "cu12", "verdict": "chosen", "rank": 1, "reasons": ["fits"]},
                    {
                        "label": "rocm",
                        "verdict": "incompatible",
                        "rank": None,
                        "reasons": ["no <amd> GPU"],
                    },
                ],
                "versions_passed_over": [],
                "notes": [],
            },
        }
    ],
    "unchanged": [],
    "host": {
        "cpu": {"model_name": "Example CPU", "architecture": "x86_64", "psabi_level": "v3"},
        "hosting": {"platform": "colab", "environment": {"COLAB_RELEASE_TAG": "release-1234"}},
    },
    "supported_properties": {"x86_64": [{"name": "level", "values": ["v3", "v2"]}]},
    "sources": [{"name": "corp", "url": "https://user:****@corp.example/simple/"}],
    "warnings": [],
    "restart_required": [],
}


class Page(HTMLParser):
    def __init__(self, html: str) -> None:
        super().__init__()
        self.text = ""
        self.tags: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: object) -> None:
        self.tags.append(tag)

    def handle_data(self, data: str) -> None:
        self.text = " ".join(f"{self.text} {data}".split())


def test_package_section_shows_version_source_label_and_properties() -> None:
    page = Page(report_html(REPORT))
    for expected in (
        "demo 1.2",
        "corp",
        "https://user:****@corp.example/simple/",
        "cu12",
        "nvidia :: cuda_version_lower_bound :: 12.0",
    ):
        assert expected in page.text


def test_why_is_collapsible_and_lists_every_variant_with_its_reason() -> None:
    html = report_html(REPORT)
    why = html[html.index("<details><summary>why</summary>") :]
    assert "rocm" in why and "incompatible" in why
    assert "no &lt;amd&gt; GPU" in why  # escaped, not markup


def test_restart_notice_appears_only_when_a_restart_is_required() -> None:
    assert "Restart required" not in Page(report_html(REPORT)).text
    needed = dict(REPORT, restart_required=["demo"])
    assert (
        "Restart required. Restart the kernel to use the new version of demo"
        in Page(report_html(needed)).text
    )
    assert "RESTART REQUIRED" in report_text(needed)


def test_host_rows_never_show_environment_values() -> None:
    rows = host_lines(REPORT["host"])
    assert ("CPU", "Example CPU (x86_64), x86-64-v3") in rows
    assert ("Platform", "colab") in rows
    assert "release-1234" not in report_html(REPORT)


def test_headline_says_would_for_a_dry_run() -> None:
    assert report_text(REPORT, dry_run=True).splitlines()[0] == "Would install 1 package: demo 1.2"
    assert report_text(REPORT).splitlines()[0] == "Installed 1 package: demo 1.2"


def test_report_object_carries_text_html_and_the_json_report() -> None:
    bundle = InstallReport(REPORT)._repr_mimebundle_()
    assert bundle["application/vnd.wheelnext.report+json"] == REPORT
    assert bundle["text/plain"].startswith("Installed 1 package")
    assert "<details>" in bundle["text/html"]


def test_detection_table_lists_unsupported_namespaces_too() -> None:
    doc = {
        "host": {"cpu": {"model_name": "X", "architecture": "aarch64"}},
        "namespaces": {
            "aarch64": {
                "provenance": "detected",
                "source": "built-in provider",
                "features": [
                    {"name": "version", "values": ["8.2", "8.1"]},
                    {"name": "sve", "values": ["on"]},
                ],
            },
            "nvidia": {"provenance": "detected", "source": "built-in provider", "features": []},
        },
        "profile": None,
    }
    text = Page(detection_html(doc)).text
    assert "version = 8.2, 8.1; features: sve" in text
    assert "nvidia" in text and "unsupported" in text
