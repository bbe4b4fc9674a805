"""LocalStack's service catalog, built once per venv instead of once per start.

On its first request LocalStack indexes every AWS service spec it has (which service an
operation, a signing name or a path prefix belongs to) to route requests. In its Docker image that
index is built when the image is (``python -m localstack.aws.spec``, written to the image's static
libraries); on a host, each run builds it again into its own state directory: about 5 s of CPU per
start, the first request and those just after it (docs/benchmarks.md). We build it the image's
way, once, when the venv is built, and link it into each run's static libraries, where LocalStack
looks first. The file's name carries LocalStack's and botocore's versions, and a venv whose pins
change is rebuilt from scratch, so a catalog found in a venv is that venv's.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from emulator.home import EmulatorError

# FILESYSTEM_ROOT of the build, inside the venv; LocalStack writes the catalog under it at the
# path the image uses, which a run's FILESYSTEM_ROOT gets too.
BUILD_ROOT = "localstack-static"
STATIC_LIBS = Path("usr") / "lib" / "localstack"
CATALOG_GLOB = "service-catalog-*.dill"


def catalog_files(venv: Path) -> list[Path]:
    """The venv's built catalog (none until :func:`ensure_service_catalog` has run)."""
    return sorted((venv / BUILD_ROOT / STATIC_LIBS).glob(CATALOG_GLOB))


def ensure_service_catalog(venv: Path, progress: Callable[[str], None]) -> list[Path]:
    """Build the venv's service catalog if it has none; return its file(s).

    Built in a scratch root beside the final one and moved into place, so an interrupted or
    failed build leaves no file that a run would link and LocalStack fail to load.
    """
    found = catalog_files(venv)
    if found:
        return found
    progress(f"indexing LocalStack's service specs into {venv / BUILD_ROOT} (once per venv)")
    with tempfile.TemporaryDirectory(prefix=f"{BUILD_ROOT}-", dir=venv) as scratch:
        (Path(scratch) / STATIC_LIBS).mkdir(parents=True)  # LocalStack writes, not creates, it
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": scratch,
            "LANG": "C.UTF-8",
            "FILESYSTEM_ROOT": scratch,
            # Host paths, not the container's /usr/lib/localstack (as server.py runs it).
            "OVERRIDE_IN_DOCKER": "0",
        }
        result = subprocess.run(
            [str(venv / "bin" / "python"), "-m", "localstack.aws.spec"],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        built = sorted((Path(scratch) / STATIC_LIBS).glob(CATALOG_GLOB))
        if result.returncode != 0 or not built:
            lines = (result.stderr or result.stdout).strip().splitlines()
            why = lines[-1] if lines else f"exit {result.returncode}, no catalog written"
            raise EmulatorError(f"building LocalStack's service catalog in {venv}: {why}")
        target = venv / BUILD_ROOT / STATIC_LIBS
        target.mkdir(parents=True, exist_ok=True)
        for file in built:
            # A rename within the venv's file system: a concurrent build's file is replaced
            # whole by an identical one.
            file.replace(target / file.name)
    return catalog_files(venv)


def link_service_catalog(venv: Path, filesystem_root: Path) -> None:
    """Make the venv's catalog part of a run's static libraries (``FILESYSTEM_ROOT`` is
    ``filesystem_root``). A venv without one links nothing: that run builds its own, slower."""
    files = catalog_files(venv)
    if not files:
        return
    static_libs = filesystem_root / STATIC_LIBS
    static_libs.mkdir(parents=True, exist_ok=True)
    for file in files:
        (static_libs / file.name).symlink_to(file)
