"""Minimal Python runtime interface client, run by the supervisor for each runtime (stdlib only).

Started as ``python -I -S -u -X utf8 python_runtime.py`` in the function's code directory, with
the function's environment. It does what AWS's ``awslambdaric`` does, reduced to what our
functions use: put the code and the Lambda-provided packages on ``sys.path``, import the
``_HANDLER``, then loop over ``GET /runtime/invocation/next`` and post each result to
``/response`` or ``/error`` in the same JSON shapes. Logging gets the Lambda text format with the
request id; ``print`` goes to the function's log as in Lambda.

This file is run as a script, not imported from the package, so the function cannot import
anything of ours.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import sys
import threading
import time
import traceback
import urllib.error
import urllib.request
from typing import Any

# Must equal runtime_output.INVOKE_DONE_MARKER (this script cannot import the package).
INVOKE_DONE_MARKER = b"\x1exrdeploy-invoke-done "
PARENT_POLL_SECONDS = 1.0

_HTTP = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class HandlerLoadError(Exception):
    """The handler could not be loaded; carries the Lambda ``errorType``."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type


class LambdaContext:
    """The ``context`` argument, with the attributes of the AWS Python runtime's context."""

    def __init__(self, request_id: str, deadline_ms: int, invoked_function_arn: str) -> None:
        self.aws_request_id = request_id
        self.invoked_function_arn = invoked_function_arn
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        # A string, as in the AWS runtime.
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.identity = None
        self.client_context = None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        return max(self._deadline_ms - int(time.time() * 1000), 0)


class _RequestIdFilter(logging.Filter):
    request_id = ""

    def filter(self, record: logging.LogRecord) -> bool:
        record.aws_request_id = self.request_id
        return True


_REQUEST_ID = _RequestIdFilter()


def _install_log_handler() -> None:
    """Give the root logger the handler and format the AWS Python runtime installs."""
    formatter = logging.Formatter(
        "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s",
        "%Y-%m-%dT%H:%M:%S",
    )
    formatter.converter = time.gmtime
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(formatter)
    handler.addFilter(_REQUEST_ID)
    root = logging.getLogger()
    root.addHandler(handler)
    level = os.environ.get("AWS_LAMBDA_LOG_LEVEL")
    if level:
        root.setLevel(level.upper())


def _load_handler(spec: str) -> Any:
    module_path, _, function_name = spec.rpartition(".")
    if not module_path or not function_name:
        raise HandlerLoadError(
            "Runtime.MalformedHandlerName",
            f"Bad handler '{spec}': not enough values to unpack (expected 2, got 1)",
        )
    module_name = module_path.replace("/", ".")
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        raise HandlerLoadError(
            "Runtime.ImportModuleError", f"Unable to import module '{module_name}': {e}"
        ) from e
    except SyntaxError as e:
        raise HandlerLoadError(
            "Runtime.UserCodeSyntaxError", f"Syntax error in module '{module_name}': {e}"
        ) from e
    handler = getattr(module, function_name, None)
    if handler is None:
        raise HandlerLoadError(
            "Runtime.HandlerNotFound",
            f"Handler '{function_name}' missing on module '{module_name}'",
        )
    return handler


def _error_document(exc: BaseException, error_type: str, request_id: str = "") -> dict[str, Any]:
    # Drop this module's own frames, as awslambdaric does: the trace starts in function code.
    frames = traceback.extract_tb(exc.__traceback__)
    user_frames = [frame for frame in frames if frame.filename != __file__]
    return {
        "errorMessage": str(exc),
        "errorType": error_type,
        "requestId": request_id,
        "stackTrace": traceback.format_list(user_frames),
    }


def _log_error(document: dict[str, Any]) -> None:
    lines = [f"[ERROR] {document['errorType']}: {document['errorMessage']}"]
    if document["stackTrace"]:
        lines.append("Traceback (most recent call last):")
        lines.extend(frame.rstrip("\n") for frame in document["stackTrace"])
    sys.stderr.write("\n".join(lines) + "\n")


def _post(url: str, body: bytes, headers: dict[str, str] | None = None) -> None:
    request = urllib.request.Request(url, data=body, method="POST", headers=headers or {})
    with _HTTP.open(request) as response:
        response.read()


def _exit_when_orphaned() -> None:
    parent = os.getppid()
    while os.getppid() == parent:
        time.sleep(PARENT_POLL_SECONDS)
    os._exit(1)


def _invoke(handler: Any, api: str, request_id: str, body: bytes, headers: Any) -> None:
    _REQUEST_ID.request_id = request_id
    if headers.get("Lambda-Runtime-Trace-Id"):
        os.environ["_X_AMZN_TRACE_ID"] = headers["Lambda-Runtime-Trace-Id"]
    context = LambdaContext(
        request_id,
        int(headers.get("Lambda-Runtime-Deadline-Ms") or 0),
        headers.get("Lambda-Runtime-Invoked-Function-Arn", ""),
    )
    outcome, result, extra = "response", b"", {}
    try:
        event = json.loads(body) if body else {}
        returned = handler(event, context)
    except Exception as exc:  # every exception of function code is its FunctionError
        document = _error_document(exc, type(exc).__name__, request_id)
        _log_error(document)
        outcome, result = "error", json.dumps(document).encode()
        extra = {"Lambda-Runtime-Function-Error-Type": document["errorType"]}
    else:
        try:
            result = json.dumps(returned).encode()
        except (TypeError, ValueError) as exc:
            document = _error_document(exc, "Runtime.MarshalError", request_id)
            document["errorMessage"] = f"Unable to marshal response: {exc}"
            document["stackTrace"] = []
            _log_error(document)
            outcome, result = "error", json.dumps(document).encode()
    sys.stdout.flush()
    sys.stderr.flush()
    os.write(1, b"\n" + INVOKE_DONE_MARKER + request_id.encode() + b"\n")
    _post(
        f"{api}/invocation/{request_id}/{outcome}",
        result,
        {"Content-Type": "application/json", **extra},
    )


def main() -> None:
    sys.path[:0] = os.environ.pop("_XRDEPLOY_SYS_PATH").split(os.pathsep)
    api = f"http://{os.environ['AWS_LAMBDA_RUNTIME_API']}/2018-06-01/runtime"
    threading.Thread(target=_exit_when_orphaned, daemon=True).start()
    _install_log_handler()
    try:
        handler = _load_handler(os.environ.get("_HANDLER", ""))
    except HandlerLoadError as exc:
        document = _error_document(exc, exc.error_type)
        document["stackTrace"] = []
        _log_error(document)
        _post(f"{api}/init/error", json.dumps(document).encode())
        sys.exit(1)
    except Exception as exc:  # an exception at import time is the init error
        document = _error_document(exc, type(exc).__name__)
        _log_error(document)
        _post(f"{api}/init/error", json.dumps(document).encode())
        sys.exit(1)
    while True:
        try:
            with _HTTP.open(f"{api}/invocation/next") as response:
                body = response.read()
                headers = response.headers
        except (urllib.error.URLError, ConnectionError):
            return  # the supervisor replaced or stopped this runtime
        _invoke(handler, api, headers["Lambda-Runtime-Aws-Request-Id"], body, headers)


if __name__ == "__main__":
    main()
