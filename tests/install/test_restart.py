"""A live interpreter learns which of its imported distributions an install changed."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.install.helpers import install_into
from tests.support.venvs import Venv, clean_env
from tests.support.wheels import build_wheel

_LIVE = """
import json, sys
from pathlib import Path
import demo_pkg, other_pkg  # imported before the install, as in a running kernel
from wheelnext_jupyter.install.restart import restart_required
from wheelnext_jupyter.install.target import current_target
from tests.install.helpers import plan_for
from wheelnext_jupyter.install.transaction import install_wheels

target = current_target()
outcome = install_wheels(plan_for([Path(p) for p in sys.argv[1:]], target), target)
import fresh_pkg  # new distributions import without a restart
print(json.dumps([[n.name, list(n.modules)] for n in restart_required(outcome)]))
print(fresh_pkg.__version__)
"""


def test_upgraded_imported_distribution_needs_restart_new_one_does_not(
    venv: Venv, engine_path: str, tmp_path: Path
) -> None:
    install_into(
        venv.python,
        [
            build_wheel(tmp_path / "v1", "demo-pkg", "1.0").path,
            build_wheel(tmp_path / "v1", "other-pkg", "1.0").path,
        ],
    )
    upgrade = build_wheel(tmp_path / "v2", "demo-pkg", "2.0").path
    fresh = build_wheel(tmp_path / "v2", "fresh-pkg", "0.1").path
    out = subprocess.run(
        [str(venv.python), "-c", _LIVE, str(upgrade), str(fresh)],
        capture_output=True,
        text=True,
        env=clean_env({"PYTHONPATH": engine_path}),
        check=True,
    )
    needs, fresh_version = out.stdout.splitlines()
    assert json.loads(needs) == [["demo-pkg", ["demo_pkg"]]]
    assert fresh_version == "0.1"
