"""The security-scan venv: Checkov (and moto's server, for planning offline) apart from the project.

Checkov pins many dependencies (boto3, pydantic, networkx...) that would fight the project's own,
so it lives in a venv of its own, built from the fully pinned `checkov-requirements.txt` by the
same builder as LocalStack's venv (emulator/pinned_venv.py). :func:`ensure_venv` builds it on
first use and afterwards only compares a stamp, so tests can call it on every session and a fresh
machine installs it without a manual step.

Stdlib only: the tests import this module from the project's venv.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

from emulator.pinned_venv import PinnedVenv, VenvError, probe
from xrdeploy.paths import user_cache_dir

TOOLS_DIR = Path(__file__).resolve().parent
REPO_ROOT = TOOLS_DIR.parent
REQUIREMENTS = TOOLS_DIR / "checkov-requirements.txt"
VENV_ENV = "XRDEPLOY_CHECKOV_VENV"  # another place for the venv
PYTHON_ENV = "XRDEPLOY_CHECKOV_PYTHON"  # another interpreter than the ones looked for
# What checkov-requirements.txt was frozen on; every pin installs on any 3.11 release (Debian 12
# has 3.11.2: soupsieve is held below 3.0, whose releases need 3.11.5).
PYTHON_VERSION = "3.11"


def _stderr_progress(message: str) -> None:
    sys.stderr.write(f"[checkov-venv] {message}\n")


def venv_dir() -> Path:
    """``$XRDEPLOY_CHECKOV_VENV``, or ``xrdeploy/checkov-venv`` in the user's cache directory
    (``$XDG_CACHE_HOME``, else ``~/.cache``). It holds nothing of the checkout but the pins, so
    every clone on the machine shares it (a fresh clone's set-up skips a minute of installing);
    a clone with other pins rebuilds it."""
    override = os.environ.get(VENV_ENV)
    if override:
        return Path(override).expanduser().resolve()
    return user_cache_dir() / "checkov-venv"


def venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def checkov_executable(venv: Path) -> Path:
    return venv / "bin" / "checkov"


def find_python() -> Path:
    """A Python 3.11: ``$XRDEPLOY_CHECKOV_PYTHON``, else the one running this (the project's venv
    is 3.11), ``python3.11`` or ``python3`` on PATH."""
    explicit = os.environ.get(PYTHON_ENV)
    candidates = [explicit] if explicit else [sys.executable, "python3.11", "python3"]
    seen = []
    for candidate in candidates:
        found = probe(shutil.which(candidate) or candidate)
        if found is not None and found.minor == PYTHON_VERSION:
            return found.executable
        seen.append(f"{candidate} is {'Python ' + found.minor if found else 'not runnable'}")
    raise VenvError(
        f"{REQUIREMENTS.name} is pinned for Python {PYTHON_VERSION}, but {'; '.join(seen)}: "
        f"set {PYTHON_ENV} to a Python {PYTHON_VERSION} interpreter"
    )


def ensure_venv(progress: Callable[[str], None] = _stderr_progress) -> Path:
    """Create the venv if it is missing or was built from other requirements; return its path."""
    return PinnedVenv(
        path=venv_dir(),
        requirements=REQUIREMENTS,
        find_python=find_python,
        stamp={"python": PYTHON_VERSION},
    ).ensure(progress)


if __name__ == "__main__":
    print(ensure_venv())  # noqa: T201 - the path is this command's output
