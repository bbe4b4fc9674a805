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
port to :mod:`.python_runtime`, which it runs as a child process. It applies
the timeout (kill, then a fresh runtime on the next invoke, as Lambda resets a timed-out
sandbox) and the memory size (kill when the resident set exceeds it), and writes the
``START``/``END``/``REPORT`` lines LocalStack's init writes.

Its parts: :mod:`.supervisor_config` (what the executor hands over),
:mod:`.supervisor_http` (the port), :mod:`.runtime_process`
(the runtime's process, memory watch and queue) and :mod:`.runtime_output`
(its output, split per invocation).
"""

from __future__ import annotations

import json
import logging
import math
import os
import signal
import sys
import threading
import time
import urllib.request
from datetime import UTC, datetime
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

from xrdeploy_local_cloud.lambda_runtime.runtime_process import PendingInvoke, RuntimeProcess
from xrdeploy_local_cloud.lambda_runtime.supervisor_config import PORT_FILE, SupervisorConfig
from xrdeploy_local_cloud.lambda_runtime.supervisor_http import handler_for

LOG = logging.getLogger("xrdeploy_local_cloud.lambda_runtime.supervisor")

OUTPUT_DRAIN_SECONDS = 2.0
PARENT_POLL_SECONDS = 1.0

# No proxy for loopback callbacks, whatever the host environment says.
_HTTP = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class Supervisor:
    """Owns the runtime process and turns LocalStack invokes into Runtime API invocations."""

    def __init__(self, settings: SupervisorConfig) -> None:
        self.settings = settings
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(self))
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
        runtime.settle()
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
            runtime.hand_over(pending)
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
            runtime.settle()
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
