"""`wheelnext-jupyter install` end to end: a real loopback index, a real virtual environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.index_server import Fault, IndexServer, IndexTree
from tests.support.venvs import Venv, clean_env

CUDA = {"nvidia": {"cuda_version_lower_bound": ["12.0"], "sm_arch": ["80_real", "86_real"]}}

CUDA_PROFILE = {
    "format": "wheelnext-profile/1",
    "providers": {
        "nvidia": [
            {"name": "cuda_version_lower_bound", "values": ["12.9", "12.0", "12"]},
            {
                "name": "sm_arch",
                "values": ["86_real", "80_real", "80_virtual"],
                "multi_value": True,
            },
        ]
    },
    "host": {"markers": {"platform_system": "Linux", "platform_machine": "x86_64"}},
}
CPU_PROFILE = {"format": "wheelnext-profile/1", "providers": {}, "host": {}}


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory):
    tree = IndexTree(tmp_path_factory.mktemp("index"))
    tree.add_wheel(
        "wjc-torch",
        "2.0",
        label="cu12",
        variant=CUDA,
        requires_dist=["wjc-cudart>=1", "wjc-base"],
        console_scripts={"wjc-torch": "wjc_torch:main"},
    )
    tree.add_wheel(
        "wjc-torch",
        "2.0",
        label="null",
        variant={},
        requires_dist=["wjc-base"],
        console_scripts={"wjc-torch": "wjc_torch:main"},
    )
    tree.add_variants_json("wjc-torch", "2.0", {"cu12": CUDA, "null": {}})
    tree.add_wheel("wjc-cudart", "1.0")
    tree.add_wheel("wjc-base", "1.0")
    tree.add_wheel("wjc-base", "2.0", requires_python=">=3.99")
    for position in range(1, 6):
        tree.add_wheel(
            f"wjc-chain{position}",
            "1.0",
            requires_dist=[f"wjc-chain{position + 1}"] if position < 5 else [],
        )
    with IndexServer(tree.root) as server:
        yield server


def profile_file(tmp_path: Path, doc: dict) -> Path:
    path = tmp_path / "profile.json"
    path.write_text(json.dumps(doc))
    return path


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "wheelnext_jupyter", *args],
        capture_output=True,
        text=True,
        env=clean_env(),
        check=False,
    )


def install_words(venv: Venv, index: IndexServer, profile: Path, *args: str) -> list[str]:
    words = ["install", "--python", str(venv.python), "--index-url", index.index_url]
    return [*words, "--profile", str(profile), *args]


def install(venv: Venv, index: IndexServer, profile: Path, *args: str):
    return cli(*install_words(venv, index, profile, *args))


def cli_into_a_closed_pipe(*args: str) -> subprocess.CompletedProcess[str]:
    """The command with its output going to a pipe whose reader has gone (`… | head` once
    head has exited): every write to it fails."""
    read, write = os.pipe()
    os.close(read)
    try:
        return subprocess.run(
            [sys.executable, "-m", "wheelnext_jupyter", *args],
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            env=clean_env(),
            check=False,
        )
    finally:
        os.close(write)


def test_installs_the_cuda_variant_with_its_dependencies_into_a_fresh_venv(index, venv, tmp_path):
    done = install(venv, index, profile_file(tmp_path, CUDA_PROFILE), "wjc-torch")
    assert done.returncode == 0, done.stderr
    imported = venv.run("-c", "import wjc_torch, wjc_cudart, wjc_base; print(wjc_torch.VARIANT)")
    assert imported.stdout.strip() == "cu12"
    script = subprocess.run(
        [str(venv.root / "bin" / "wjc-torch")], capture_output=True, text=True, check=True
    )
    assert "cu12" in script.stdout
    assert venv.pip("check").returncode == 0


def test_a_cpu_only_target_gets_the_null_variant_and_no_cuda_runtime(index, venv, tmp_path):
    done = install(venv, index, profile_file(tmp_path, CPU_PROFILE), "wjc-torch")
    assert done.returncode == 0, done.stderr
    assert venv.run("-c", "import wjc_torch; print(wjc_torch.VARIANT)").stdout.strip() == "null"
    assert venv.run("-c", "import wjc_cudart", check=False).returncode != 0


def test_metadata_requires_python_makes_the_resolver_take_an_older_version(index, venv, tmp_path):
    done = install(venv, index, profile_file(tmp_path, CPU_PROFILE), "wjc-base")
    assert done.returncode == 0, done.stderr
    assert "wjc-base 1.0" in done.stdout


def test_dry_run_changes_nothing(index, venv, tmp_path):
    before = venv.listing()
    done = install(venv, index, profile_file(tmp_path, CUDA_PROFILE), "wjc-torch", "--dry-run")
    assert done.returncode == 0, done.stderr
    assert "Would install 3 packages." in done.stdout
    assert venv.listing() == before


def test_installing_what_is_installed_says_there_is_nothing_to_do(index, venv, tmp_path):
    profile = profile_file(tmp_path, CPU_PROFILE)
    assert install(venv, index, profile, "wjc-base").returncode == 0
    before = venv.listing()
    again = install(venv, index, profile, "wjc-base")
    assert again.returncode == 0, again.stderr
    assert "  keep      wjc-base 1.0 (already installed)" in again.stdout
    assert again.stdout.endswith("Nothing to install: every requirement is already satisfied.\n")
    assert "Installed" not in again.stdout
    assert venv.listing() == before


def test_report_extends_pips_installation_report(index, venv, tmp_path):
    report = tmp_path / "report.json"
    done = install(
        venv,
        index,
        profile_file(tmp_path, CUDA_PROFILE),
        "wjc-torch",
        "--dry-run",
        "--report",
        str(report),
    )
    assert done.returncode == 0, done.stderr
    doc = json.loads(report.read_text())
    assert doc["version"] == "1"
    items = {item["metadata"]["name"]: item for item in doc["install"]}
    torch = items["wjc-torch"]
    assert {"metadata", "download_info", "requested", "source", "variant", "decision"} <= set(torch)
    assert torch["requested"] is True and items["wjc-base"]["requested"] is False
    assert torch["metadata"]["version"] == "2.0"
    assert torch["download_info"]["archive_info"]["hashes"]["sha256"]
    assert torch["source"]["url"] == index.index_url
    assert torch["variant"]["label"] == "cu12"
    assert "nvidia :: sm_arch :: 86_real" in torch["variant"]["properties"]
    files = {f["filename"]: f for f in torch["decision"]["files"]}
    assert files["wjc_torch-2.0-py3-none-any-cu12.whl"]["verdict"] == "chosen"
    assert files["wjc_torch-2.0-py3-none-any-null.whl"]["verdict"] == "usable"
    assert {"host", "supported_properties", "sources", "warnings", "restart_required"} <= set(doc)
    assert doc["supported_properties"]["nvidia"][1]["name"] == "sm_arch"


def test_a_failed_download_leaves_the_environment_exactly_as_it_was(index, venv, tmp_path):
    index.faults["/files/wjc-chain3/wjc_chain3-1.0-py3-none-any.whl"] = Fault("wrong-hash")
    try:
        before = venv.listing()
        frozen = venv.pip("freeze", "--all").stdout
        done = install(venv, index, profile_file(tmp_path, CPU_PROFILE), "wjc-chain1", "--refresh")
    finally:
        index.faults.clear()
    assert done.returncode == 2
    assert "wjc_chain3-1.0-py3-none-any.whl" in done.stderr
    assert "sha256" in done.stderr
    assert venv.listing() == before
    assert venv.pip("freeze", "--all").stdout == frozen


def test_unsatisfiable_request_explains_who_asked_for_what(index, venv, tmp_path):
    done = install(venv, index, profile_file(tmp_path, CPU_PROFILE), "wjc-torch", "wjc-base>=2")
    assert done.returncode == 2
    assert "wjc-base" in done.stderr
    assert "requested by" in done.stderr
    assert "Python >=3.99" in done.stderr


def test_list_shows_the_variant_label(index, venv, tmp_path):
    assert install(venv, index, profile_file(tmp_path, CUDA_PROFILE), "wjc-torch").returncode == 0
    listing = cli("list", "--python", str(venv.python), "--json")
    rows = {row["name"]: row for row in json.loads(listing.stdout)}
    assert rows["wjc-torch"]["variant"] == "cu12"
    assert rows["wjc-base"]["variant"] is None
    assert rows["wjc-torch"]["installer"] == "wheelnext-jupyter"


def test_a_listing_whose_reader_has_gone_stops_quietly_with_the_broken_pipe_status(
    index, venv, tmp_path
):
    assert install(venv, index, profile_file(tmp_path, CPU_PROFILE), "wjc-base").returncode == 0
    for words in (("list", "--python", str(venv.python)), ("list", "--json")):
        done = cli_into_a_closed_pipe(*words)
        assert done.returncode == 141, done.stderr
        assert done.stderr == ""


def test_an_install_whose_reader_has_gone_stops_before_it_changes_anything(index, venv, tmp_path):
    before, frozen = venv.listing(), venv.pip("freeze", "--all").stdout
    words = install_words(venv, index, profile_file(tmp_path, CPU_PROFILE), "wjc-chain1")
    done = cli_into_a_closed_pipe(*words)
    assert done.returncode == 141, done.stderr
    assert "Traceback" not in done.stderr
    assert venv.listing() == before
    assert venv.pip("freeze", "--all").stdout == frozen


def test_explain_a_package_on_an_index(index, tmp_path):
    done = cli(
        "explain",
        "wjc-torch",
        "--index-url",
        index.index_url,
        "--profile",
        str(profile_file(tmp_path, CPU_PROFILE)),
        "--json",
    )
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["version"] == "2.0"
    assert doc["order"] == ["null"]
    cu12 = next(v for v in doc["variants"] if v["label"] == "cu12")
    assert "`nvidia` is not supported" in cu12["reasons"][0]


@pytest.mark.parametrize(
    ("asked", "says"),
    [
        (
            "wjc-nowhere",
            "no source has wjc-nowhere ({url}: not-found): check the name, or add the index or "
            "directory that has it (`--extra-index-url URL`, `--find-links PATH`)",
        ),
        (
            "wjc-base>5",
            "no version of wjc-base matches >5 ({url}: supplied); "
            "`wheelnext-jupyter explain wjc-base` shows the newest",
        ),
    ],
    ids=["no-source", "no-version"],
)
def test_explaining_what_no_source_offers_says_why_and_the_way_out(index, tmp_path, asked, says):
    profile = str(profile_file(tmp_path, CPU_PROFILE))
    done = cli("explain", asked, "--index-url", index.index_url, "--profile", profile)
    assert done.returncode == 2
    assert done.stderr == f"wheelnext-jupyter: error: {says.format(url=index.index_url)}\n"
