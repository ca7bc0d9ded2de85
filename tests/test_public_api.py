"""The package's public entry points."""

from __future__ import annotations

import subprocess
import sys

import wheelnext_jupyter
from wheelnext_jupyter.providers.profile import profile_from_json


def test_detect_returns_the_detect_json_document_as_an_object():
    detection = wheelnext_jupyter.detect()
    profile = profile_from_json(detection.to_json(), source="detect()")
    assert profile.providers == detection.supported
    assert "cpu" in profile.host


def test_importing_the_package_does_not_run_or_import_detection():
    code = "import sys, wheelnext_jupyter; print('wheelnext_jupyter.detection' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
