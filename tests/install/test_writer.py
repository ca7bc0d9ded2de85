"""A written wheel is importable, runnable, and indistinguishable to pip from its own work."""

from __future__ import annotations

import base64
import csv
import hashlib
import importlib.util
import io
import json
import marshal
from pathlib import Path

import pytest

from tests.install.helpers import install_into
from tests.support.venvs import Venv
from tests.support.wheels import build_wheel
from wheelnext_jupyter.install import writer
from wheelnext_jupyter.install.target import current_target
from wheelnext_jupyter.install.wheelfile import PathEscape, RecordEntry, verify_wheel
from wheelnext_jupyter.install.writer import WriteOptions, compile_bytecode
from wheelnext_jupyter.record import replace


@pytest.fixture
def wheels(tmp_path: Path) -> list[Path]:
    out = tmp_path / "wheels"
    return [
        build_wheel(out, "alpha", "1.0", console_scripts={"alpha-hello": "alpha:main"}).path,
        build_wheel(out, "beta-lib", "2.1", requires_dist=["alpha>=1"]).path,
        build_wheel(
            out, "gamma", "0.3", files={"gamma-0.3.data/data/share/gamma/notes.txt": "hi\n"}
        ).path,
    ]


def _sha256_b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def test_installed_packages_import_in_the_target_interpreter(
    venv: Venv, wheels: list[Path]
) -> None:
    install_into(venv.python, wheels)
    out = venv.run(
        "-c",
        "import alpha, beta_lib, gamma; print(alpha.__version__, beta_lib.__version__, gamma.__version__)",
    )
    assert out.stdout.split() == ["1.0", "2.1", "0.3"]


def test_console_script_runs_with_the_target_interpreter(venv: Venv, wheels: list[Path]) -> None:
    install_into(venv.python, wheels)
    script = venv.root / "bin" / "alpha-hello"
    assert script.read_text().splitlines()[0] == f"#!{venv.python}"
    out = __import__("subprocess").run([str(script)], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "alpha 1.0 None"


def test_data_files_go_to_the_data_scheme_path(venv: Venv, wheels: list[Path]) -> None:
    install_into(venv.python, wheels)
    assert (venv.root / "share" / "gamma" / "notes.txt").read_text() == "hi\n"


def test_pip_lists_shows_and_checks_the_installed_distributions(
    venv: Venv, wheels: list[Path]
) -> None:
    install_into(venv.python, wheels)
    listed = {d["name"]: d["version"] for d in json.loads(venv.pip("list", "--format=json").stdout)}
    assert listed["alpha"] == "1.0"
    assert listed["beta-lib"] == "2.1"
    assert listed["gamma"] == "0.3"
    shown = venv.pip("show", "beta-lib").stdout
    assert "Name: beta-lib" in shown
    assert "Requires: alpha" in shown
    assert venv.pip("check").stdout.strip() == "No broken requirements found."
    inspected = json.loads(venv.pip("inspect").stdout)
    alpha = next(d for d in inspected["installed"] if d["metadata"]["name"] == "alpha")
    assert alpha["installer"] == "wheelnext-jupyter"
    assert alpha["requested"] is True
    assert alpha["direct_url"]["url"] == wheels[0].resolve().as_uri()


def test_record_lists_every_installed_file_with_its_hash(venv: Venv, wheels: list[Path]) -> None:
    install_into(venv.python, wheels)
    dist_info = venv.site_packages / "alpha-1.0.dist-info"
    rows = list(csv.reader(io.StringIO((dist_info / "RECORD").read_text())))
    paths = {row[0] for row in rows}
    assert {
        "alpha/__init__.py",
        "../../../bin/alpha-hello",
        "alpha-1.0.dist-info/INSTALLER",
        "alpha-1.0.dist-info/REQUESTED",
        "alpha-1.0.dist-info/direct_url.json",
        "alpha-1.0.dist-info/RECORD",
        "alpha-1.0.dist-info/entry_points.txt",
    } <= paths
    for path, digest, size in rows:
        file = (venv.site_packages / path).resolve()
        if path.endswith("RECORD"):
            assert (digest, size) == ("", "")
            continue
        data = file.read_bytes()
        assert digest == f"sha256={_sha256_b64(data)}", path
        assert int(size) == len(data), path
    assert (dist_info / "INSTALLER").read_text() == "wheelnext-jupyter\n"


def test_pip_uninstall_removes_every_file(venv: Venv, wheels: list[Path]) -> None:
    before = venv.listing()
    install_into(venv.python, wheels)
    venv.pip("uninstall", "-y", "alpha", "beta-lib", "gamma")
    after = venv.listing()
    # pip keeps empty top-level data directories (here share/) after its own installs too.
    leftovers = {
        p for p in set(after) - set(before) if ".wheelnext-jupyter" not in p and not p.endswith("/")
    }
    assert leftovers == set()
    assert not (venv.root / "bin" / "alpha-hello").exists()


def test_variant_wheel_installs_under_its_real_name_and_keeps_variant_json(
    venv: Venv, tmp_path: Path
) -> None:
    built = build_wheel(
        tmp_path,
        "demo-pkg",
        "1.0",
        label="cu12",
        variant={"nvidia": {"cuda_version_lower_bound": ["12.0"]}},
    )
    install_into(venv.python, [built.path])
    assert venv.run("-c", "import demo_pkg; print(demo_pkg.VARIANT)").stdout.strip() == "cu12"
    dist_info = venv.site_packages / "demo_pkg-1.0.dist-info"
    document = json.loads((dist_info / "variant.json").read_text())
    assert document["variants"] == {"cu12": {"nvidia": {"cuda_version_lower_bound": ["12.0"]}}}
    listed = {d["name"]: d["version"] for d in json.loads(venv.pip("list", "--format=json").stdout)}
    assert listed["demo-pkg"] == "1.0"


def test_compile_writes_bytecode_and_records_it(venv: Venv, wheels: list[Path]) -> None:
    install_into(venv.python, wheels[:1], compile_bytecode=True)
    pyc = list((venv.site_packages / "alpha" / "__pycache__").glob("__init__.*.pyc"))
    assert len(pyc) == 1
    record = (venv.site_packages / "alpha-1.0.dist-info" / "RECORD").read_text()
    assert f"alpha/__pycache__/{pyc[0].name},sha256=" in record
    venv.pip("uninstall", "-y", "alpha")
    assert not pyc[0].exists()


@pytest.mark.parametrize(
    ("count", "refused"),
    [(3, "subprocess"), (40, "in-process")],
    ids=["a few files, here", "many, in a child process"],
)
def test_bytecode_for_this_interpreter_loads_and_names_the_installed_path(
    tmp_path: Path, count: int, refused: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"compiled {refused}")

    # Each size must take its own way: the other one fails the test.
    if refused == "subprocess":
        monkeypatch.setattr(writer.subprocess, "run", refuse)
    else:
        import py_compile

        monkeypatch.setattr(py_compile, "compile", refuse)
    sources = []
    for number in range(count):
        source = tmp_path / "staged" / f"module{number}.py"
        source.parent.mkdir(exist_ok=True)
        source.write_text(f"def fail():\n    raise ValueError({number})\n")
        sources.append(source)
    broken = tmp_path / "staged" / "broken.py"
    broken.write_text("def (:\n")
    pairs = tuple(
        (source, source.parent / "__pycache__" / f"{source.stem}.pyc")
        for source in [*sources, broken]
    )
    shown = tuple(tmp_path / "installed" / source.name for source, _ in pairs)
    done = compile_bytecode(pairs, current_target(), shown_as=shown)
    assert [source for source, _ in done] == sources  # the broken file is skipped, as pip does
    code = marshal.loads(pairs[-2][1].read_bytes()[16:])
    assert code.co_filename == str(shown[-2])  # tracebacks name the installed file
    assert pairs[-2][1].read_bytes()[:4] == importlib.util.MAGIC_NUMBER


# -- the layout's guard against paths that leave their directory ------------------------------


@pytest.mark.parametrize(
    "member",
    [
        "gamma/../../../outside.py",
        "gamma-0.3.data/data/../../../outside.txt",
        "gamma/./x/../../..",
        "gamma-0.3.data/data",
    ],
)
def test_a_member_that_would_land_outside_its_directory_is_refused(
    wheels: list[Path], member: str
) -> None:
    # Verification refuses such names first; the layout checks again what it is given.
    verified = verify_wheel(wheels[2], current_target())
    escaping = (*verified.entries, RecordEntry(member, "sha256", "x", 0))
    with pytest.raises(PathEscape, match="would be written outside"):
        writer.layout_of(replace(verified, entries=escaping), current_target(), WriteOptions())


def test_every_member_of_a_wheel_lands_inside_its_scheme_directory(wheels: list[Path]) -> None:
    target = current_target()
    verified = verify_wheel(wheels[2], target)
    layout = writer.layout_of(verified, target, WriteOptions())
    destinations = {member: Path(destination) for member, destination, _ in layout.members}
    assert destinations["gamma-0.3.data/data/share/gamma/notes.txt"] == (
        target.scheme.data / "share" / "gamma" / "notes.txt"
    )
    assert destinations["gamma/__init__.py"] == target.scheme.purelib / "gamma" / "__init__.py"
