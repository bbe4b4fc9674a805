"""The pinned cdktf CLI's install (tools/cdktf_cli_env.py), with a stand-in `npm` on PATH that
lays out what `npm ci` would and counts its runs: installed once per package-lock.json into the
user's cache and hard-linked into each checkout; a later `npm ci` in a checkout leaves the cache
alone; a failed install is one line and leaves nothing behind."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tools import cdktf_cli_env
from tools.cdktf_cli_env import CdktfCliError, cache_root, ensure_cdktf_cli

# What `npm ci` does in its working directory, for the test: empty node_modules entry by entry
# (as npm does), then write the installed tree and the hidden lock file npm keeps.
STAND_IN_NPM = """#!/bin/sh
echo run >> "$NPM_RUNS"
[ -n "$NPM_FAILS" ] && { echo "npm error code E404" >&2; exit 1; }
mkdir -p node_modules && find node_modules -mindepth 1 -maxdepth 1 -exec rm -rf {} +
mkdir -p node_modules/cdktf-cli/bin node_modules/.bin
echo "cli" > node_modules/cdktf-cli/bin/cdktf
ln -s ../cdktf-cli/bin/cdktf node_modules/.bin/cdktf
cp package-lock.json node_modules/.package-lock.json
"""


@pytest.fixture
def npm_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    npm = bin_dir / "npm"
    npm.write_text(STAND_IN_NPM)
    npm.chmod(0o755)
    runs = tmp_path / "npm-runs"
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    monkeypatch.setenv("NPM_RUNS", str(runs))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return runs


def checkout(path: Path, lock: str = '{"lockfileVersion": 3}') -> Path:
    path.mkdir()
    (path / "package.json").write_text('{"name": "xrdeploy"}')
    (path / "package-lock.json").write_text(lock)
    return path


def runs(npm_runs: Path) -> int:
    return len(npm_runs.read_text().splitlines()) if npm_runs.exists() else 0


def test_two_checkouts_share_one_install_made_of_hard_links(tmp_path: Path, npm_runs: Path):
    # GIVEN two checkouts with the same pins
    first, second = checkout(tmp_path / "first"), checkout(tmp_path / "second")
    progress: list[str] = []

    # WHEN each ensures the CLI, twice
    for repo in (first, second, first, second):
        ensure_cdktf_cli(repo, progress.append)

    # THEN npm ran once, into the cache, and both checkouts hold links to its files
    assert runs(npm_runs) == 1
    assert len(progress) == 1 and str(cache_root()) in progress[0]
    cached = next(cache_root().glob("*/node_modules/cdktf-cli/bin/cdktf"))
    for repo in (first, second):
        cli = repo / "node_modules" / "cdktf-cli" / "bin" / "cdktf"
        assert cli.stat().st_ino == cached.stat().st_ino
        assert (repo / "node_modules" / ".bin" / "cdktf").resolve() == cli.resolve()
        assert not (repo / "node_modules").is_symlink()


def test_npm_ci_in_a_checkout_leaves_the_cache_alone(tmp_path: Path, npm_runs: Path):
    # GIVEN a checkout whose CLI came from the cache
    repo = checkout(tmp_path / "repo")
    ensure_cdktf_cli(repo, lambda _: None)
    cached = next(cache_root().glob("*/node_modules"))

    # WHEN the user runs npm ci there, which empties node_modules entry by entry
    subprocess.run(["npm", "ci"], cwd=repo, check=True)

    # THEN the cache still holds the whole install
    assert (cached / "cdktf-cli" / "bin" / "cdktf").read_text() == "cli\n"
    assert (cached / ".package-lock.json").is_file()


def test_other_pins_install_again_and_the_checkout_follows_them(tmp_path: Path, npm_runs: Path):
    repo = checkout(tmp_path / "repo")
    ensure_cdktf_cli(repo, lambda _: None)

    # WHEN the lock file changes
    (repo / "package-lock.json").write_text('{"lockfileVersion": 3, "changed": true}')
    ensure_cdktf_cli(repo, lambda _: None)

    # THEN a second install, and the checkout's record is the new lock file
    assert runs(npm_runs) == 2
    assert len(list(cache_root().iterdir())) == 3  # two installs and the lock
    record = repo / "node_modules" / ".package-lock.json"
    assert "changed" in record.read_text()


def test_a_failed_install_is_one_line_and_leaves_no_entry(
    tmp_path: Path, npm_runs: Path, monkeypatch: pytest.MonkeyPatch
):
    repo = checkout(tmp_path / "repo")
    monkeypatch.setenv("NPM_FAILS", "1")

    with pytest.raises(CdktfCliError) as failed:
        ensure_cdktf_cli(repo, lambda _: None)

    assert str(failed.value) == "npm ci failed (exit 1): npm error code E404"
    assert [p.name for p in cache_root().iterdir()] == [".lock"]
    assert not (repo / "node_modules").exists()


def test_without_npm_the_error_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(cdktf_cli_env.shutil, "which", lambda _: None)

    with pytest.raises(CdktfCliError, match=r"^npm not found on PATH: install Node\.js 22 or 24"):
        ensure_cdktf_cli(checkout(tmp_path / "repo"), lambda _: None)
