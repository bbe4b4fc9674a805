"""The pinned cdktf CLI (package.json, package-lock.json) in the checkout's ``node_modules``, for
``npx cdktf`` and its integration test.

``npm ci`` even from a warm npm cache spends about 28 s of CPU unpacking the CLI's 476 packages
(17,000 files), on every fresh clone. The installed tree depends on nothing but the two files, so
it is installed once per pair of files into the user's cache
(``$XDG_CACHE_HOME/xrdeploy/cdktf-cli/<digest>``, else ``~/.cache``) and each checkout gets a
copy made of hard links to it (under a second); across file systems, a plain copy. A copy, not a
symlink: ``npm ci`` run later in the checkout empties ``node_modules`` entry by entry, which
through a symlink would empty the cache every other clone uses; through hard links it only
unlinks the checkout's names. Nothing writes into an installed package's files, so the links are
never written through.

Standard library only (and :mod:`xrdeploy.locking` and :mod:`xrdeploy.paths`, which are too): the
Makefile runs it with any Python 3 (``python3 -m tools.cdktf_cli_env``).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from xrdeploy.locking import file_lock
from xrdeploy.paths import user_cache_dir

REPO_ROOT = Path(__file__).resolve().parent.parent
PINS = ("package.json", "package-lock.json")
# npm writes this into node_modules as the record of what it installed.
INSTALLED_RECORD = Path(".package-lock.json")
NPM_TIMEOUT_SECONDS = 600


class CdktfCliError(Exception):
    """One line: what failed, and what to do."""


def _stderr_progress(message: str) -> None:
    sys.stderr.write(f"[cdktf-cli] {message}\n")


def cache_root() -> Path:
    return user_cache_dir() / "cdktf-cli"


def pins_digest(repo: Path) -> str:
    digest = hashlib.sha256()
    for name in PINS:
        digest.update(name.encode() + b"\0" + (repo / name).read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def _npm_ci(directory: Path) -> None:
    npm = shutil.which("npm")
    if npm is None:
        raise CdktfCliError("npm not found on PATH: install Node.js 22 or 24 (LTS), which has it")
    try:
        result = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=directory,
            capture_output=True,
            text=True,
            timeout=NPM_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired as e:
        raise CdktfCliError(f"npm ci did not finish in {NPM_TIMEOUT_SECONDS} s") from e
    if result.returncode != 0:
        lines = (result.stderr or result.stdout).strip().splitlines() or ["no output"]
        raise CdktfCliError(f"npm ci failed (exit {result.returncode}): {lines[-1]}")


def cached_install(repo: Path, progress: Callable[[str], None]) -> Path:
    """The cache's ``node_modules`` for the checkout's pins, installed first if missing. Call
    with the cache's lock held."""
    entry = cache_root() / pins_digest(repo)
    installed = entry / "node_modules"
    if (installed / INSTALLED_RECORD).is_file():
        return installed
    progress(f"installing the pinned cdktf CLI into {entry} (npm ci, once per package-lock.json)")
    entry.parent.mkdir(parents=True, exist_ok=True)
    # Installed beside the entry and renamed into place: an interrupted install leaves no entry.
    scratch = Path(tempfile.mkdtemp(dir=entry.parent, prefix=".installing-"))
    try:
        for name in PINS:
            shutil.copy2(repo / name, scratch / name)
        _npm_ci(scratch)
        shutil.rmtree(entry, ignore_errors=True)
        scratch.rename(entry)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    return installed


def _is_current(node_modules: Path, installed: Path) -> bool:
    record = node_modules / INSTALLED_RECORD
    return record.is_file() and record.read_bytes() == (installed / INSTALLED_RECORD).read_bytes()


def _link_copy(source: Path, destination: Path) -> None:
    """``destination`` as a tree of hard links to ``source``'s files (a plain copy across file
    systems), made beside it and renamed into place."""
    scratch = destination.with_name(f".{destination.name}.linking")
    shutil.rmtree(scratch, ignore_errors=True)
    try:
        shutil.copytree(source, scratch, symlinks=True, copy_function=os.link)
    except shutil.Error:
        shutil.rmtree(scratch, ignore_errors=True)
        shutil.copytree(source, scratch, symlinks=True)
    if destination.is_symlink() or destination.is_file():
        destination.unlink()
    else:
        shutil.rmtree(destination, ignore_errors=True)
    scratch.rename(destination)


def ensure_cdktf_cli(
    repo: Path = REPO_ROOT, progress: Callable[[str], None] = _stderr_progress
) -> Path:
    """The checkout's ``node_modules`` with the pinned cdktf CLI; returns its path."""
    node_modules = repo / "node_modules"
    with file_lock(cache_root() / ".lock"):
        installed = cached_install(repo, progress)
        if not _is_current(node_modules, installed):
            _link_copy(installed, node_modules)
    return node_modules


if __name__ == "__main__":
    try:
        ensure_cdktf_cli()
    except (CdktfCliError, OSError) as error:
        sys.stderr.write(f"error: {error}\n")
        sys.exit(1)
