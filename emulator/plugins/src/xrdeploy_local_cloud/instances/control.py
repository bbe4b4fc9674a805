"""The control channel inside the instance: ``run``, ``write_file``, ``read_file`` and
``update_metadata`` requests from LocalStack, one request per connection
(:mod:`xrdeploy_local_cloud.instances.wire`).

``run`` behaves like the CodeDeploy agent's hook executor: the command runs as the request's
``user`` (default root) as ``su USER -c`` would start it, gets its own process group
and a pipe for stdout and stderr together; the deadline covers both the process and its output
(the agent waits for the output too, so a background process that keeps the pipe open makes the
hook time out there as well); on the deadline the group gets SIGTERM, then SIGKILL after
:data:`KILL_GRACE_SECONDS`.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import pwd
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from xrdeploy_local_cloud.instances import wire

LOG = logging.getLogger(__name__)

_updates_lock = threading.Lock()

KILL_GRACE_SECONDS = 5.0
# Kept from the end of a hook's output; the agent itself keeps only the last 2 KB for its message.
OUTPUT_LIMIT = 4 * 1024 * 1024
BASE_ENVIRONMENT = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "HOME": "/root",
    "USER": "root",
    "LOGNAME": "root",
    "SHELL": "/bin/bash",
    "LANG": "C.UTF-8",
}


# Shells of accounts nobody may log in to, and what each prints when `su` runs a command with it.
NO_LOGIN_SHELLS = {"nologin": "This account is currently not available.\n", "false": ""}


class RequestError(Exception):
    """A request the instance refuses; answered as ``{"error": message}``."""

    def __init__(self, message: str, kind: str = "invalid") -> None:
        super().__init__(message)
        self.kind = kind


class _Output:
    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self._chunks = bytearray()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        while chunk := self._stream.read1(1 << 16):
            self._chunks += chunk
            if len(self._chunks) > OUTPUT_LIMIT:
                del self._chunks[: len(self._chunks) - OUTPUT_LIMIT]

    def text(self) -> str:
        return self._chunks.decode(errors="replace")


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    for sig, wait in ((signal.SIGTERM, KILL_GRACE_SECONDS), (signal.SIGKILL, None)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue


def _account(user: str) -> pwd.struct_passwd | None:
    try:
        return pwd.getpwnam(user)
    except KeyError:
        return None


def _login(account: pwd.struct_passwd) -> dict[str, str]:
    """What ``su USER -c`` (the agent's runas) sets: the rest of the environment is kept."""
    return {
        "HOME": account.pw_dir,
        "SHELL": account.pw_shell or "/bin/sh",
        "USER": account.pw_name,
        "LOGNAME": account.pw_name,
    }


def run(
    argv: list[str], env: Mapping[str, str], cwd: str, timeout: float, user: str = "root"
) -> dict[str, Any]:
    """Run ``argv`` as ``user`` of the instance's /etc/passwd, with its uid, gid and groups."""
    if not argv:
        raise RequestError("argv must name a command")
    if not Path(cwd).is_dir():
        raise RequestError(f"cwd {cwd} is not a directory in the instance")
    account = _account(user)
    if account is None:
        # util-linux su's words, which the agent's `su USER -c` prints for an unknown user.
        message = f"su: user {user} does not exist or the user entry does not contain all the "
        return {"exit_code": 1, "output": message + "required fields\n", "timed_out": False}
    refusal = NO_LOGIN_SHELLS.get(Path(account.pw_shell).name)
    if refusal is not None:
        # `su USER -c` runs the command through USER's shell, which refuses (a service user
        # made with `useradd -s /sbin/nologin`, say).
        return {"exit_code": 1, "output": refusal, "timed_out": False}
    try:
        process = subprocess.Popen(
            argv,
            cwd=cwd,
            env={**BASE_ENVIRONMENT, **env, **_login(account)},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            user=account.pw_uid,
            group=account.pw_gid,
            extra_groups=os.getgrouplist(account.pw_name, account.pw_gid),
        )
    except OSError as error:
        # What a shell would say and answer for a command it cannot start.
        code = 127 if isinstance(error, FileNotFoundError) else 126
        return {"exit_code": code, "output": f"{argv[0]}: {error.strerror}\n", "timed_out": False}
    output = _Output(process.stdout)
    deadline = time.monotonic() + timeout
    timed_out = False
    try:
        process.wait(timeout)
        output.thread.join(max(0.0, deadline - time.monotonic()))
        timed_out = output.thread.is_alive()
    except subprocess.TimeoutExpired:
        timed_out = True
    if timed_out:
        _kill_group(process)
        output.thread.join(1.0)
    assert process.stdout is not None
    process.stdout.close()
    return {
        "exit_code": None if timed_out else process.returncode,
        "output": output.text(),
        "timed_out": timed_out,
    }


def write_file(path: str, data: bytes, mode: int) -> None:
    target = Path(path)
    target.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
    target.write_bytes(data)
    target.chmod(mode)


def read_file(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except FileNotFoundError as error:
        raise RequestError(f"{path}: no such file in the instance", "not_found") from error


def _absolute(request: Mapping[str, Any], key: str) -> str:
    value = request.get(key)
    if not isinstance(value, str) or not value.startswith("/"):
        raise RequestError(f"{key} must be an absolute path, not {value!r}")
    return value


def handle(request: Mapping[str, Any], metadata_updates: socket.socket) -> dict[str, Any]:
    operation = request.get("op")
    if operation == "update_metadata":
        with _updates_lock:
            metadata_updates.sendall(json.dumps(request["spec"]).encode() + b"\n")
        return {}
    if operation == "run":
        return run(
            [str(part) for part in request["argv"]],
            {str(k): str(v) for k, v in request["env"].items()},
            _absolute(request, "cwd"),
            float(request["timeout"]),
            str(request.get("user", "root")),
        )
    if operation == "write_file":
        path = _absolute(request, "path")
        write_file(path, base64.b64decode(request["data"]), int(request["mode"]))
        return {}
    if operation == "read_file":
        return {"data": base64.b64encode(read_file(_absolute(request, "path"))).decode()}
    raise RequestError(f"unknown operation {operation!r}")


def _connection(connection: socket.socket, metadata_updates: socket.socket) -> None:
    with connection:
        try:
            request = wire.receive(connection)
            answer = handle(request, metadata_updates)
        except RequestError as error:
            answer = {"error": str(error), "kind": error.kind}
        except (OSError, ValueError, KeyError, TypeError, wire.WireError) as error:
            LOG.warning("control request failed: %s", error)
            answer = {"error": f"{type(error).__name__}: {error}", "kind": "failed"}
        try:
            wire.send(connection, answer)
        except OSError as error:
            LOG.warning("control answer not delivered: %s", error)


def serve(listener: socket.socket, metadata_updates: socket.socket) -> threading.Thread:
    """``metadata_updates``: the channel to the metadata service, for ``update_metadata``."""

    def connection(accepted: socket.socket) -> None:
        _connection(accepted, metadata_updates)

    return threading.Thread(
        target=wire.accept_forever, args=(listener, connection), name="control", daemon=True
    )
