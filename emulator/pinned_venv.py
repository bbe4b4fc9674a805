"""The one way we build a venv apart from the project's: exactly a pinned requirements file (and,
for LocalStack's, one local package), rebuilt only when what it was built from changed.

Used for LocalStack's venv (:mod:`emulator.venv`) and the security scan's
(``tools/checkov_env.py``). Stdlib only, and free of the rest of ``emulator/``'s concerns, so
that the project's Python 3.11 tools can import it before any of these venvs exists.

The requirements file is a complete closure (a ``pip freeze`` of a fresh venv): it is installed
with ``--no-deps`` and then ``pip check`` proves nothing is missing, so a dependency left out of
the file fails the build instead of arriving unpinned. A stamp file records hashes of what the
venv was built from; it is written last, so an interrupted build is redone rather than trusted.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from emulator.home import EmulatorError

STAMP_FILE = "xrdeploy-stamp.json"
# Build output and metadata a local package's build leaves behind; not part of its sources.
_NOT_SOURCES = ("__pycache__", "build", "dist")


class VenvError(EmulatorError):
    """A one-line, actionable problem building a venv."""


@dataclass(frozen=True)
class Interpreter:
    version: tuple[int, int, int]
    executable: Path

    @property
    def minor(self) -> str:
        return f"{self.version[0]}.{self.version[1]}"


def probe(candidate: str) -> Interpreter | None:
    """The version and real executable of an interpreter, or None if it does not run (e.g. a
    pyenv shim for a version that is installed but not selected)."""
    script = "import sys; print('%d %d %d' % sys.version_info[:3]); print(sys.executable)"
    try:
        result = subprocess.run(
            [candidate, "-c", script], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = result.stdout.splitlines()
    if result.returncode != 0 or len(lines) != 2:
        return None
    major, minor, micro = (int(part) for part in lines[0].split())
    return Interpreter((major, minor, micro), Path(lines[1]))


@dataclass(frozen=True)
class LocalPackage:
    """A package built from a directory of ours, installed last and reinstalled alone when only
    its sources changed."""

    directory: Path

    def sources(self) -> list[Path]:
        return sorted(
            path
            for path in self.directory.rglob("*")
            if path.is_file()
            and not any(part in _NOT_SOURCES or part.endswith(".egg-info") for part in path.parts)
        )


@dataclass(frozen=True)
class PinnedVenv:
    """A venv at ``path`` holding exactly ``requirements`` (and ``package``).

    ``find_python`` gives the interpreter to build it with; it is called only when the venv is
    (re)built. ``stamp`` adds entries that must match too (e.g. the Python version the pins were
    frozen for). The build log and the lock sit beside the venv: ``<path>.install.log``,
    ``<path>.lock``.
    """

    path: Path
    requirements: Path
    find_python: Callable[[], Path]
    stamp: Mapping[str, str] = field(default_factory=dict)
    package: LocalPackage | None = None

    @property
    def python(self) -> Path:
        return self.path / "bin" / "python"

    @property
    def log_path(self) -> Path:
        return self.path.with_name(f"{self.path.name}.install.log")

    def ensure(self, progress: Callable[[str], None]) -> Path:
        """Build what changed since the stamp (nothing, the package, or everything); return
        the venv's path."""
        stamp_path = self.path / STAMP_FILE
        with _exclusive(self.path.with_name(f"{self.path.name}.lock")):
            wanted = self._wanted()
            current = _read_stamp(stamp_path)
            if current == wanted and self.python.exists():
                return self.path
            if _without_package(current) != _without_package(wanted) or not self.python.exists():
                current = {}
                self._build(progress)
            if self.package is not None and current.get("package") != wanted["package"]:
                progress(f"installing {self.package.directory.name} into {self.path}")
                self._install_package(self.package)
            stamp_path.write_text(json.dumps(wanted, indent=2))
        return self.path

    def _wanted(self) -> dict[str, str]:
        requirements = self.requirements
        wanted = {"requirements": _fingerprint([requirements], requirements.parent), **self.stamp}
        if self.package is not None:
            wanted["package"] = _fingerprint(self.package.sources(), self.package.directory)
        return wanted

    def _build(self, progress: Callable[[str], None]) -> None:
        python = self.find_python()
        progress(f"building {self.path} with {python} from {self.requirements.name} (a minute)")
        shutil.rmtree(self.path, ignore_errors=True)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.log_path.write_text("")
        self._run([str(python), "-m", "venv", str(self.path)], "creating the venv")
        self._pip(["install", "--no-deps", "-r", str(self.requirements)], self.requirements.name)
        self._pip(["check"], f"checking that {self.requirements.name} is a complete closure")

    def _install_package(self, package: LocalPackage) -> None:
        # Build from a copy: an in-tree build would leave build/ and *.egg-info in the checkout.
        with tempfile.TemporaryDirectory(prefix="xrdeploy-package-") as scratch:
            source = Path(scratch) / package.directory.name
            ignored = shutil.ignore_patterns(*_NOT_SOURCES, "*.egg-info")
            shutil.copytree(package.directory, source, ignore=ignored)
            # --no-deps: the package declares none, so installing it never moves the pins.
            install = ["install", "--no-deps", "--force-reinstall", str(source)]
            self._pip(install, str(package.directory))

    def _pip(self, args: Sequence[str], what: str) -> None:
        command = [str(self.python), "-m", "pip", "--disable-pip-version-check", *args]
        self._run(command, f"pip {args[0]} ({what})")

    def _run(self, command: Sequence[str], what: str) -> None:
        with self.log_path.open("a") as log:
            log.write(f"\n$ {' '.join(command)}\n")
            log.flush()
            code = subprocess.run(
                command, stdout=log, stderr=subprocess.STDOUT, check=False
            ).returncode
        if code != 0:
            raise VenvError(f"{what} failed (exit {code}); see {self.log_path}")


@contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    # Two test sessions or terminals may build the venv at once; one waits for the other.
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _read_stamp(path: Path) -> dict[str, str]:
    try:
        stamp = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return stamp if isinstance(stamp, dict) else {}


def _without_package(stamp: Mapping[str, str]) -> dict[str, str]:
    return {key: value for key, value in stamp.items() if key != "package"}


def _fingerprint(paths: Sequence[Path], root: Path) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()
