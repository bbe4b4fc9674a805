"""The IAM evaluator's Node packages (``iam_evaluator/``), installed on first use like LocalStack's
venv, so that ``python main.py local up`` works right after ``make setup``."""

from __future__ import annotations

import fcntl
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

from emulator.home import EmulatorError, localstack_home, stderr_progress


def installed(directory: Path) -> bool:
    """What the Makefile's target checks: npm ci's own record, no older than the lock file."""
    record = directory / "node_modules" / ".package-lock.json"
    return record.exists() and (
        record.stat().st_mtime >= (directory / "package-lock.json").stat().st_mtime
    )


def ensure_iam_evaluator(
    directory: Path, progress: Callable[[str], None] = stderr_progress
) -> None:
    """``npm ci`` in ``directory`` unless its packages match the lock file; one line on failure."""
    if installed(directory):
        return
    npm = shutil.which("npm")
    if npm is None:
        raise EmulatorError(
            "the local cloud's IAM evaluator needs npm to install (Node.js >= 20): put npm on PATH"
        )
    home = localstack_home()
    home.mkdir(parents=True, exist_ok=True)
    log_path = home / "iam_evaluator_install.log"
    # Two sessions starting at once (two terminals, two test runs) install once.
    with (home / "iam_evaluator.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if installed(directory):
            return
        progress(f"installing the IAM evaluator's packages: npm ci --prefix {directory}")
        command = [npm, "ci", "--prefix", str(directory), "--no-audit", "--no-fund"]
        with log_path.open("a") as log:
            log.write(f"\n$ {' '.join(command)}\n")
            log.flush()
            code = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, check=False)
        if code.returncode != 0:
            raise EmulatorError(
                f"installing the IAM evaluator failed: `npm {' '.join(command[1:])}` exited "
                f"{code.returncode}; see {log_path}"
            )
