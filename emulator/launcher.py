"""Run LocalStack on this host, without Docker, with real Lambda execution.

LocalStack's runtime (``localstack-core``) is a Python 3.13 program; the project runs on 3.11, so it
gets a venv of its own. :func:`ensure_environment` builds that venv from ``requirements.txt`` plus
the ``plugins`` plugin package, :class:`LocalStackServer` starts and stops one LocalStack
process on a free loopback port, and :func:`existing_endpoint` finds one that is already running.
:func:`add_fault`, :func:`list_faults` and :func:`clear_faults` drive the fault injector of the
package's ``xrdeploy-guards`` extension.

Stdlib only: the main project and its tests import this module from Python 3.11.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType

from xrdeploy.locking import file_lock, run_logged

EMULATOR_DIR = Path(__file__).resolve().parent
REPO_ROOT = EMULATOR_DIR.parent
REQUIREMENTS = EMULATOR_DIR / "requirements.txt"
PLUGINS_DIR = EMULATOR_DIR / "plugins"

HOME_ENV = "XRDEPLOY_LOCALSTACK_HOME"
PYTHON_ENV = "XRDEPLOY_PYTHON313"
ENDPOINT_ENVS = ("LOCALSTACK_ENDPOINT", "AWS_ENDPOINT_URL")

# What the pipeline and its tests use; all others stay disabled (faster start, less memory).
DEFAULT_SERVICES = (
    "s3",
    "sts",
    "iam",
    "kms",
    "ec2",
    "ssm",
    "events",
    "logs",
    "lambda",
    "cloudwatch",
    "codepipeline",
    "codedeploy",
)
RUNTIME_EXECUTOR = "local-process"  # entry-point names registered by emulator/plugins
GATEWAY_SERVER = "twisted-loopback"
HEALTH_PATH = "/_localstack/health"
GUARDS_PATH = "/_xrdeploy/guards"  # answered once the xrdeploy-guards extension is loaded
FAULTS_PATH = "/_xrdeploy/faults"
HEALTHY_STATES = ("available", "running")
STAMP_FILE = "xrdeploy-stamp.json"
_SKIPPED_SOURCE_PARTS = ("__pycache__", "build", "dist")
# LocalStack is on loopback: a proxy from the host's environment must not be asked for it.
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class EmulatorError(RuntimeError):
    """A one-line, actionable problem with the local emulator setup."""


def _stderr_progress(message: str) -> None:
    sys.stderr.write(f"[emulator] {message}\n")


def localstack_home() -> Path:
    """Venv and logs directory: ``$XRDEPLOY_LOCALSTACK_HOME``, else ``<repo>/.localstack``."""
    override = os.environ.get(HOME_ENV)
    return Path(override).expanduser().resolve() if override else REPO_ROOT / ".localstack"


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


def _venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def _run_logged(command: Sequence[str], log_path: Path, what: str) -> None:
    code = run_logged(command, log_path)
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


def ensure_environment(progress: Callable[[str], None] = _stderr_progress) -> Path:
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
    with file_lock(home / "venv.lock"):
        wanted = {
            "requirements": _fingerprint([REQUIREMENTS]),
            "plugins": _fingerprint(_package_sources()),
        }
        try:
            current = json.loads(stamp_path.read_text())
        except (OSError, ValueError):
            current = {}
        if current == wanted and _venv_python(venv).exists():
            return venv
        if current.get("requirements") != wanted["requirements"] or not _venv_python(venv).exists():
            python = find_python313()
            progress(f"creating LocalStack venv {venv} with {python} (about a minute)")
            shutil.rmtree(venv, ignore_errors=True)
            log_path.write_text("")
            _run_logged([str(python), "-m", "venv", str(venv)], log_path, "creating the venv")
            _run_logged(
                [
                    str(_venv_python(venv)),
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
        _install_plugins(_venv_python(venv), log_path)
        stamp_path.write_text(json.dumps(wanted, indent=2))
    return venv


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _health(endpoint: str, timeout: float = 2.0) -> dict[str, str] | None:
    """Service states from LocalStack's health endpoint, or None if it does not answer."""
    try:
        with _NO_PROXY.open(endpoint.rstrip("/") + HEALTH_PATH, timeout=timeout) as response:
            body = json.loads(response.read())
    except (urllib.error.URLError, OSError, ValueError):
        return None
    services = body.get("services") if isinstance(body, dict) else None
    return services if isinstance(services, dict) else None


def _guards(endpoint: str) -> dict[str, bool] | None:
    """Switches of the xrdeploy-guards extension, or None if it does not answer."""
    try:
        body = _call(endpoint, "GET", GUARDS_PATH, timeout=2.0)
    except EmulatorError:
        return None
    return body if isinstance(body, dict) else None


def _call(
    endpoint: str, method: str, path: str, body: object = None, timeout: float = 10.0
) -> object:
    """One JSON request to LocalStack's gateway; an HTTP error becomes an EmulatorError."""
    request = urllib.request.Request(
        endpoint.rstrip("/") + path,
        data=None if body is None else json.dumps(body).encode(),
        method=method,
        headers={"Content-Type": "application/json"},
    )
    try:
        with _NO_PROXY.open(request, timeout=timeout) as response:
            return json.loads(response.read() or b"null")
    except urllib.error.HTTPError as e:
        detail = e.read().decode(errors="replace").strip()
        raise EmulatorError(f"{method} {path} on {endpoint}: HTTP {e.code} {detail}") from e
    except (urllib.error.URLError, OSError, ValueError) as e:
        raise EmulatorError(f"{method} {path} on {endpoint} failed: {e}") from e


def add_fault(endpoint: str, **rule: object) -> str:
    """Add a fault rule to the LocalStack at ``endpoint`` and return its id.

    ``rule`` holds the fields of the rule as the extension documents them
    (``emulator/plugins/src/xrdeploy_localstack/faults.py``), e.g.
    ``add_fault(url, service="s3", operation="PutObject", error={"code": "SlowDown",
    "message": "Please reduce your request rate.", "status": 503}, times=1)``.
    """
    added = _call(endpoint, "POST", FAULTS_PATH, rule)
    fault_id = added.get("id") if isinstance(added, dict) else None
    if not isinstance(fault_id, str):
        raise EmulatorError(f"POST {FAULTS_PATH} on {endpoint} answered {added!r}")
    return fault_id


def list_faults(endpoint: str) -> list[dict[str, object]]:
    """The fault rules in the order they are tried, each with ``id``, ``hits``, ``remaining``."""
    listed = _call(endpoint, "GET", FAULTS_PATH)
    faults = listed.get("faults") if isinstance(listed, dict) else None
    if not isinstance(faults, list):
        raise EmulatorError(f"GET {FAULTS_PATH} on {endpoint} answered {listed!r}")
    return faults


def clear_faults(endpoint: str) -> int:
    """Remove all fault rules; return how many there were."""
    cleared = _call(endpoint, "DELETE", FAULTS_PATH)
    count = cleared.get("cleared") if isinstance(cleared, dict) else None
    if not isinstance(count, int):
        raise EmulatorError(f"DELETE {FAULTS_PATH} on {endpoint} answered {cleared!r}")
    return count


def existing_endpoint() -> str | None:
    """``$LOCALSTACK_ENDPOINT`` or ``$AWS_ENDPOINT_URL``, if set and passing the health check."""
    for name in ENDPOINT_ENVS:
        endpoint = os.environ.get(name)
        if endpoint and _health(endpoint) is not None:
            return endpoint.rstrip("/")
    return None


class LocalStackServer:
    """One LocalStack process on a loopback port; a context manager.

    ``venv`` is the directory returned by :func:`ensure_environment`. ``extra_env`` is added to
    LocalStack's environment last (e.g. ``XRDEPLOY_LAMBDA_ENDPOINT_OVERRIDES``). State lives in a
    temporary directory removed by :meth:`stop`; the log is kept at :attr:`log_path`.
    """

    def __init__(
        self,
        venv: Path,
        *,
        port: int | None = None,
        services: Sequence[str] = DEFAULT_SERVICES,
        extra_env: Mapping[str, str] | None = None,
        startup_timeout: float = 60.0,
    ) -> None:
        self.venv = venv
        self.port = port
        self.services = tuple(services)
        self.extra_env = dict(extra_env or {})
        self.startup_timeout = startup_timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._state_dir: Path | None = None
        self._log_path: Path | None = None

    @property
    def endpoint(self) -> str:
        """``http://127.0.0.1:PORT`` of the running server."""
        if self.port is None or self._process is None:
            raise EmulatorError("LocalStackServer.endpoint used before start()")
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        """File receiving LocalStack's output (kept after stop for post-mortems)."""
        if self._log_path is None:
            raise EmulatorError("LocalStackServer.log_path used before start()")
        return self._log_path

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def _environment(self, state_dir: Path) -> dict[str, str]:
        env = {
            "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
            "HOME": str(state_dir),
            "LANG": "C.UTF-8",
            "GATEWAY_LISTEN": f"127.0.0.1:{self.port}",
            # LocalStack's own twisted server would take only the port from GATEWAY_LISTEN and
            # listen on all interfaces; ours binds the host too.
            "GATEWAY_SERVER": GATEWAY_SERVER,
            "SERVICES": ",".join(self.services),
            "LAMBDA_RUNTIME_EXECUTOR": RUNTIME_EXECUTOR,
            # LocalStack runs on this host even when the host is itself a container (CI, dev
            # containers); otherwise it would pick container paths under /var/lib/localstack.
            "OVERRIDE_IN_DOCKER": "0",
            "FILESYSTEM_ROOT": str(state_dir / "fs"),
            # Lambda code and our execution environments live under tempfile.gettempdir().
            "TMPDIR": str(state_dir / "tmp"),
            "XDG_CACHE_HOME": str(state_dir / "cache"),
            "DISABLE_EVENTS": "1",  # analytics
            "SKIP_SSL_CERT_DOWNLOAD": "1",
            "DNS_ADDRESS": "0",  # no DNS server: it needs port 53 and an upstream resolver
        }
        env.update(self.extra_env)
        return env

    def start(self) -> LocalStackServer:
        """Start LocalStack and wait until all :attr:`services` report healthy."""
        if self._process is not None:
            raise EmulatorError("LocalStackServer.start() called twice")
        self.port = self.port or _free_port()
        state_dir = Path(tempfile.mkdtemp(prefix="xrdeploy-localstack-"))
        self._state_dir = state_dir
        (state_dir / "tmp").mkdir()
        log_dir = localstack_home() / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        self._log_path = log_dir / f"localstack-{self.port}.log"
        with self._log_path.open("wb") as log:
            self._process = subprocess.Popen(
                [str(_venv_python(self.venv)), "-m", "localstack.runtime.main"],
                cwd=state_dir,
                env=self._environment(state_dir),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # stop() signals the group, Lambda supervisors included
            )
        try:
            self._wait_healthy()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_healthy(self) -> None:
        assert self._process is not None
        deadline = time.monotonic() + self.startup_timeout
        while True:
            code = self._process.poll()
            if code is not None:
                raise EmulatorError(
                    f"LocalStack exited with status {code} while starting; see {self.log_path}"
                )
            states = _health(self.endpoint, timeout=1.0) or {}
            if all(states.get(service) in HEALTHY_STATES for service in self.services):
                if _guards(self.endpoint) is None:
                    raise EmulatorError(
                        "LocalStack started without the xrdeploy-guards extension "
                        f"({GUARDS_PATH} does not answer); see {self.log_path}"
                    )
                return
            if time.monotonic() > deadline:
                raise EmulatorError(
                    f"LocalStack not healthy after {self.startup_timeout:.0f}s "
                    f"(services: {states or 'no answer'}); see {self.log_path}"
                )
            time.sleep(0.2)

    def stop(self, timeout: float = 15.0) -> None:
        """Terminate LocalStack's process group (SIGTERM, then SIGKILL) and remove its state."""
        process = self._process
        if process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            # Stragglers of the group (a supervisor mid-shutdown) must not outlive the state dir.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            self._process = None
        if self._state_dir is not None:
            shutil.rmtree(self._state_dir, ignore_errors=True)
            self._state_dir = None

    def __enter__(self) -> LocalStackServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
