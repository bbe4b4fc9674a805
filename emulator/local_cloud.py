"""The local cloud as a long-running service: ``python -m emulator up`` starts LocalStack and
leaves it running, recorded in ``<home>/local-cloud.json``; ``down`` stops it; every later
command (the demo, ``deploy --target localstack``, the tests) finds it through
:func:`existing_endpoint`."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from emulator.gateway import health
from emulator.home import EmulatorError, localstack_home, stderr_progress
from emulator.server import LocalStackServer
from emulator.venv import ensure_environment

ENDPOINT_ENVS = ("LOCALSTACK_ENDPOINT", "AWS_ENDPOINT_URL")
STATE_FILE = "local-cloud.json"


@dataclass(frozen=True)
class RunningCloud:
    endpoint: str
    pid: int
    log_path: str
    state_dir: str


def _state_path() -> Path:
    return localstack_home() / STATE_FILE


def running_cloud() -> RunningCloud | None:
    """The local cloud started by ``up``, if its record exists and it answers."""
    try:
        record = RunningCloud(**json.loads(_state_path().read_text()))
    except (OSError, ValueError, TypeError):
        return None
    return record if health(record.endpoint) is not None else None


def existing_endpoint() -> str | None:
    """``$LOCALSTACK_ENDPOINT`` or ``$AWS_ENDPOINT_URL`` if set and healthy, else the endpoint of
    the local cloud started by ``up``, else None."""
    for name in ENDPOINT_ENVS:
        endpoint = os.environ.get(name)
        if endpoint and health(endpoint) is not None:
            return endpoint.rstrip("/")
    cloud = running_cloud()
    return cloud.endpoint if cloud else None


def start_local_cloud(
    port: int | None = None, progress: Callable[[str], None] = stderr_progress
) -> RunningCloud:
    """Start the local cloud in the background, or return the one already running."""
    cloud = running_cloud()
    if cloud is not None:
        return cloud
    server = LocalStackServer(ensure_environment(progress), port=port)
    progress("starting LocalStack with the xrdeploy plugins")
    server.start()
    cloud = RunningCloud(
        endpoint=server.endpoint,
        pid=int(server.pid or 0),
        log_path=str(server.log_path),
        state_dir=str(server.state_dir),
    )
    server.detach()
    _state_path().write_text(json.dumps(asdict(cloud), indent=2))
    return cloud


def serve_local_cloud(
    port: int | None = None, progress: Callable[[str], None] = stderr_progress
) -> int:
    """Run the local cloud in the foreground until SIGTERM or SIGINT (a container's main process):
    the same server as ``up``, recorded the same way so ``status`` and ``instances`` find it, and
    stopped with its state removed when the signal comes. Returns LocalStack's exit status if it
    ends by itself, else 0."""
    if running_cloud() is not None:
        raise EmulatorError(f"a local cloud is already running ({_state_path()}): stop it first")
    stopping: list[int] = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda number, _frame: stopping.append(number))
    with LocalStackServer(ensure_environment(progress), port=port) as server:
        cloud = RunningCloud(
            endpoint=server.endpoint,
            pid=int(server.pid or 0),
            log_path=str(server.log_path),
            state_dir=str(server.state_dir),
        )
        _state_path().write_text(json.dumps(asdict(cloud), indent=2))
        progress(f"local cloud running at {cloud.endpoint} (log {cloud.log_path}); stop: SIGTERM")
        try:
            while not stopping and (code := server.exit_code()) is None:
                time.sleep(0.5)
        finally:
            _state_path().unlink(missing_ok=True)
    return 0 if stopping else int(code or 0)


def stop_local_cloud(timeout: float = 15.0) -> RunningCloud | None:
    """Stop the local cloud started by ``up`` (its whole process group); None if none ran."""
    try:
        cloud = RunningCloud(**json.loads(_state_path().read_text()))
    except (OSError, ValueError, TypeError):
        return None
    _signal_group(cloud.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _alive(cloud.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    _signal_group(cloud.pid, signal.SIGKILL)
    shutil.rmtree(cloud.state_dir, ignore_errors=True)
    _state_path().unlink(missing_ok=True)
    return cloud


def _signal_group(pid: int, sig: int) -> None:
    if pid <= 0:
        raise EmulatorError(f"{_state_path()} names no process; remove it")
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (our own child) counts as gone.
    with contextlib.suppress(ChildProcessError):
        waited, _ = os.waitpid(pid, os.WNOHANG)
        return waited == 0
    return True
