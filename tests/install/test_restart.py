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


def _live(venv: Venv, engine_path: str, script: str, *args: Path) -> list[str]:
    """The lines `script` prints, run by the venv's interpreter with the engine importable."""
    out = subprocess.run(
        [str(venv.python), "-c", script, *map(str, args)],
        capture_output=True,
        text=True,
        env=clean_env({"PYTHONPATH": engine_path}),
        check=True,
    )
    return out.stdout.splitlines()


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
    needs, fresh_version = _live(venv, engine_path, _LIVE, upgrade, fresh)
    assert json.loads(needs) == [["demo-pkg", ["demo_pkg"]]]
    assert fresh_version == "0.1"


_SHADOWED = """
import json, sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
import demo_pkg  # the copy a user-site install leaves where it is (outside the target's scheme)
from wheelnext_jupyter.install.restart import restart_required
from wheelnext_jupyter.install.target import current_target
from tests.install.helpers import plan_for
from wheelnext_jupyter.install.transaction import install_wheels

target = current_target()
outcome = install_wheels(plan_for([Path(sys.argv[2])], target), target)
print(json.dumps([[n.name, list(n.modules)] for n in restart_required(outcome)]))
print(json.dumps([[n.name, list(n.modules)] for n in restart_required(outcome, shadowing=["demo-pkg"])]))
"""


def test_a_distribution_installed_over_one_left_elsewhere_needs_a_restart_when_imported(
    venv: Venv, engine_path: str, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "demo_pkg").mkdir(parents=True)
    (elsewhere / "demo_pkg" / "__init__.py").write_text("__version__ = '1.0'\n")
    newer = build_wheel(tmp_path / "v2", "demo-pkg", "2.0").path
    unaware, told = _live(venv, engine_path, _SHADOWED, elsewhere, newer)
    assert json.loads(unaware) == []
    assert json.loads(told) == [["demo-pkg", ["demo_pkg"]]]
