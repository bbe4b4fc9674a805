"""The security-scan venv: Checkov (and moto's server, for planning offline) apart from the project.

Checkov pins many dependencies (boto3, pydantic, networkx...) that would fight the project's own,
so it lives in a venv of its own, built from the fully pinned `checkov-requirements.txt`.
:func:`ensure_venv` builds it on first use and afterwards only compares a stamp, so tests can call
it on every session and a fresh machine installs it without a manual step.

Stdlib only: the tests import this module from the project's venv.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from xrdeploy.locking import file_lock, run_logged

TOOLS_DIR = Path(__file__).resolve().parent
REPO_ROOT = TOOLS_DIR.parent
REQUIREMENTS = TOOLS_DIR / "checkov-requirements.txt"
VENV_ENV = "XRDEPLOY_CHECKOV_VENV"  # another place for the venv
PYTHON_ENV = "XRDEPLOY_CHECKOV_PYTHON"  # another interpreter than python3
PYTHON_VERSION = "3.11"  # what checkov-requirements.txt was frozen on
STAMP_FILE = "xrdeploy-stamp.json"


class ToolEnvError(RuntimeError):
    """A one-line, actionable problem building the security-scan venv."""


def _stderr_progress(message: str) -> None:
    sys.stderr.write(f"[checkov-venv] {message}\n")


def venv_dir() -> Path:
    """``$XRDEPLOY_CHECKOV_VENV`` or ``<repo>/.xrdeploy/checkov-venv``."""
    override = os.environ.get(VENV_ENV)
    if override:
        return Path(override).expanduser().resolve()
    return REPO_ROOT / ".xrdeploy" / "checkov-venv"


def venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def checkov_executable(venv: Path) -> Path:
    return venv / "bin" / "checkov"


def _interpreter() -> str:
    """The Python the venv is built with: the one its requirements were frozen on."""
    candidate = os.environ.get(PYTHON_ENV) or shutil.which("python3")
    if not candidate:
        raise ToolEnvError(f"no python3 on PATH for the Checkov venv; set {PYTHON_ENV}")
    result = subprocess.run(
        [candidate, "-c", "import sys; print(f'{sys.version_info[0]}.{sys.version_info[1]}')"],
        capture_output=True,
        text=True,
        check=False,
    )
    version = result.stdout.strip()
    if result.returncode != 0 or version != PYTHON_VERSION:
        raise ToolEnvError(
            f"{candidate} is Python {version or '?'}, but {REQUIREMENTS.name} is pinned for "
            f"{PYTHON_VERSION}; set {PYTHON_ENV} to a Python {PYTHON_VERSION} interpreter"
        )
    return candidate


def _fingerprint(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _run_logged(command: Sequence[str], log_path: Path, what: str) -> None:
    code = run_logged(command, log_path)
    if code != 0:
        raise ToolEnvError(f"{what} failed (exit {code}); see {log_path}")


def ensure_venv(progress: Callable[[str], None] = _stderr_progress) -> Path:
    """Create the venv if it is missing or was built from other requirements; return its path.

    The stamp (hash of the requirements file and the Python version) is written last, so an
    interrupted build is rebuilt from scratch next time rather than trusted.
    """
    venv = venv_dir()
    stamp_path = venv / STAMP_FILE
    log_path = venv.with_name(f"{venv.name}.install.log")
    with file_lock(venv.with_name(f"{venv.name}.lock")):
        try:
            current = json.loads(stamp_path.read_text())
        except (OSError, ValueError):
            current = {}
        wanted = {"requirements": _fingerprint(REQUIREMENTS), "python": PYTHON_VERSION}
        if current == wanted and checkov_executable(venv).exists():
            return venv
        python = _interpreter()
        progress(f"building {venv} from {REQUIREMENTS.relative_to(REPO_ROOT)} (about a minute)")
        shutil.rmtree(venv, ignore_errors=True)
        log_path.write_text("")
        _run_logged([python, "-m", "venv", str(venv)], log_path, "creating the Checkov venv")
        pip = [str(venv_python(venv)), "-m", "pip", "--disable-pip-version-check"]
        _run_logged(
            [*pip, "install", "--no-deps", "-r", str(REQUIREMENTS)],
            log_path,
            f"installing {REQUIREMENTS.name}",
        )
        # --no-deps installs exactly the pins; `pip check` proves they are a complete closure.
        _run_logged([*pip, "check"], log_path, f"checking that {REQUIREMENTS.name} is complete")
        stamp_path.write_text(json.dumps(wanted, indent=2))
    return venv


if __name__ == "__main__":
    print(ensure_venv())  # noqa: T201 - the path is this command's output
