"""Stand-in for systemd's service manager inside a local instance.

The ``systemctl`` stand-in sends its arguments to this supervisor, which lives in the instance's
daemon, so services outlive the hook that started them (as under systemd) and end with the
instance. They are reached on an abstract unix socket: abstract names belong to the network
namespace, so every instance has its own and the host's processes cannot reach it.

Services run in their own session with ``/var/log/xrdeploy-services/<unit>.log`` as stdout and
stderr (the stand-in for the journal). ``Type=notify`` waits for ``READY=1`` on ``NOTIFY_SOCKET``
(systemd's protocol), ``Type=oneshot`` and ``Type=forking`` for ``ExecStart`` to exit.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

from xrdeploy_local_cloud.instances import systemctl_commands, units, wire

LOG = logging.getLogger(__name__)

SOCKET_NAME = b"\0xrdeploy-systemd"
LOG_DIR = Path("/var/log/xrdeploy-services")
START_TIMEOUT_SECONDS = 90.0  # systemd's DefaultTimeoutStartSec
STOP_TIMEOUT_SECONDS = 90.0
BASE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin"


@dataclasses.dataclass
class Running:
    unit: units.Unit
    process: subprocess.Popen[bytes] | None
    pid: int
    since: float
    state: str = "active"  # active, inactive, failed
    result: str = ""


class Supervisor:
    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._services: dict[str, Running] = {}

    def state(self, name: str) -> Running | None:
        with self._lock:
            return self._services.get(units.unit_name(name))

    def _environment(self, unit: units.Unit) -> dict[str, str]:
        environment = {"PATH": BASE_PATH, "LANG": "C.UTF-8", "HOME": "/root"}
        for setting in unit.environment_files:
            environment.update(units.read_environment_file(setting))
        environment.update(dict(unit.environment))
        return environment

    def start(self, name: str) -> None:
        unit = units.load(name)
        with self._lock:
            current = self._services.get(unit.name)
            if current is not None and current.state == "active":
                return
            environment = self._environment(unit)
            argv = units.expand(unit.exec_start, environment)
            LOG_DIR.mkdir(parents=True, exist_ok=True)
            with (LOG_DIR / f"{unit.name}.log").open("ab") as log:
                notify = self._notify_socket(unit, environment)
                process = subprocess.Popen(
                    argv,
                    cwd=unit.working_directory,
                    env=environment,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            running = Running(unit, process, process.pid, time.time())
            self._services[unit.name] = running
        try:
            self._wait_started(running, notify)
        finally:
            if notify is not None:
                notify.close()
        threading.Thread(target=self._watch, args=(running,), daemon=True).start()

    def _notify_socket(self, unit: units.Unit, environment: dict[str, str]) -> socket.socket | None:
        if unit.type != "notify":
            return None
        notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        name = f"xrdeploy-notify-{unit.name}-{time.monotonic_ns()}"
        notify.bind(b"\0" + name.encode())
        environment["NOTIFY_SOCKET"] = "@" + name
        return notify

    def _wait_started(self, running: Running, notify: socket.socket | None) -> None:
        assert running.process is not None
        name = running.unit.name
        if running.unit.type in ("oneshot", "forking"):
            code = running.process.wait(START_TIMEOUT_SECONDS)
            if code != 0:
                self._fail(running, "exit-code")
                raise units.UnitError(
                    f"Job for {name} failed because the control process exited with error code."
                )
            if running.unit.type == "oneshot":
                running.state, running.process = "inactive", None
            else:
                running.pid, running.process = _pid_from(running.unit.pid_file), None
            return
        if notify is None:
            return
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if running.process.poll() is not None:
                self._fail(running, "exit-code")
                raise units.UnitError(
                    f"Job for {name} failed because the service exited before it was ready."
                )
            notify.settimeout(0.2)
            try:
                if b"READY=1" in notify.recv(4096).split(b"\n"):
                    return
            except TimeoutError:
                continue
        self.stop(name)
        self._fail(running, "timeout")
        raise units.UnitError(f"Job for {name} failed because a timeout was exceeded.")

    def _fail(self, running: Running, result: str) -> None:
        with self._lock:
            running.state, running.result = "failed", result

    def _watch(self, running: Running) -> None:
        if running.process is None:
            return
        code = running.process.wait()
        with self._lock:
            if running.state == "active":
                running.state = "inactive" if code == 0 else "failed"
                running.result = "" if code == 0 else "exit-code"

    def stop(self, name: str) -> None:
        with self._lock:
            running = self._services.get(units.unit_name(name))
            if running is None or running.state != "active":
                return
            running.state = "inactive"
        _terminate(running)

    def stop_all(self) -> None:
        with self._lock:
            names = list(self._services)
        for name in names:
            self.stop(name)


def _pid_from(pid_file: str) -> int:
    try:
        return int(Path(pid_file).read_text().split()[0]) if pid_file else 0
    except (OSError, ValueError, IndexError):
        return 0


def _terminate(running: Running) -> None:
    for sig, wait in ((signal.SIGTERM, STOP_TIMEOUT_SECONDS), (signal.SIGKILL, 5.0)):
        try:
            if running.process is not None:
                os.killpg(running.process.pid, sig)
            elif running.pid:
                os.kill(running.pid, sig)
        except ProcessLookupError:
            return
        if running.process is None:
            return
        try:
            running.process.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue


def _connection(supervisor: Supervisor, connection: socket.socket) -> None:
    with connection:
        try:
            request = wire.receive(connection)
            code, output = systemctl_commands.run(supervisor, [str(a) for a in request["argv"]])
        except (OSError, ValueError, KeyError, wire.WireError) as error:
            code, output = 1, f"systemctl (stand-in): {error}\n"
        wire.send(connection, {"exit_code": code, "output": output})


def serve(supervisor: Supervisor) -> threading.Thread:
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(SOCKET_NAME)
    listener.listen(16)

    def handle(connection: socket.socket) -> None:
        _connection(supervisor, connection)

    return threading.Thread(
        target=wire.accept_forever, args=(listener, handle), name="systemd", daemon=True
    )
