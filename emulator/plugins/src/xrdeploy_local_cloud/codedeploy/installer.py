"""The agent's Install event: the previous cleanup list, ``files`` and ``permissions``.

As ``installer.rb`` does: what the group's previous deployment installed (its
``<group>-cleanup`` list) is removed first, files last-in first-out and directories only when
empty; directory sources are copied recursively; missing parent directories are created and
remembered; a file that already exists fails the install under DISALLOW, is replaced under
OVERWRITE and kept under RETAIN. ``permissions`` apply to what this install copied.
"""

from __future__ import annotations

import fnmatch
import grp
import os
import pwd
import shutil
from pathlib import Path

from xrdeploy_local_cloud.codedeploy import appspec


class InstallError(Exception):
    pass


def remove_previous(cleanup: Path) -> None:
    if not cleanup.is_file():
        return
    for line in reversed(cleanup.read_text().splitlines()):
        path = Path(line)
        if path.is_symlink() or path.is_file():
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()
    cleanup.unlink()


def install(spec: appspec.AppSpec, archive: Path, behavior: str) -> list[str]:
    """Copy the revision's files; return every path created, in creation order."""
    created: list[str] = []
    for mapping in spec.files:
        source = archive / mapping.source.lstrip("/")
        if not source.exists():
            raise InstallError(f"The source {mapping.source} in the AppSpec file does not exist")
        destination = Path(mapping.destination)
        if source.is_dir():
            for item in sorted(source.rglob("*")):
                if item.is_file():
                    _copy(item, destination / item.relative_to(source), behavior, created)
        else:
            _copy(source, destination / source.name, behavior, created)
    for permission in spec.permissions:
        _apply(permission, created)
    return created


def _make_parents(directory: Path, created: list[str]) -> None:
    missing = []
    while not directory.exists():
        missing.append(directory)
        directory = directory.parent
    for path in reversed(missing):
        path.mkdir()
        created.append(str(path))


def _copy(source: Path, target: Path, behavior: str, created: list[str]) -> None:
    _make_parents(target.parent, created)
    if target.exists() or target.is_symlink():
        if behavior == "RETAIN":
            return
        if behavior != "OVERWRITE":
            raise InstallError(
                "The deployment failed because a specified file already exists at this "
                f"location: {target}"
            )
        if target.is_dir():
            raise InstallError(f"Cannot overwrite the directory {target} with a file")
        target.unlink()
    shutil.copy2(source, target)
    created.append(str(target))


def _apply(permission: appspec.Permission, created: list[str]) -> None:
    root = Path(permission.object)
    for entry in created:
        path = Path(entry)
        if path != root and root not in path.parents:
            continue
        relative = path.name if path == root else str(path.relative_to(root))
        if not fnmatch.fnmatch(relative, permission.pattern):
            continue
        if any(fnmatch.fnmatch(relative, pattern) for pattern in permission.excepts):
            continue
        kind = "directory" if path.is_dir() else "file"
        if kind not in permission.types:
            continue
        if permission.mode is not None:
            path.chmod(permission.mode)
        if permission.owner or permission.group:
            try:
                uid = pwd.getpwnam(permission.owner).pw_uid if permission.owner else -1
                gid = grp.getgrnam(permission.group).gr_gid if permission.group else -1
            except KeyError as exc:
                raise InstallError(f"Unknown owner or group in permissions: {exc}") from exc
            os.chown(path, uid, gid)
