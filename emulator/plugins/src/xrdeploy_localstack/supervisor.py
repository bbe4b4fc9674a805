"""Per-environment supervisor process: the local stand-in for LocalStack's Go init (stdlib only).

Towards LocalStack it speaks the executor protocol:

* it listens on a loopback port (written to ``PORT_FILE`` for the executor) for
  ``POST /invoke`` with ``{"invoke-id", "invoked-function-arn", "payload", "trace-id"}`` and
  answers at once;
* it calls back ``POST <runtime_endpoint>/status/<id>/ready`` (or ``/error`` with the init error)
  when the function's init phase is done, and per invocation
  ``POST <runtime_endpoint>/invocations/<id>/logs`` with ``{"logs": "..."}`` followed by
  ``.../response`` or ``.../error`` with the function's result.

Towards the function it serves the Lambda Runtime API (``/2018-06-01/runtime/...``) on the same
port to :mod:`xrdeploy_localstack.python_runtime`, which it runs as a child process. It applies
the timeout (kill, then a fresh runtime on the next invoke, as Lambda resets a timed-out
sandbox) and the memory size (kill when the resident set exceeds it), and writes the
``START``/``END``/``REPORT`` lines LocalStack's init writes.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import math
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

LOG = logging.getLogger("xrdeploy_localstack.supervisor")

PORT_FILE = "port"
ENVIRONMENT_LOG = "environment.log"
RUNTIME_API_PREFIX = "/2018-06-01/runtime"
# Written by python_runtime after an invocation's output, before it reports the result, so that
# the supervisor knows it has read all of that invocation's output from the pipe.
INVOKE_DONE_MARKER = b"\x1exrdeploy-invoke-done "
OUTPUT_DRAIN_SECONDS = 2.0
MEMORY_POLL_SECONDS = 0.05
PARENT_POLL_SECONDS = 1.0

# No proxy for loopback callbacks, whatever the host environment says.
_HTTP = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclasses.dataclass(frozen=True)
class SupervisorConfig:
    """Everything the executor hands to one supervisor, serialised as JSON."""

    runtime_id: str
    runtime_endpoint: str
    workdir: str
    task_root: str
    python: str
    runtime_script: str
    sys_path: list[str]
    function_env: dict[str, str]
    function_version: str
    timeout_seconds: int
    memory_mb: int

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SupervisorConfig:
        return cls(**data)


@dataclasses.dataclass
class PendingInvoke:
    """One invocation handed to the runtime; resolved by the runtime or by the process dying."""

    request_id: str
    payload: bytes
    function_arn: str
    trace_id: str
    deadline_ms: int
    done: threading.Event = dataclasses.field(default_factory=threading.Event)
    outcome: str = ""  # "response" | "error" | "exit"
    body: bytes = b""


class OutputCollector:
    """Reads the runtime's merged stdout/stderr; keeps what belongs to the current invocation."""

    def __init__(self, stream: Any, mirror: Any) -> None:
        self._stream = stream
        self._mirror = mirror
        self._lock = threading.Lock()
        self._buffer: list[str] = []
        self._markers: set[str] = set()
        self._marker_seen = threading.Condition(self._lock)
        self._thread = threading.Thread(target=self._read, name="runtime-output", daemon=True)
        self._thread.start()

    def write(self, text: str) -> None:
        with self._lock:
            self._append(text)

    def _append(self, text: str) -> None:
        self._buffer.append(text)
        self._mirror.write(text)
        self._mirror.flush()

    def _read(self) -> None:
        held_blank = False  # the marker is preceded by a newline of its own; drop that blank line
        for line in iter(self._stream.readline, b""):
            with self._lock:
                if line.startswith(INVOKE_DONE_MARKER):
                    held_blank = False
                    self._markers.add(line[len(INVOKE_DONE_MARKER) :].strip().decode())
                    self._marker_seen.notify_all()
                    continue
                if held_blank:
                    self._append("\n")
                    held_blank = False
                if line == b"\n":
                    held_blank = True
                    continue
                self._append(line.decode("utf-8", errors="replace"))
        with self._lock:
            self._marker_seen.notify_all()

    def wait_for_marker(self, request_id: str, timeout: float) -> None:
        """Block until the runtime marked the end of ``request_id``'s output or the pipe closed."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while request_id not in self._markers and self._thread.is_alive():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    LOG.warning(
                        "no end-of-output marker for %s; logs may be incomplete", request_id
                    )
                    return
                self._marker_seen.wait(remaining)
            self._markers.discard(request_id)

    def wait_closed(self, timeout: float) -> None:
        self._thread.join(timeout)

    def take(self) -> str:
        with self._lock:
            text = "".join(self._buffer)
            self._buffer.clear()
            return text


class RuntimeProcess:
    """One run of the Python runtime: its process, output, memory watch and Runtime API queue."""

    process: subprocess.Popen[bytes]
    output: OutputCollector

    def __init__(self, settings: SupervisorConfig, runtime_api: str) -> None:
        self._settings = settings
        self._runtime_api = runtime_api
        self.memory_limit_kb = settings.memory_mb * 1024
        self.invocations: queue.Queue[PendingInvoke | None] = queue.Queue()
        self.initialized = threading.Event()  # first GET /next, init error, or exit
        self.init_error: bytes | None = None
        self.current: PendingInvoke | None = None
        self.peak_rss_kb = 0
        self.out_of_memory = False
        self.exit_code: int | None = None

    def start(self, mirror: Any) -> None:
        """Spawn the runtime; its output goes to this invocation's collector and to ``mirror``."""
        settings = self._settings
        env = dict(settings.function_env)
        env["AWS_LAMBDA_RUNTIME_API"] = self._runtime_api
        env["_XRDEPLOY_SYS_PATH"] = os.pathsep.join(settings.sys_path)
        self.process = subprocess.Popen(
            # -I -S: no site-packages and no PYTHON* variables; the runtime puts exactly the task
            # root and the Lambda-provided packages on sys.path. -u keeps output ordered.
            [settings.python, "-I", "-S", "-u", "-X", "utf8", settings.runtime_script],
            cwd=settings.task_root,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            process_group=0,  # so a timeout kill also reaches processes the function started
        )
        self.output = OutputCollector(self.process.stdout, mirror)
        threading.Thread(target=self._watch_memory, name="memory-watch", daemon=True).start()
        threading.Thread(target=self._watch_exit, name="exit-watch", daemon=True).start()

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def peak_memory_kb(self) -> int:
        """Peak resident set (VmHWM) so far; the last polled value once the process is gone."""
        self._poll_memory()
        return self.peak_rss_kb

    def _poll_memory(self) -> int | None:
        """Update the peak from /proc and return the current resident set, None if unreadable."""
        try:
            status = Path(f"/proc/{self.process.pid}/status").read_text()
            fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
            rss_kb = int(fields["VmRSS"].split()[0])
            self.peak_rss_kb = max(self.peak_rss_kb, int(fields["VmHWM"].split()[0]))
        except (OSError, KeyError, ValueError):
            return None  # process gone (or a zombie without memory fields)
        return rss_kb

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def _watch_memory(self) -> None:
        while self.process.poll() is None:
            rss_kb = self._poll_memory()
            if rss_kb is None:
                return
            if rss_kb > self.memory_limit_kb:
                self.out_of_memory = True
                LOG.warning(
                    "runtime uses %d kB > %d kB memory size; killing", rss_kb, self.memory_limit_kb
                )
                self.kill()
                return
            time.sleep(MEMORY_POLL_SECONDS)

    def _watch_exit(self) -> None:
        self.exit_code = self.process.wait()
        self.initialized.set()
        self.invocations.put(None)  # release a GET /next still waiting on this runtime
        current = self.current
        if current is not None and not current.done.is_set():
            current.outcome = "exit"
            current.done.set()


class Supervisor:
    """Owns the runtime process and turns LocalStack invokes into Runtime API invocations."""

    def __init__(self, settings: SupervisorConfig) -> None:
        self.settings = settings
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.runtime: RuntimeProcess | None = None
        self._invoke_lock = threading.Lock()

    # -- LocalStack side -----------------------------------------------------------------------

    def serve(self) -> None:
        port_file = Path(self.settings.workdir) / PORT_FILE
        port_file.with_suffix(".tmp").write_text(str(self.port))
        port_file.with_suffix(".tmp").replace(port_file)
        threading.Thread(target=self.server.serve_forever, name="http", daemon=True).start()
        init_error = self._start_runtime()
        if init_error is None:
            self._post(f"/status/{self.settings.runtime_id}/ready", b"")
        else:
            self._post(f"/status/{self.settings.runtime_id}/error", init_error)

    def _start_runtime(self) -> bytes | None:
        """Start the runtime and wait for its init phase; return the init error payload, if any."""
        runtime = RuntimeProcess(self.settings, f"127.0.0.1:{self.port}")
        self.runtime = runtime  # before the process exists: its first GET /next looks it up
        runtime.start(sys.stdout)
        runtime.initialized.wait()
        if runtime.init_error is not None:
            runtime.kill()
            return runtime.init_error
        if not runtime.alive:
            runtime.output.wait_closed(OUTPUT_DRAIN_SECONDS)
            return _error_payload(
                "Runtime.ExitError",
                f"Runtime exited during init with status {runtime.exit_code}: "
                f"{runtime.output.take().strip()[-1000:]}",
            )
        return None

    def handle_invoke(self, request: dict[str, str]) -> None:
        """Run one invocation and report it; a bug here must not leave LocalStack waiting."""
        try:
            self._invoke(request)
        except Exception as e:  # reported to LocalStack as the invocation's error
            LOG.exception("invocation %s failed in the supervisor", request.get("invoke-id"))
            self._post(
                f"/invocations/{request.get('invoke-id')}/error",
                _error_payload("Runtime.Unknown", f"local-process supervisor error: {e}"),
            )

    def _invoke(self, request: dict[str, str]) -> None:
        with self._invoke_lock:
            request_id = request["invoke-id"]
            runtime = self.runtime
            if runtime is None or not runtime.alive:
                init_error = self._start_runtime()
                runtime = self.runtime
                assert runtime is not None
                if init_error is not None:
                    runtime.output.wait_closed(OUTPUT_DRAIN_SECONDS)
                    self._finish(request_id, runtime, time.monotonic(), "error", init_error)
                    return
            started = time.monotonic()
            runtime.output.write(
                f"START RequestId: {request_id} Version: {self.settings.function_version}\n"
            )
            pending = PendingInvoke(
                request_id=request_id,
                payload=request.get("payload", "").encode(),
                function_arn=request.get("invoked-function-arn", ""),
                trace_id=request.get("trace-id", ""),
                deadline_ms=int(time.time() * 1000) + self.settings.timeout_seconds * 1000,
            )
            runtime.current = pending
            runtime.invocations.put(pending)
            if not runtime.alive and not pending.done.is_set():
                pending.outcome = "exit"  # died between the liveness check and the hand-over
                pending.done.set()
            if pending.done.wait(self.settings.timeout_seconds):
                outcome, body = self._result_of(pending, runtime)
            else:
                runtime.kill()
                runtime.output.wait_closed(OUTPUT_DRAIN_SECONDS)
                timestamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
                message = (
                    f"{timestamp} {request_id} Task timed out after "
                    f"{self.settings.timeout_seconds}.00 seconds"
                )
                runtime.output.write(message + "\n")
                outcome, body = "error", json.dumps({"errorMessage": message}).encode()
            runtime.current = None
            self._finish(request_id, runtime, started, outcome, body)

    def _result_of(self, pending: PendingInvoke, runtime: RuntimeProcess) -> tuple[str, bytes]:
        if pending.outcome != "exit":
            runtime.output.wait_for_marker(pending.request_id, OUTPUT_DRAIN_SECONDS)
            return pending.outcome, pending.body
        runtime.output.wait_closed(OUTPUT_DRAIN_SECONDS)
        if runtime.out_of_memory:
            error_type, reason = "Runtime.OutOfMemory", "signal: killed"
        elif runtime.exit_code is not None and runtime.exit_code < 0:
            # Worded like Go's os/exec ("signal: segmentation fault"), as Lambda reports it.
            signal_name = signal.strsignal(-runtime.exit_code) or str(-runtime.exit_code)
            error_type, reason = "Runtime.ExitError", f"signal: {signal_name.lower()}"
        else:
            error_type, reason = "Runtime.ExitError", f"exit status {runtime.exit_code}"
        message = f"RequestId: {pending.request_id} Error: Runtime exited with error: {reason}"
        runtime.output.write(message + "\n")
        return "error", _error_payload(error_type, message)

    def _finish(
        self, request_id: str, runtime: RuntimeProcess, started: float, outcome: str, body: bytes
    ) -> None:
        duration_ms = min((time.monotonic() - started) * 1000, self.settings.timeout_seconds * 1000)
        used_mb = max(1, math.ceil(runtime.peak_memory_kb() / 1024))
        runtime.output.write(
            f"END RequestId: {request_id}\n"
            f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\t"
            f"Billed Duration: {math.ceil(duration_ms)} ms\t"
            f"Memory Size: {self.settings.memory_mb} MB\tMax Memory Used: {used_mb} MB\t\n"
        )
        logs = json.dumps({"logs": runtime.output.take()}).encode()
        try:
            self._post(f"/invocations/{request_id}/logs", logs)
            self._post(f"/invocations/{request_id}/{outcome}", body)
        except OSError as e:  # LocalStack stopped the environment meanwhile; nobody waits
            LOG.warning("could not report invocation %s to LocalStack: %s", request_id, e)

    def _post(self, path: str, body: bytes) -> None:
        request = urllib.request.Request(
            self.settings.runtime_endpoint + path,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        with _HTTP.open(request, timeout=30) as response:
            response.read()

    # -- function side (Lambda Runtime API) --------------------------------------------------------

    def next_invocation(self) -> PendingInvoke | None:
        runtime = self.runtime
        if runtime is None:
            return None
        runtime.initialized.set()
        return runtime.invocations.get()

    def complete(self, request_id: str, outcome: str, body: bytes) -> bool:
        runtime = self.runtime
        pending = runtime.current if runtime is not None else None
        if pending is None or pending.request_id != request_id or pending.done.is_set():
            return False
        pending.outcome, pending.body = outcome, body
        pending.done.set()
        return True

    def init_failed(self, body: bytes) -> None:
        runtime = self.runtime
        if runtime is not None:
            runtime.init_error = body
            runtime.initialized.set()

    def shutdown(self) -> None:
        runtime = self.runtime
        if runtime is not None and runtime.alive:
            runtime.kill()


def _error_payload(error_type: str, message: str) -> bytes:
    return json.dumps({"errorType": error_type, "errorMessage": message}).encode()


def _handler_for(supervisor: Supervisor) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            LOG.debug("%s " + format, self.address_string(), *args)

        def _body(self) -> bytes:
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def _reply(
            self, status: HTTPStatus, body: bytes = b"", headers: dict[str, str] | None = None
        ) -> None:
            self.send_response(status)
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            body = self._body()
            parts = self.path.removeprefix(RUNTIME_API_PREFIX).strip("/").split("/")
            if self.path == "/invoke":
                request = json.loads(body)
                threading.Thread(
                    target=supervisor.handle_invoke, args=(request,), name="invoke", daemon=True
                ).start()
                self._reply(HTTPStatus.OK, b"OK")
            elif parts == ["init", "error"]:
                supervisor.init_failed(body)
                self._reply(HTTPStatus.ACCEPTED, b'{"status":"OK"}')
            elif len(parts) == 3 and parts[0] == "invocation" and parts[2] in ("response", "error"):
                if supervisor.complete(parts[1], parts[2], body):
                    self._reply(HTTPStatus.ACCEPTED, b'{"status":"OK"}')
                else:
                    self._reply(HTTPStatus.BAD_REQUEST, b'{"errorType":"InvalidRequestID"}')
            else:
                self._reply(HTTPStatus.NOT_FOUND)

        def do_GET(self) -> None:
            if self.path != f"{RUNTIME_API_PREFIX}/invocation/next":
                self._reply(HTTPStatus.NOT_FOUND)
                return
            pending = supervisor.next_invocation()
            if pending is None:
                self._reply(HTTPStatus.GONE)  # the runtime is being replaced; it will exit
                return
            self._reply(
                HTTPStatus.OK,
                pending.payload,
                {
                    "Content-Type": "application/json",
                    "Lambda-Runtime-Aws-Request-Id": pending.request_id,
                    "Lambda-Runtime-Deadline-Ms": str(pending.deadline_ms),
                    "Lambda-Runtime-Invoked-Function-Arn": pending.function_arn,
                    "Lambda-Runtime-Trace-Id": pending.trace_id,
                },
            )

    return Handler


def _exit_when_orphaned(supervisor: Supervisor) -> None:
    """Stop when LocalStack is gone (e.g. killed with SIGKILL) instead of lingering."""
    parent = os.getppid()
    while os.getppid() == parent:
        time.sleep(PARENT_POLL_SECONDS)
    supervisor.shutdown()
    os._exit(1)


def main(argv: list[str]) -> None:
    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stdout,
        format="%(asctime)s %(levelname)s [supervisor] %(message)s",
    )
    settings = SupervisorConfig.from_json(json.loads(Path(argv[1]).read_text()))
    supervisor = Supervisor(settings)

    def on_term(signum: int, frame: Any) -> None:
        supervisor.shutdown()
        os._exit(0)

    signal.signal(signal.SIGTERM, on_term)
    threading.Thread(target=_exit_when_orphaned, args=(supervisor,), daemon=True).start()
    supervisor.serve()
    threading.Event().wait()  # serve until SIGTERM


if __name__ == "__main__":
    main(sys.argv)
