"""The supervisor's one HTTP port: ``POST /invoke`` from LocalStack's executor endpoint, and the
Lambda Runtime API (``/2018-06-01/runtime/...``) for the Python runtime (stdlib only)."""

from __future__ import annotations

import json
import logging
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import Any, ClassVar, Protocol

from xrdeploy_local_cloud.lambda_runtime.runtime_process import PendingInvoke

LOG = logging.getLogger("xrdeploy_local_cloud.lambda_runtime.supervisor")

RUNTIME_API_PREFIX = "/2018-06-01/runtime"


class InvocationBroker(Protocol):
    """What the handler needs of the supervisor."""

    def handle_invoke(self, request: dict[str, str]) -> None: ...
    def next_invocation(self) -> PendingInvoke | None: ...
    def complete(self, request_id: str, outcome: str, body: bytes) -> bool: ...
    def init_failed(self, body: bytes) -> None: ...


def handler_for(broker: InvocationBroker) -> type[BaseHTTPRequestHandler]:
    return type("BoundSupervisorHandler", (SupervisorHandler,), {"broker": broker})


class SupervisorHandler(BaseHTTPRequestHandler):
    broker: ClassVar[InvocationBroker]

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
                target=self.broker.handle_invoke, args=(request,), name="invoke", daemon=True
            ).start()
            self._reply(HTTPStatus.OK, b"OK")
        elif parts == ["init", "error"]:
            self.broker.init_failed(body)
            self._reply(HTTPStatus.ACCEPTED, b'{"status":"OK"}')
        elif len(parts) == 3 and parts[0] == "invocation" and parts[2] in ("response", "error"):
            if self.broker.complete(parts[1], parts[2], body):
                self._reply(HTTPStatus.ACCEPTED, b'{"status":"OK"}')
            else:
                self._reply(HTTPStatus.BAD_REQUEST, b'{"errorType":"InvalidRequestID"}')
        else:
            self._reply(HTTPStatus.NOT_FOUND)

    def do_GET(self) -> None:
        if self.path != f"{RUNTIME_API_PREFIX}/invocation/next":
            self._reply(HTTPStatus.NOT_FOUND)
            return
        pending = self.broker.next_invocation()
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
