"""JupyterLab server for the browser tests (Galata's settings, on port 18888, no token).

Two changes to what a user's server would be:

- The sidebar is served from the working tree's build (`wheelnext_jupyter/labextension`), not from
  the copy an editable install put into the environment, so the tests see the current sources.
- Notebooks get a kernel whose environment is a throw-away venv (it sees the project venv's
  packages through a `.pth` file, after its own), so installs from the sidebar land there and
  never in the project venv.
"""

import atexit
import json
import os
import shutil
import sysconfig
import tempfile
import venv
from pathlib import Path

from jupyterlab.galata import configure_jupyter_server

BUILD = Path(__file__).resolve().parent.parent / "wheelnext_jupyter" / "labextension"

work = Path(tempfile.mkdtemp(prefix="wheelnext-ui-tests-"))
atexit.register(shutil.rmtree, work, ignore_errors=True)
# The tests' notebooks go into the same directory, removed when the server stops.
(work / "notebooks").mkdir()
os.environ["JUPYTERLAB_GALATA_ROOT_DIR"] = str(work / "notebooks")

c = get_config()  # type: ignore[name-defined]  # noqa: F821
configure_jupyter_server(c)
# Galata's 8888 is where a developer's own JupyterLab usually runs.
c.ServerApp.port = 18888
atexit.register(shutil.rmtree, c.LabApp.workspaces_dir, ignore_errors=True)

# Extension directories are found by their package name: link the build under that name.
extensions = work / "labextensions"
extensions.mkdir()
(extensions / "wheelnext-jupyter").symlink_to(BUILD, target_is_directory=True)
# Earlier paths win over the environment's own labextensions directory; Galata's helper
# extension (set above as one path) stays.
galata = c.LabServerApp.extra_labextensions_path
c.LabServerApp.extra_labextensions_path = [
    str(extensions),
    *([galata] if isinstance(galata, str) else galata),
]

# The kernel's own environment.
kernel_env = work / "kernel-venv"
venv.EnvBuilder(with_pip=False, symlinks=os.name != "nt").create(kernel_env)
site_packages = Path(
    sysconfig.get_path("purelib", vars={"base": str(kernel_env), "platbase": str(kernel_env)})
)
runner_site = sysconfig.get_paths()["purelib"]
(site_packages / "_wheelnext_ui_tests.pth").write_text(
    f"import site; site.addsitedir({runner_site!r})\n", encoding="utf-8"
)
python = kernel_env / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
spec_dir = work / "jupyter" / "kernels" / "python3"
spec_dir.mkdir(parents=True)
(spec_dir / "kernel.json").write_text(
    json.dumps(
        {
            "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "Python 3 (ipykernel)",
            "language": "python",
            "metadata": {"debugger": True},
        }
    ),
    encoding="utf-8",
)
# The first JUPYTER_PATH entry wins over the environment's own `python3` kernel spec.
os.environ["JUPYTER_PATH"] = os.pathsep.join(
    p for p in (str(work / "jupyter"), os.environ.get("JUPYTER_PATH")) if p
)
# Installs in the tests read only the index they name, never this machine's pip configuration.
os.environ["PIP_CONFIG_FILE"] = os.devnull
for name in [n for n in os.environ if n.startswith("PIP_") and n != "PIP_CONFIG_FILE"]:
    del os.environ[name]

if hasattr(os, "geteuid") and os.geteuid() == 0:
    # CI containers run as root; the server refuses to start otherwise.
    c.ServerApp.allow_root = True
