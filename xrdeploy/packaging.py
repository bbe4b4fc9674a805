"""Deterministic zip archives: the copy function's package and the sample app's revision.

Same input files, same bytes out (sorted entries, fixed timestamps), so Terraform sees no change
when nothing changed and the golden snapshot stays stable.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

FIXED_TIMESTAMP = (1980, 1, 1, 0, 0, 0)
# Never part of a package: caches, editor litter, VCS metadata.
_SKIPPED_DIRS = {"__pycache__", ".git", ".mypy_cache", ".pytest_cache", ".ruff_cache"}
_SKIPPED_SUFFIXES = (".pyc", ".pyo", "~", ".swp")


def package_files(source: Path) -> list[Path]:
    """Files under `source` that belong in its package, sorted by relative path."""
    files = [
        path
        for path in source.rglob("*")
        if path.is_file()
        and not _SKIPPED_DIRS.intersection(path.relative_to(source).parts)
        and not path.name.endswith(_SKIPPED_SUFFIXES)
    ]
    return sorted(files, key=lambda path: path.relative_to(source).as_posix())


def build_zip(source: Path, destination: Path) -> Path:
    """Zip `source` into `destination`, keeping executable bits (CodeDeploy hook scripts).

    Written to a temporary name and renamed, so a failure never leaves half an archive."""
    if not source.is_dir():
        raise FileNotFoundError(f"{source} is not a directory")
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(f".{destination.name}.partial")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in package_files(source):
            info = zipfile.ZipInfo(path.relative_to(source).as_posix(), FIXED_TIMESTAMP)
            executable = os.access(path, os.X_OK)
            info.external_attr = (0o100755 if executable else 0o100644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    partial.replace(destination)
    return destination
