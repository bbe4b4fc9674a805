"""The runtime executor LocalStack instantiates per Lambda execution environment.

Where the Docker executor creates a container running LocalStack's Go init, this one starts
:mod:`.supervisor` as a local process that speaks the same executor
protocol, so everything around it (invoke, FunctionError, CloudWatch Logs, environment reuse
and keep-alive) stays LocalStack's own code.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from concurrent.futures import InvalidStateError
from pathlib import Path

from localstack import config
from localstack.aws.api.lambda_ import PackageType
from localstack.services.lambda_.invocation.executor_endpoint import (
    ExecutorEndpoint,
    StatusErrorException,
)
from localstack.services.lambda_.invocation.lambda_models import FunctionVersion, InvocationResult
from localstack.services.lambda_.invocation.runtime_executor import (
    LambdaRuntimeException,
    RuntimeExecutor,
)
from localstack.utils.ssl import get_cert_pem_file_path

from xrdeploy_local_cloud.lambda_runtime import supervisor_config
from xrdeploy_local_cloud.lambda_runtime.supervisor_config import SupervisorConfig

LOG = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"
# LocalStack's certificate names localhost (its IP entry is malformed, so not 127.0.0.1).
TLS_HOST = "localhost"
# What AWS's Python runtimes put on sys.path besides the function code (their /var/runtime).
# Functions see these and nothing else of LocalStack's venv, so a dependency missing from the
# deployment zip fails here as it would in AWS.
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six")
STOP_GRACE_SECONDS = 3.0
SCRATCH_DIR = "tmp"  # in the work directory: the function's /tmp, HOME and TMPDIR
LOG_TAIL_CHARS = 20_000

_runtime_path_lock = threading.Lock()
_runtime_path: Path | None = None


def _runtime_packages_dir() -> Path:
    """A directory of symlinks to the ``RUNTIME_PACKAGES``, made once per LocalStack process."""
    global _runtime_path
    with _runtime_path_lock:
        if _runtime_path is None:
            target = Path(tempfile.mkdtemp(prefix="xrdeploy-lambda-runtime-"))
            for name in RUNTIME_PACKAGES:
                spec = importlib.util.find_spec(name)
                if spec is None or spec.origin is None:
                    raise LambdaRuntimeException(
                        f"package {name!r} is missing from LocalStack's venv; "
                        "re-create it from emulator/requirements.txt"
                    )
                origin = Path(spec.origin)
                source = origin.parent if origin.name == "__init__.py" else origin
                (target / source.name).symlink_to(source)
            _runtime_path = target
        return _runtime_path


def _gateway_host() -> str:
    host = config.GATEWAY_LISTEN[0].host
    # A wildcard listen address is reachable on loopback; the function process runs on this host.
    return LOOPBACK if host in ("", "0.0.0.0") else host


def _host_path() -> str:
    return os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin")


def _tls_endpoint(env_vars: dict[str, str], own: dict[str, str]) -> dict[str, str]:
    """LocalStack's ``AWS_ENDPOINT_URL`` moved to TLS, with its certificate as CA bundle.

    Lambda's SDKs reach AWS over TLS, so ``aws:SecureTransport`` holds for a function's requests
    and TLS-only bucket policies admit them. The gateway serves TLS on the same port with the
    certificate it writes at start (``<cert pem>.crt``, self-signed). A function that sets
    ``AWS_ENDPOINT_URL`` or ``AWS_CA_BUNDLE`` itself keeps its value.
    """
    if "AWS_ENDPOINT_URL" not in env_vars or "AWS_ENDPOINT_URL" in own:
        return {}  # LAMBDA_DISABLE_AWS_ENDPOINT_URL, or the function's own endpoint
    tls = {"AWS_ENDPOINT_URL": f"https://{TLS_HOST}:{config.GATEWAY_LISTEN[0].port}"}
    if "AWS_CA_BUNDLE" not in own:
        tls["AWS_CA_BUNDLE"] = f"{get_cert_pem_file_path()}.crt"
    return tls


def _function_env(
    env_vars: dict[str, str],
    workdir: Path,
    task_root: Path,
    runtime: str,
    own: dict[str, str],
) -> dict[str, str]:
    """The function's environment: defaults, then LocalStack's and the function's own variables
    (``own``: those of the function's configuration), then the reserved ones."""
    scratch = workdir / SCRATCH_DIR
    # Defaults the function's own variables may override, as Lambda's unreserved ones.
    function_env = {
        "PATH": _host_path(),
        "LANG": "C.UTF-8",
        "HOME": str(scratch),
        "TMPDIR": str(scratch),
        # Keep the host user's ~/.aws profile out of the function's SDK configuration.
        "AWS_CONFIG_FILE": str(workdir / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(workdir / "no-aws-credentials"),
    }
    # LocalStack's variables (credentials, AWS_ENDPOINT_URL, ...) and the function's own.
    function_env.update({key: str(value) for key, value in env_vars.items()})
    function_env.update(_tls_endpoint(env_vars, own))
    # Reserved ones, pointing at this host instead of the container paths LocalStack sets.
    function_env.update(
        {
            "LAMBDA_TASK_ROOT": str(task_root),
            "LAMBDA_RUNTIME_DIR": str(supervisor_config.RUNTIME_SCRIPT.parent),
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{runtime}",
        }
    )
    return function_env


class LocalProcessRuntimeExecutor(RuntimeExecutor):
    """Runs one execution environment as a supervisor process plus a Python runtime process."""

    def __init__(self, id: str, function_version: FunctionVersion) -> None:
        super().__init__(id=id, function_version=function_version)
        self.executor_endpoint = ExecutorEndpoint(id, container_address=LOOPBACK)
        self._process: subprocess.Popen[bytes] | None = None
        self._workdir: Path | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self, env_vars: dict[str, str]) -> None:
        self.executor_endpoint.start()
        workdir = Path(
            tempfile.mkdtemp(
                prefix=f"lambda-{self.function_version.id.function_name}-{self.id[:8]}-"
            )
        )
        self._workdir = workdir
        (workdir / SCRATCH_DIR).mkdir()
        config_path = workdir / "supervisor.json"
        config_path.write_text(json.dumps(self._supervisor_config(env_vars, workdir).to_json()))
        self._spawn_supervisor(config_path)
        threading.Thread(
            target=self._fail_startup_on_exit, name=f"lambda-supervisor-{self.id[:8]}", daemon=True
        ).start()

        self.executor_endpoint.wait_for_startup()
        port_file = workdir / supervisor_config.PORT_FILE
        self.executor_endpoint.container_port = int(port_file.read_text())

    def _supervisor_config(self, env_vars: dict[str, str], workdir: Path) -> SupervisorConfig:
        fn_config = self.function_version.config
        if fn_config.code is None:  # prepare_version refused it already
            raise LambdaRuntimeException("local-process executor runs zip functions only")
        task_root = fn_config.code.get_unzipped_code_location()
        return SupervisorConfig(
            runtime_id=self.id,
            runtime_endpoint=self.get_runtime_endpoint(),
            workdir=str(workdir),
            task_root=str(task_root),
            python=sys.executable,
            runtime_script=str(supervisor_config.RUNTIME_SCRIPT),
            sys_path=[str(task_root), str(_runtime_packages_dir())],
            function_env=_function_env(
                env_vars,
                workdir,
                task_root,
                str(fn_config.runtime),
                dict(fn_config.environment or {}),
            ),
            function_version=self.function_version.id.qualifier,
            timeout_seconds=int(fn_config.timeout),
            memory_mb=int(fn_config.memory_size),
        )

    def _spawn_supervisor(self, config_path: Path) -> None:
        workdir = config_path.parent
        log_file = (workdir / supervisor_config.ENVIRONMENT_LOG).open("ab")
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-I", "-m", supervisor_config.SUPERVISOR_MODULE, str(config_path)],
                cwd=workdir,
                env={"PATH": _host_path(), "LANG": "C.UTF-8"},
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
            )
        finally:
            log_file.close()

    def _fail_startup_on_exit(self) -> None:
        """Turn a supervisor that dies before reporting ready into a startup error.

        Without this LocalStack would wait for its startup timeout (20 s by default).
        """
        process = self._process
        assert process is not None
        code = process.wait()
        future = self.executor_endpoint.startup_future
        if future is None or future.done():
            return
        payload = json.dumps(
            {
                "errorType": "Runtime.ExitError",
                "errorMessage": f"local-process supervisor exited with status {code}: "
                f"{self.get_logs()[-500:]}",
            }
        ).encode()
        # InvalidStateError: a ready/error callback resolved the future meanwhile.
        with contextlib.suppress(InvalidStateError):
            future.set_exception(StatusErrorException("Environment startup failed", payload))

    def stop(self) -> None:
        process = self._process
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=STOP_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        try:
            self.executor_endpoint.shutdown()
        except Exception as e:  # same tolerance as LocalStack's Docker executor
            LOG.debug("Error while stopping executor endpoint %s: %s", self.id, e)
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)

    # -- addresses ---------------------------------------------------------------------------

    def get_address(self) -> str:
        return LOOPBACK

    def get_endpoint_from_executor(self) -> str:
        return _gateway_host()

    def get_runtime_endpoint(self) -> str:
        port = config.GATEWAY_LISTEN[0].port
        prefix = self.executor_endpoint.get_endpoint_prefix()
        return f"http://{self.get_endpoint_from_executor()}:{port}{prefix}"

    # -- invocation ---------------------------------------------------------------------------

    def invoke(self, payload: dict[str, str]) -> InvocationResult:
        return self.executor_endpoint.invoke(payload)

    def get_logs(self) -> str:
        if self._workdir is None:
            return "Execution environment was not started"
        try:
            text: str = (self._workdir / supervisor_config.ENVIRONMENT_LOG).read_text(
                errors="replace"
            )
        except FileNotFoundError:
            return "Execution environment left no log"
        return text[-LOG_TAIL_CHARS:]

    # -- versions -----------------------------------------------------------------------------

    @classmethod
    def prepare_version(cls, function_version: FunctionVersion) -> None:
        fn_config = function_version.config
        if fn_config.package_type != PackageType.Zip or fn_config.code is None:
            raise LambdaRuntimeException("local-process executor runs zip functions only")
        if not str(fn_config.runtime or "").startswith("python3"):
            raise LambdaRuntimeException(
                f"local-process executor runs python3.x runtimes only, not {fn_config.runtime}"
            )
        if fn_config.layers:
            raise LambdaRuntimeException(
                "local-process executor does not support layers; bundle dependencies in the zip"
            )
        fn_config.code.prepare_for_execution()
        _runtime_packages_dir()

    @classmethod
    def cleanup_version(cls, function_version: FunctionVersion) -> None:
        # The unzipped code is LocalStack's cache (S3Code.destroy_cached); nothing of ours to undo.
        pass

    @classmethod
    def validate_environment(cls) -> bool:
        return True
