"""Where the local cloud keeps its venv, logs and state, and its one error type.

Stdlib only, like the rest of ``emulator/`` outside ``plugins/``: the project's Python 3.11 tools
import it before LocalStack's own venv exists.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

EMULATOR_DIR = Path(__file__).resolve().parent
REPO_ROOT = EMULATOR_DIR.parent
HOME_ENV = "XRDEPLOY_LOCALSTACK_HOME"


class EmulatorError(RuntimeError):
    """A one-line, actionable problem with the local cloud."""


def stderr_progress(message: str) -> None:
    sys.stderr.write(f"[local cloud] {message}\n")


def localstack_home() -> Path:
    """Venv and logs directory: ``$XRDEPLOY_LOCALSTACK_HOME``, else ``<repo>/.localstack``."""
    override = os.environ.get(HOME_ENV)
    return Path(override).expanduser().resolve() if override else REPO_ROOT / ".localstack"
