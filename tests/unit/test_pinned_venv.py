"""The one venv builder (emulator/pinned_venv.py), with a requirements file that needs nothing
from an index: built once, then only checked; rebuilt when the pins change; a missing
interpreter is one line naming what to set."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from emulator.pinned_venv import STAMP_FILE, PinnedVenv, VenvError, probe
from tools import checkov_env


def builder(tmp_path: Path, requirements: Path) -> PinnedVenv:
    return PinnedVenv(
        path=tmp_path / "venv",
        requirements=requirements,
        find_python=lambda: Path(sys.executable),
        stamp={"python": "test"},
    )


def test_a_venv_is_built_once_then_only_checked_and_rebuilt_when_the_pins_change(
    tmp_path: Path,
) -> None:
    # GIVEN an empty pinned closure
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("# nothing pinned\n")
    progress: list[str] = []

    # WHEN the venv is ensured twice THEN it is built once
    venv = builder(tmp_path, requirements).ensure(progress.append)
    stamp = (venv / STAMP_FILE).stat().st_mtime_ns
    builder(tmp_path, requirements).ensure(progress.append)
    assert len(progress) == 1 and progress[0].startswith(f"building {venv} with ")
    assert (venv / STAMP_FILE).stat().st_mtime_ns == stamp
    assert probe(str(venv / "bin" / "python")) is not None
    assert "No broken requirements found." in (tmp_path / "venv.install.log").read_text()

    # WHEN the pins change THEN it is rebuilt
    requirements.write_text("# still nothing pinned, but another file\n")
    builder(tmp_path, requirements).ensure(progress.append)
    assert len(progress) == 2


def test_the_checkov_venv_names_the_interpreter_to_set(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN an interpreter of another minor version than the pins were frozen for
    monkeypatch.setattr(checkov_env, "PYTHON_VERSION", "2.7")
    monkeypatch.setenv(checkov_env.PYTHON_ENV, sys.executable)

    # WHEN one is looked for THEN the error is one line naming what was found and what to set
    with pytest.raises(VenvError) as raised:
        checkov_env.find_python()
    message = str(raised.value)
    assert "\n" not in message
    assert f"{sys.executable} is Python {sys.version_info[0]}.{sys.version_info[1]}" in message
    assert message.endswith(f"set {checkov_env.PYTHON_ENV} to a Python 2.7 interpreter")
