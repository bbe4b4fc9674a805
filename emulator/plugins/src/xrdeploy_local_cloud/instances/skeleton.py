"""The layer that lets a local instance write ``/etc``, ``/usr`` and ``/var`` when LocalStack runs
as a normal user (:mod:`.userns`: root inside is that user, the host's root is nobody there).

The host's own directories belong to its root, who is not mapped into such an instance, so root
inside could not create a file in them, and overlayfs refuses to copy up a file whose owner is not
mapped. Between each of those directories and the instance's overlay upper lies this layer,
built once per LocalStack by its user (so owned by root inside): the directories of the host's
``/etc``, ``/usr`` and ``/var`` down to :data:`MAX_DEPTH` levels (with their modes), each other
top-level directory itself, and a copy of every file of ``/etc`` the user can read (``passwd``,
``group``, ``hosts``, ...), with empty files in place of those it cannot (a ``shadow`` and
``gshadow`` of locked entries instead). Hooks then create and replace files in those directories,
and change ``/etc``'s; a file of the host's ``/usr`` or ``/var`` stays read-only to in-place edits
(replacing it works), and so does a directory deeper than the layer goes.
Nothing is written to the host's directories: the layer is read-only under each overlay too.
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

TREES = ("etc", "usr", "var")
# Directory levels mirrored below each of them: /usr/share/nginx/html and /var/lib/app/data are,
# the deep trees of /usr/lib and /var/lib (86,000 directories of /var on this machine) are not.
MAX_DEPTH = 4
COPIED = "etc"
READY = ".complete"
SKIPPED = ("proc", "sys", "dev", "tmp", "run")


def _locked(names: list[str]) -> str:
    return "".join(f"{name}:*::0:99999:7:::\n" for name in names)


def _copy(path: Path, target: Path) -> None:
    """``path`` into the layer; an unreadable file (``shadow``, ``.pwd.lock``) becomes an empty
    one of the same mode, so the instance's root may lock and rewrite it."""
    if path.is_symlink():
        target.symlink_to(path.readlink())
    elif path.is_file() and os.access(path, os.R_OK):
        shutil.copy2(path, target, follow_symlinks=False)
    elif path.is_file():
        target.touch(mode=0o600)
        target.chmod(stat.S_IMODE(path.lstat().st_mode))


def _mirror(source: Path, target: Path, copy_files: bool) -> list[tuple[Path, int]]:
    """Directories and links (and, with ``copy_files``, files) of ``source`` under ``target``;
    answers each directory with the mode to give it once everything is made."""
    modes: list[tuple[Path, int]] = []
    # Path.walk lists a link to a directory among the files, and does not follow it.
    for directory, subdirectories, files in source.walk():
        relative = directory.relative_to(source)
        if len(relative.parts) >= MAX_DEPTH:
            subdirectories.clear()  # deeper ones stay the host's (read-only inside)
        made = target / relative
        made.mkdir(mode=0o700, exist_ok=True)
        modes.append((made, stat.S_IMODE(directory.lstat().st_mode)))
        for name in files:
            path = directory / name
            if not (copy_files or path.is_symlink()):
                continue
            try:
                _copy(path, made / name)
            except OSError:
                continue  # vanished meanwhile: the host's file shows through instead
    return modes


def _account_files(etc: Path) -> None:
    """Locked shadow entries for the copied accounts (the host's shadow is unreadable)."""
    for shadow, accounts in (("shadow", "passwd"), ("gshadow", "group")):
        empty = not (etc / shadow).exists() or (etc / shadow).stat().st_size == 0
        if empty and (etc / accounts).exists():
            lines = (etc / accounts).read_text().splitlines()
            (etc / shadow).write_text(_locked([line.split(":")[0] for line in lines if line]))
            (etc / shadow).chmod(0o640)


def ensure(target: Path) -> Path:
    """Build the layer at ``target`` unless a complete one is there; answers ``target``."""
    if (target / READY).exists():
        return target
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True, mode=0o700)
    modes: list[tuple[Path, int]] = []
    for entry in os.scandir("/"):
        if entry.is_dir(follow_symlinks=False) and entry.name not in SKIPPED:
            if entry.name in TREES:
                modes += _mirror(Path(entry.path), target / entry.name, entry.name == COPIED)
            else:
                (target / entry.name).mkdir(mode=0o700)
                modes.append((target / entry.name, stat.S_IMODE(entry.stat().st_mode)))
    _account_files(target / COPIED)
    for path, mode in modes:
        path.chmod(mode)
    (target / READY).touch()
    return target
