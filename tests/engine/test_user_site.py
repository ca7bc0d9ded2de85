"""After a first install into the user site, the running interpreter reads it at once."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from wheelnext_jupyter import engine
from wheelnext_jupyter.install.target import EnvironmentKind, current_target
from wheelnext_jupyter.record import replace


def user_target(user: Path, *, first: tuple[Path, ...] = (), after: tuple[Path, ...] = ()):
    target = current_target()
    scheme = replace(target.scheme, purelib=user, platlib=user)
    return replace(
        target, scheme=scheme, kind=EnvironmentKind.USER, reads_first=first, reads_after=after
    )


def test_a_new_user_site_goes_on_the_path_ahead_of_the_system_site_with_its_pth_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    user, system, extra = tmp_path / "user", tmp_path / "system", tmp_path / "extra"
    for directory in (user, system, extra):
        directory.mkdir()
    (user / "extra.pth").write_text(f"{extra}\n")
    target = user_target(user, after=(system,))
    monkeypatch.setattr(sys, "path", ["/stdlib", str(system), "/later"])
    engine._read_user_site(target)
    assert sys.path == ["/stdlib", str(user), str(system), "/later", str(extra)]


def test_a_user_site_already_on_the_path_stays_where_it_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    user, system = tmp_path / "user", tmp_path / "system"
    user.mkdir()
    target = user_target(user, after=(system,))
    monkeypatch.setattr(sys, "path", [str(system), str(user)])
    engine._read_user_site(target)
    assert sys.path == [str(system), str(user)]


def test_in_a_virtual_environment_the_user_site_goes_after_its_own_site_packages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    user, own = tmp_path / "user", tmp_path / "venv-site"
    user.mkdir()
    target = user_target(user, first=(own,))
    monkeypatch.setattr(sys, "path", ["/stdlib", str(own), "/base-site"])
    engine._read_user_site(target)
    assert sys.path == ["/stdlib", str(own), str(user), "/base-site"]
