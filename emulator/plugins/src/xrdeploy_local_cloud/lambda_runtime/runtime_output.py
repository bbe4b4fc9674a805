"""The Python runtime's output, split per invocation for its CloudWatch log (stdlib only)."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

LOG = logging.getLogger("xrdeploy_local_cloud.lambda_runtime.supervisor")

# Written by python_runtime after an invocation's output, before it reports the result, so that
# the supervisor knows it has read all of that invocation's output from the pipe.
INVOKE_DONE_MARKER = b"\x1exrdeploy-invoke-done "


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
