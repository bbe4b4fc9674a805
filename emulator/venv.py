"""LocalStack's own venv: Python 3.13, the pinned closure of ``requirements.txt`` and our plugin
package (``plugins/``), rebuilt only when one of them changed."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from emulator.home import EMULATOR_DIR, EmulatorError, localstack_home, stderr_progress

REQUIREMENTS = EMULATOR_DIR / "requirements.txt"
PLUGINS_DIR = EMULATOR_DIR / "plugins"
PYTHON_ENV = "XRDEPLOY_PYTHON313"
STAMP_FILE = "xrdeploy-stamp.json"
_SKIPPED_SOURCE_PARTS = ("__pycache__", "build", "dist")


@contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    # Two test sessions or terminals may build the venv at once; one waits for the other.
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path, os.O_CREAT | os.O_RDWR)
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _python_version(candidate: str) -> tuple[str, str] | None:
    """Return ``(major.minor, real executable)`` of an interpreter, or None if it does not run."""
    try:
        result = subprocess.run(
            [
                candidate,
                "-c",
                "import sys; print('%d.%d' % sys.version_info[:2]); print(sys.executable)",
            ],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except OSError:
        return None
    lines = result.stdout.split()
    if result.returncode != 0 or len(lines) != 2:
        return None  # e.g. a pyenv shim for a version that is installed but not selected
    return lines[0], lines[1]


def find_python313() -> Path:
    """Find Python 3.13: ``$XRDEPLOY_PYTHON313``, ``python3.13`` on PATH, or pyenv's versions."""
    explicit = os.environ.get(PYTHON_ENV)
    if explicit:
        found = _python_version(explicit)
        if found is None or found[0] != "3.13":
            raise EmulatorError(f"{PYTHON_ENV}={explicit} is not a working Python 3.13 interpreter")
        return Path(found[1])
    candidates = [shutil.which("python3.13")]
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates += [
        str(p) for p in sorted(pyenv_root.glob("versions/3.13*/bin/python3.13"), reverse=True)
    ]
    for candidate in filter(None, candidates):
        found = _python_version(candidate)
        if found is not None and found[0] == "3.13":
            return Path(found[1])
    raise EmulatorError(
        f"no Python 3.13 found for LocalStack: set {PYTHON_ENV}, put python3.13 on PATH, "
        "or run `pyenv install 3.13`"
    )


def _package_sources() -> list[Path]:
    return sorted(
        path
        for path in PLUGINS_DIR.rglob("*")
        if path.is_file()
        and not any(
            part in _SKIPPED_SOURCE_PARTS or part.endswith(".egg-info") for part in path.parts
        )
    )


def _fingerprint(paths: Sequence[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(str(path.relative_to(EMULATOR_DIR)).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def _run_logged(command: Sequence[str], log_path: Path, what: str) -> None:
    with log_path.open("a") as log:
        log.write(f"\n$ {' '.join(command)}\n")
        log.flush()
        code = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, check=False).returncode
    if code != 0:
        raise EmulatorError(f"{what} failed (exit {code}); see {log_path}")


def _install_plugins(python: Path, log_path: Path) -> None:
    # Build from a copy: an in-tree build would leave build/ and *.egg-info in the repo.
    with tempfile.TemporaryDirectory(prefix="xrdeploy-localstack-plugins-") as scratch:
        source = Path(scratch) / "plugins"
        shutil.copytree(
            PLUGINS_DIR,
            source,
            ignore=shutil.ignore_patterns(*_SKIPPED_SOURCE_PARTS, "*.egg-info"),
        )
        _run_logged(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "--disable-pip-version-check",
                "--no-deps",
                "--force-reinstall",
                str(source),
            ],
            log_path,
            "installing emulator/plugins",
        )


def ensure_environment(progress: Callable[[str], None] = stderr_progress) -> Path:
    """Create or update LocalStack's venv and return its directory.

    The venv lives at ``<home>/venv`` (see :func:`localstack_home`). A stamp file records hashes
    of ``requirements.txt`` and of the ``plugins`` sources: when the requirements changed the
    venv is rebuilt from scratch (so it holds exactly the pinned closure), when only the package
    changed just the package is reinstalled, and otherwise nothing runs.
    """
    home = localstack_home()
    venv = home / "venv"
    stamp_path = venv / STAMP_FILE
    log_path = home / "install.log"
    with _exclusive(home / "venv.lock"):
        wanted = {
            "requirements": _fingerprint([REQUIREMENTS]),
            "plugins": _fingerprint(_package_sources()),
        }
        try:
            current = json.loads(stamp_path.read_text())
        except (OSError, ValueError):
            current = {}
        if current == wanted and venv_python(venv).exists():
            return venv
        if current.get("requirements") != wanted["requirements"] or not venv_python(venv).exists():
            python = find_python313()
            progress(f"creating LocalStack venv {venv} with {python} (about a minute)")
            shutil.rmtree(venv, ignore_errors=True)
            log_path.write_text("")
            _run_logged([str(python), "-m", "venv", str(venv)], log_path, "creating the venv")
            _run_logged(
                [
                    str(venv_python(venv)),
                    "-m",
                    "pip",
                    "install",
                    "--disable-pip-version-check",
                    "-r",
                    str(REQUIREMENTS),
                ],
                log_path,
                "installing emulator/requirements.txt",
            )
        progress("installing emulator/plugins into LocalStack's venv")
        _install_plugins(venv_python(venv), log_path)
        stamp_path.write_text(json.dumps(wanted, indent=2))
    return venv
