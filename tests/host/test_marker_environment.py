"""The PEP 508 marker environment, read without importing `platform` or packaging's markers."""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import pytest
from packaging.markers import default_environment

from wheelnext_jupyter.host.marker_environment import marker_environment, python_version, uname

POSIX_FAST_PATH = pytest.mark.skipif(
    sys.platform not in ("linux", "darwin"), reason="the os.uname path is taken on Linux and macOS"
)


def test_marker_environment_equals_packaging_default_environment() -> None:
    assert marker_environment() == dict(default_environment())


def test_uname_answers_what_platform_answers() -> None:
    expected = (platform.system(), platform.release(), platform.version(), platform.machine())
    assert uname() == expected


def test_python_version_answers_what_platform_answers() -> None:
    assert python_version() == (platform.python_version(), platform.python_implementation())


@pytest.mark.skipif(sys.implementation.name != "cpython", reason="parses CPython's sys.version")
def test_two_part_python_version_is_padded_with_zero(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "version", "3.14 (main, Jan  1 2030, 00:00:00) [GCC 14.2.0]")
    assert python_version() == ("3.14.0", "CPython")


@pytest.mark.skipif(sys.implementation.name != "cpython", reason="parses CPython's sys.version")
def test_development_build_version_keeps_its_plus(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "version", "3.15.0a1+ (heads/main:0123abc, Jan  1 2030) [Clang 19]")
    env_version, _ = python_version()
    assert env_version == "3.15.0a1+"


@POSIX_FAST_PATH
def test_unknown_uname_fields_are_reported_empty(monkeypatch: pytest.MonkeyPatch) -> None:
    fields = ("Linux", "box", "6.1.0", "#1 SMP", "unknown")
    monkeypatch.setattr(os, "uname", lambda: os.uname_result(fields))
    assert uname() == ("Linux", "6.1.0", "#1 SMP", "")


def test_detection_markers_do_not_import_packaging_or_platform() -> None:
    code = (
        "import sys\n"
        "from wheelnext_jupyter.detection import target_markers\n"
        "target_markers()\n"
        "print(sorted(m for m in ('packaging.markers', 'platform') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    expected = "['platform']" if sys.platform not in ("linux", "darwin") else "[]"
    assert done.stdout.strip() == expected
