"""Bare Git repositories on disk and what the local cloud reads from them, through ``git``.

They live in ``$TMPDIR/xrdeploy-git/`` of the LocalStack process (the launcher points TMPDIR
into the run's state directory, so they go away with the run, like S3's objects).
"""

from __future__ import annotations

import dataclasses
import datetime
import os
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

ROOT_DIR_NAME = "xrdeploy-git"
DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin"
ZERO_ID = "0" * 40
_FIELDS = ("%H", "%T", "%P", "%an", "%ae", "%at %ai", "%cn", "%ce", "%ct %ci", "%B")
_LOCKS: dict[Path, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


class GitError(RuntimeError):
    """``git`` refused: a missing object or reference, or a broken repository."""


@dataclasses.dataclass(frozen=True)
class Person:
    name: str
    email: str
    seconds: int  # since the epoch
    offset: str  # "+0100", as git writes it

    @property
    def when(self) -> datetime.datetime:
        return datetime.datetime.fromtimestamp(self.seconds, datetime.UTC)

    @property
    def git_date(self) -> str:
        """``<seconds> <offset>``, as CodeCommit's UserInfo.date spells it."""
        return f"{self.seconds} {self.offset}"


@dataclasses.dataclass(frozen=True)
class Commit:
    id: str
    tree_id: str
    parents: tuple[str, ...]
    author: Person
    committer: Person
    message: str


def root() -> Path:
    return Path(tempfile.gettempdir()) / ROOT_DIR_NAME


def lock(path: Path) -> threading.Lock:
    """The lock that serializes pushes into one repository (refs are read before and after)."""
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(path, threading.Lock())


def git(path: Path, *args: str, stdin: bytes | None = None) -> bytes:
    done = subprocess.run(
        ["git", "--git-dir", str(path), *args],
        input=stdin,
        capture_output=True,
        check=False,
        # No user or system configuration: the repositories answer alike on every host.
        env={"PATH": os.environ.get("PATH", DEFAULT_PATH), "GIT_CONFIG_NOSYSTEM": "1", "HOME": "/"},
    )
    if done.returncode != 0:
        raise GitError(done.stderr.decode(errors="replace").strip() or f"git {args[0]} failed")
    return done.stdout


def init_bare(path: Path, default_branch: str = "main") -> None:
    """A new empty bare repository that accepts pushes over HTTP (``http.receivepack``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["git", "init", "--quiet", "--bare", f"--initial-branch={default_branch}", str(path)],
        check=True,
        capture_output=True,
    )
    git(path, "config", "http.receivepack", "true")


def remove(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def exists(path: Path) -> bool:
    return (path / "HEAD").is_file()


def refs(path: Path) -> dict[str, str]:
    """Every branch and tag: full reference name → commit id (a tag's commit, peeled)."""
    lines = git(
        path, "for-each-ref", "--format=%(refname) %(*objectname) %(objectname)", "refs/"
    ).decode()
    found = {}
    for line in lines.splitlines():
        name, *ids = line.split()
        found[name] = ids[0]  # the peeled id where the ref is an annotated tag
    return found


def branch_head(path: Path, branch: str) -> str | None:
    return refs(path).get(f"refs/heads/{branch}")


def commit(path: Path, commit_id: str) -> Commit:
    """The commit ``commit_id`` names (a full or abbreviated id)."""
    text = git(path, "show", "-s", "--format=" + "%x00".join(_FIELDS), commit_id + "^{commit}")
    values = text.decode(errors="replace").split("\x00")
    return Commit(
        id=values[0],
        tree_id=values[1],
        parents=tuple(values[2].split()),
        author=_person(values[3], values[4], values[5]),
        committer=_person(values[6], values[7], values[8]),
        message=values[9].rstrip("\n"),
    )


def _person(name: str, email: str, stamp: str) -> Person:
    seconds, _date, _time, offset = stamp.split()
    return Person(name, email, int(seconds), offset)


def changed_paths(path: Path, old: str, new: str) -> tuple[str, ...]:
    """The files a push from ``old`` to ``new`` changed; for a new reference (``old`` is the zero
    id), those its tip commit changed (every file of a root commit)."""
    if old == ZERO_ID:
        parents = commit(path, new).parents
        if not parents:
            listed = git(path, "ls-tree", "-r", "--name-only", "-z", new)
            return tuple(p for p in listed.decode().split("\x00") if p)
        old = parents[0]
    listed = git(path, "diff", "--name-only", "--no-renames", "-z", old, new)
    return tuple(p for p in listed.decode().split("\x00") if p)


def archive_zip(path: Path, commit_id: str) -> bytes:
    """The commit's tree as a zip, files at its root (CodePipeline's ``CODE_ZIP``)."""
    return git(path, "archive", "--format=zip", commit_id)
