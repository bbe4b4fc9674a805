"""LocalStack's own venv: Python 3.13, the pinned closure of ``requirements.txt`` and our plugin
package (``plugins/``), built by :mod:`emulator.pinned_venv` and rebuilt only when one of them
changed."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

from emulator.home import EMULATOR_DIR, EmulatorError, localstack_home, stderr_progress
from emulator.pinned_venv import LocalPackage, PinnedVenv, probe
from emulator.service_catalog import ensure_service_catalog

REQUIREMENTS = EMULATOR_DIR / "requirements.txt"
PLUGINS_DIR = EMULATOR_DIR / "plugins"
PYTHON_ENV = "XRDEPLOY_PYTHON313"


def find_python313() -> Path:
    """Find Python 3.13: ``$XRDEPLOY_PYTHON313``, ``python3.13`` on PATH, or pyenv's versions."""
    explicit = os.environ.get(PYTHON_ENV)
    if explicit:
        found = probe(explicit)
        if found is None or found.minor != "3.13":
            raise EmulatorError(f"{PYTHON_ENV}={explicit} is not a working Python 3.13 interpreter")
        return found.executable
    candidates = [shutil.which("python3.13")]
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates += [
        str(p) for p in sorted(pyenv_root.glob("versions/3.13*/bin/python3.13"), reverse=True)
    ]
    for candidate in filter(None, candidates):
        found = probe(candidate)
        if found is not None and found.minor == "3.13":
            return found.executable
    raise EmulatorError(
        f"no Python 3.13 found for LocalStack: set {PYTHON_ENV}, put python3.13 on PATH, "
        "or run `pyenv install 3.13`"
    )


def venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def ensure_environment(progress: Callable[[str], None] = stderr_progress) -> Path:
    """Create or update LocalStack's venv at ``<home>/venv`` (see :func:`localstack_home`) and
    return its directory: rebuilt from scratch when ``requirements.txt`` changed, only the plugin
    package reinstalled when just its sources changed, and otherwise nothing runs. LocalStack's
    service catalog is built into it once (:mod:`emulator.service_catalog`)."""
    venv = _venv(LocalPackage(PLUGINS_DIR)).ensure(progress)
    ensure_service_catalog(venv, progress)
    return venv


def ensure_pinned_closure(progress: Callable[[str], None] = stderr_progress) -> Path:
    """The same venv with the pinned closure only. The container image builds it in a layer of
    its own, so that a change to the plugins does not rebuild the closure: the
    :func:`ensure_environment` after it then installs just the plugin package (the service
    catalog depends on the closure only, so it is built in this layer too)."""
    venv = _venv(None).ensure(progress)
    ensure_service_catalog(venv, progress)
    return venv


def _venv(package: LocalPackage | None) -> PinnedVenv:
    return PinnedVenv(
        path=localstack_home() / "venv",
        requirements=REQUIREMENTS,
        find_python=find_python313,
        package=package,
    )
