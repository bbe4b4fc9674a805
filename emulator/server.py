"""One LocalStack process on a loopback port, started without Docker from its own venv."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType

from emulator.evaluator_install import ensure_iam_evaluator
from emulator.gateway import GUARDS_PATH, HEALTHY_STATES, guards, health
from emulator.home import EMULATOR_DIR, EmulatorError, localstack_home
from emulator.service_catalog import link_service_catalog
from emulator.venv import venv_python

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
    "codecommit",
    "codeconnections",
    "codestar-connections",
    # Notifications: SNS topics per stage, SQS (and others) as their subscribers.
    "sns",
    "sqs",
)
RUNTIME_EXECUTOR = "local-process"  # entry-point names registered by emulator/plugins
GATEWAY_SERVER = "twisted-loopback"
S3_PROVIDER = "xrdeploy"
IAM_EVALUATOR_DIR = EMULATOR_DIR / "iam_evaluator"
ENFORCE_IAM_ENV = "XRDEPLOY_ENFORCE_IAM"
NODE_ENV = "XRDEPLOY_IAM_NODE"
# The guards' switches reach LocalStack from the caller's environment too, so that
# `XRDEPLOY_ENFORCE_IAM=0 python -m emulator up` (or before pytest) turns enforcement off;
# extra_env still wins.
PASSED_SWITCHES = (
    ENFORCE_IAM_ENV,
    "XRDEPLOY_ENFORCE_TRUST",
    "XRDEPLOY_ENFORCE_KMS_STATE",
    NODE_ENV,
)
_OFF = ("0", "false", "no", "off")
# LocalStack's FILESYSTEM_ROOT inside a run's state directory.
FILESYSTEM_ROOT = "fs"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _iam_evaluator_env(env: Mapping[str, str]) -> dict[str, str]:
    """The node binary for the IAM evaluator (found on LocalStack's PATH, else the caller's), its
    packages installed on first use; fails in one line, before LocalStack starts, when IAM
    enforcement cannot run."""
    if env.get(ENFORCE_IAM_ENV, "1").strip().lower() in _OFF:
        return {}
    try:
        ensure_iam_evaluator(Path(env["XRDEPLOY_IAM_EVALUATOR"]))
    except EmulatorError as error:
        raise EmulatorError(
            f"{error}, or set {ENFORCE_IAM_ENV}=0 to run without IAM enforcement"
        ) from None
    node = env.get(NODE_ENV) or shutil.which("node", path=env.get("PATH")) or shutil.which("node")
    if not node:
        raise EmulatorError(
            "the local cloud's IAM evaluator needs Node.js: put node on PATH "
            f"(or set {NODE_ENV}), or set {ENFORCE_IAM_ENV}=0"
        )
    return {NODE_ENV: node}


class LocalStackServer:
    """One LocalStack process on a loopback port; a context manager.

    ``venv`` is the directory returned by :func:`ensure_environment`. ``extra_env`` is added to
    LocalStack's environment last (e.g. ``XRDEPLOY_ENFORCE_TRUST``). State lives in a
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
            # LocalStack's S3 keeps objects in a fixed /tmp/localstack-s3-storage shared by every
            # user and run; ours keeps them in this run's TMPDIR (plugins: s3/storage.py).
            "PROVIDER_OVERRIDE_S3": S3_PROVIDER,
            # LocalStack runs on this host even when the host is itself a container (CI, dev
            # containers); otherwise it would pick container paths under /var/lib/localstack.
            "OVERRIDE_IN_DOCKER": "0",
            "FILESYSTEM_ROOT": str(state_dir / FILESYSTEM_ROOT),
            # Lambda code and our execution environments live under tempfile.gettempdir().
            "TMPDIR": str(state_dir / "tmp"),
            "XDG_CACHE_HOME": str(state_dir / "cache"),
            "DISABLE_EVENTS": "1",  # analytics
            "SKIP_SSL_CERT_DOWNLOAD": "1",
            "DNS_ADDRESS": "0",  # no DNS server: it needs port 53 and an upstream resolver
            # The IAM guard's evaluator (installed on first use; not needed with enforcement off).
            "XRDEPLOY_IAM_EVALUATOR": str(IAM_EVALUATOR_DIR),
        }
        env.update({name: os.environ[name] for name in PASSED_SWITCHES if name in os.environ})
        env.update(self.extra_env)
        env.update(_iam_evaluator_env(env))
        return env

    def start(self) -> LocalStackServer:
        """Start LocalStack and wait until all :attr:`services` report healthy."""
        if self._process is not None:
            raise EmulatorError("LocalStackServer.start() called twice")
        self.port = self.port or _free_port()
        state_dir = Path(tempfile.mkdtemp(prefix="xrdeploy-localstack-"))
        self._state_dir = state_dir
        (state_dir / "tmp").mkdir()
        # The venv's prebuilt service catalog, where LocalStack looks before building its own.
        link_service_catalog(self.venv, state_dir / FILESYSTEM_ROOT)
        try:
            env = self._environment(state_dir)
        except EmulatorError:
            self.stop()
            raise
        log_dir = localstack_home() / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        self._log_path = log_dir / f"localstack-{self.port}.log"
        with self._log_path.open("wb") as log:
            self._process = subprocess.Popen(
                [str(venv_python(self.venv)), "-m", "localstack.runtime.main"],
                cwd=state_dir,
                env=env,
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
            states = health(self.endpoint, timeout=1.0) or {}
            if all(states.get(service) in HEALTHY_STATES for service in self.services):
                if guards(self.endpoint) is None:
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

    def exit_code(self) -> int | None:
        """LocalStack's exit status once it has ended by itself, else None."""
        return self._process.poll() if self._process is not None else None

    @property
    def state_dir(self) -> Path:
        """LocalStack's working directory for this run (removed by :meth:`stop`)."""
        if self._state_dir is None:
            raise EmulatorError("LocalStackServer.state_dir used before start()")
        return self._state_dir

    def detach(self) -> None:
        """Leave the process running after this object is gone (``python -m emulator up``);
        :func:`emulator.local_cloud.stop_local_cloud` stops it later from its pid."""
        self._process = None
        self._state_dir = None

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
