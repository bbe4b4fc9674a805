"""The IAM evaluator's packages are installed on first use (`npm ci`), once, and a missing npm is
one line (emulator/evaluator_install.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from emulator.evaluator_install import ensure_iam_evaluator, installed
from emulator.home import EmulatorError

# Stands in for npm: records its arguments and writes what `npm ci` leaves behind.
FAKE_NPM = """#!/bin/sh
echo "$@" >> "$CALLS"
mkdir -p "$3/node_modules" && echo '{}' > "$3/node_modules/.package-lock.json"
"""


@pytest.fixture
def evaluator(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "iam_evaluator"
    directory.mkdir()
    (directory / "package-lock.json").write_text("{}")
    monkeypatch.setenv("XRDEPLOY_LOCALSTACK_HOME", str(tmp_path / "home"))
    return directory


def with_fake_npm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "npm").write_text(FAKE_NPM)
    (bin_dir / "npm").chmod(0o755)
    calls = tmp_path / "calls"
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    monkeypatch.setenv("CALLS", str(calls))
    return calls


def test_first_use_runs_npm_ci_once(
    evaluator: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = with_fake_npm(tmp_path, monkeypatch)
    progress: list[str] = []
    ensure_iam_evaluator(evaluator, progress.append)
    ensure_iam_evaluator(evaluator, progress.append)
    assert calls.read_text().splitlines() == [f"ci --prefix {evaluator} --no-audit --no-fund"]
    assert len(progress) == 1 and "npm ci" in progress[0]
    assert installed(evaluator)


def test_a_newer_lock_file_installs_again(
    evaluator: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = with_fake_npm(tmp_path, monkeypatch)
    ensure_iam_evaluator(evaluator, lambda _: None)
    record = evaluator / "node_modules" / ".package-lock.json"
    os.utime(record, (record.stat().st_mtime - 60,) * 2)
    assert not installed(evaluator)
    ensure_iam_evaluator(evaluator, lambda _: None)
    assert len(calls.read_text().splitlines()) == 2


def test_without_npm_it_fails_in_one_line(
    evaluator: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(EmulatorError) as error:
        ensure_iam_evaluator(evaluator, lambda _: None)
    assert "needs npm" in str(error.value) and "\n" not in str(error.value)
