"""One local instance, seen from LocalStack: starts its holder process
(:mod:`xrdeploy_local_cloud.instances.holder`) and talks to it over the control socket.

The holder runs through :mod:`xrdeploy_local_cloud.instances.launcher` in user, mount, network,
PID, UTS and IPC namespaces of its own; it is in LocalStack's process group, so stopping
LocalStack stops it, and a pipe whose write end only this object holds makes it end when
LocalStack dies without stopping it. Killing the launcher kills the holder, and with it, as
PID 1, every process of the instance.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import logging
import os
import select
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from xrdeploy_local_cloud.instances import userdata, wire
from xrdeploy_local_cloud.instances.control import KILL_GRACE_SECONDS
from xrdeploy_local_cloud.instances.spec import InstanceError, InstanceSpec, RunResult

LOG = logging.getLogger(__name__)

LAUNCHER = "xrdeploy_local_cloud.instances.launcher"
START_TIMEOUT_SECONDS = 30.0
# Added to a command's own timeout before LocalStack stops waiting for the instance's answer.
ANSWER_MARGIN_SECONDS = KILL_GRACE_SECONDS + 30.0
FILE_TIMEOUT_SECONDS = 60.0


def holder_command(state: Path, fds: Mapping[str, int], skeleton: Path | None) -> list[str]:
    command = [sys.executable, "-I", "-m", LAUNCHER]
    command += [sys.executable, "-I", "-m", "xrdeploy_local_cloud.instances.holder"]
    command += ["--state", str(state)]
    command += ["--skeleton", str(skeleton)] if skeleton else []
    for name, fd in fds.items():
        command += [f"--{name}-fd", str(fd)]
    return command


def remove_tree(path: Path) -> None:
    """Remove an instance's state (or the skeleton layer) with everything its users made."""
    if os.geteuid() != 0:
        # Files of the instance's other users belong to subordinate ids: only root of a user
        # namespace that maps them may remove them, so `rm` runs in one, as the instances do.
        command = [sys.executable, "-I", "-m", LAUNCHER, "/bin/rm", "-rf", "--", str(path)]
        subprocess.run(command, capture_output=True, check=False)
        if not path.exists():
            return

    def unlock(function: Any, name: str, _: Any) -> None:
        # overlayfs leaves its work directories without permissions for anyone.
        failed = Path(name)
        failed.parent.chmod(stat.S_IRWXU)
        if failed.is_dir():
            failed.chmod(stat.S_IRWXU)
        function(name)

    shutil.rmtree(path, onexc=unlock)


class LocalInstance:
    def __init__(
        self,
        spec: InstanceSpec,
        state_root: Path,
        credentials: Mapping[str, str] | None,
        skeleton: Path | None = None,
    ) -> None:
        self.spec = spec
        self._state_root = state_root
        self._skeleton = skeleton
        self._credentials = credentials
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._lifeline: int | None = None
        self._state_dir: Path | None = None
        self._state_fd: int | None = None
        self._port = 0
        self._boot_lock = threading.Lock()
        self._booted = False
        self.console_output = ""
        self.warnings: list[str] = []  # what the instance's set-up could not do, one line each
        self.state = "pending"

    @property
    def page_url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    @property
    def state_dir(self) -> Path | None:
        return self._state_dir

    def update(self, spec: InstanceSpec, credentials: Mapping[str, str] | None) -> None:
        """Serve ``spec`` from now on in the metadata service (tags change on a running EC2
        instance too); the rest of the instance stays as it is."""
        with self._lock:  # a start in progress finishes first; one not begun uses the new spec
            self.spec, self._credentials = spec, credentials
            if self.state == "running":
                request = {"op": "update_metadata", "spec": self._document()}
                self._request(request, FILE_TIMEOUT_SECONDS)

    @property
    def credentials(self) -> Mapping[str, str] | None:
        return self._credentials

    def _document(self) -> dict[str, Any]:
        document = dataclasses.asdict(self.spec)
        document["tags"] = dict(self.spec.tags)
        document["hostname"] = self.spec.hostname
        document["credentials"] = self._credentials
        return document

    def start(self) -> None:
        with self._lock:
            if self.state == "running":
                return
            self._state_root.mkdir(parents=True, exist_ok=True)
            state = Path(tempfile.mkdtemp(prefix=f"{self.spec.instance_id}-", dir=self._state_root))
            self._state_dir = state
            (state / "instance.json").write_text(json.dumps(self._document()))
            try:
                self._spawn(state)
            except BaseException:
                self._stop_locked()
                self.state = "failed"
                raise
            self.state = "running"
            LOG.info("local instance %s running, page %s", self.spec.instance_id, self.page_url)

    def first_boot(self) -> None:
        """Run the user data once (a second caller waits until it has run, as a deployment
        waits for cloud-init on EC2); its output becomes the console output."""
        with self._boot_lock:
            if self._booted:
                return
            self._booted = True
            if self.spec.user_data:
                self.console_output = userdata.boot(self, self.spec.user_data)

    @property
    def _control_path(self) -> str:
        # Through a descriptor of the state directory: a unix socket's path is limited to 107
        # bytes, which a deep temporary directory (pytest's, say) exceeds.
        return f"/proc/self/fd/{self._state_fd}/control.sock"

    def _spawn(self, state: Path) -> None:
        self._state_fd = os.open(state, os.O_PATH | os.O_DIRECTORY)
        control = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        control.bind(self._control_path)
        control.listen(64)
        page = socket.create_server(("127.0.0.1", 0))
        self._port = page.getsockname()[1]
        ready_read, ready_write = os.pipe()
        life_read, self._lifeline = os.pipe()
        fds = {"control": control.fileno(), "page": page.fileno()}
        fds |= {"ready": ready_write, "lifeline": life_read}
        try:
            with (state / "holder.log").open("wb") as log:
                self._process = subprocess.Popen(
                    holder_command(state, fds, self._skeleton),
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    pass_fds=tuple(fds.values()),
                )
        finally:
            for fd in (ready_write, life_read):
                os.close(fd)
            control.close()
            page.close()
        self._await_ready(ready_read)

    def _await_ready(self, ready_read: int) -> None:
        """Wait for the holder's ``ready``, keeping the ``warning:`` lines before it."""
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        # Unbuffered: select must see every line not yet read.
        with os.fdopen(ready_read, "rb", buffering=0) as ready:
            while True:
                left = deadline - time.monotonic()
                if left <= 0 or not select.select([ready], [], [], left)[0]:
                    raise InstanceError(
                        self._failure(f"not ready in {START_TIMEOUT_SECONDS:.0f} s")
                    )
                line = ready.readline().decode(errors="replace").strip()
                if not line.startswith("warning: "):
                    break
                warning = line.removeprefix("warning: ")
                self.warnings.append(warning)
                LOG.warning("local instance %s: %s", self.spec.instance_id, warning)
        if line != "ready":
            raise InstanceError(self._failure(line.removeprefix("error: ") or "it exited"))

    def _failure(self, reason: str) -> str:
        log = self._state_dir / "holder.log" if self._state_dir else None
        tail = ""
        if log is not None and log.is_file():
            lines = log.read_text(errors="replace").strip().splitlines()
            tail = f" ({lines[-1]})" if lines and lines[-1] not in reason else ""
        return f"local instance {self.spec.instance_id} did not start: {reason}{tail}"

    def stop(self) -> None:
        with self._lock:
            self._stop_locked()
            self.state = "stopped"

    def _stop_locked(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signal.SIGKILL)
            self._process.wait()
        self._process = None
        for fd in (self._lifeline, self._state_fd):
            if fd is not None:
                os.close(fd)
        self._lifeline = self._state_fd = None
        if self._state_dir is not None and self._state_dir.exists():
            remove_tree(self._state_dir)

    def _request(self, request: dict[str, Any], timeout: float) -> dict[str, Any]:
        if self.state != "running" or self._state_dir is None:
            raise InstanceError(f"local instance {self.spec.instance_id} is {self.state}")
        if self._process is not None and self._process.poll() is not None:
            self.state = "failed"
            raise InstanceError(f"local instance {self.spec.instance_id} has stopped")
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
            connection.settimeout(timeout)
            try:
                connection.connect(self._control_path)
                wire.send(connection, request)
                answer = wire.receive(connection)
            except (OSError, wire.WireError) as error:
                raise InstanceError(
                    f"local instance {self.spec.instance_id} did not answer: {error}"
                ) from error
        if "error" in answer:
            if answer.get("kind") == "not_found":
                raise FileNotFoundError(answer["error"])
            raise InstanceError(f"local instance {self.spec.instance_id}: {answer['error']}")
        return answer

    def run(
        self,
        argv: list[str],
        *,
        env: Mapping[str, str],
        cwd: str,
        timeout: float,
        user: str = "root",
    ) -> RunResult:
        if timeout <= 0:
            raise InstanceError(f"timeout must be > 0, not {timeout}")
        request = {
            "op": "run",
            "argv": list(argv),
            "env": dict(env),
            "cwd": cwd,
            "timeout": timeout,
            "user": user,
        }
        answer = self._request(request, timeout + ANSWER_MARGIN_SECONDS)
        return RunResult(answer["exit_code"], answer["output"], bool(answer["timed_out"]))

    def write_file(self, path: str, data: bytes, mode: int = 0o644) -> None:
        encoded = base64.b64encode(data).decode()
        request = {"op": "write_file", "path": path, "data": encoded, "mode": mode}
        self._request(request, FILE_TIMEOUT_SECONDS)

    def read_file(self, path: str) -> bytes:
        answer = self._request({"op": "read_file", "path": path}, FILE_TIMEOUT_SECONDS)
        return base64.b64decode(answer["data"])
