"""The Node process that evaluates IAM requests with ``@cloud-copilot/iam-simulate``.

``emulator/iam_evaluator/server.mjs`` reads one JSON simulation per line on stdin and answers one
line per request on stdout, in order. One process serves the whole LocalStack process; it is
started on the first evaluation and restarted if it died. Requests are serialised by a lock: an
evaluation takes about a millisecond (``stats`` measures it), far less than the request it guards.

Where the evaluator lives comes from LocalStack's environment: ``XRDEPLOY_IAM_EVALUATOR`` is the
``emulator/iam_evaluator`` directory (with ``node_modules`` installed by ``npm ci``),
``XRDEPLOY_IAM_NODE`` the ``node`` binary (default: ``node`` on ``PATH``).
"""

from __future__ import annotations

import itertools
import json
import logging
import shutil
import subprocess
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

LOG = logging.getLogger(__name__)

EVALUATOR_DIR_ENV = "XRDEPLOY_IAM_EVALUATOR"
NODE_ENV = "XRDEPLOY_IAM_NODE"
SERVER_SCRIPT = "server.mjs"


class EvaluatorUnavailable(RuntimeError):
    """The Node evaluator cannot be started or stopped answering; the message says why."""


def evaluator_command(environ: Mapping[str, str]) -> list[str]:
    """``[node, server.mjs]`` from LocalStack's environment; a one-line error if incomplete."""
    directory = environ.get(EVALUATOR_DIR_ENV, "").strip()
    if not directory:
        raise EvaluatorUnavailable(
            f"{EVALUATOR_DIR_ENV} is not set; point it at emulator/iam_evaluator"
        )
    script = Path(directory) / SERVER_SCRIPT
    if not script.is_file():
        raise EvaluatorUnavailable(f"{script} does not exist ({EVALUATOR_DIR_ENV}={directory})")
    if not (Path(directory) / "node_modules" / "@cloud-copilot" / "iam-simulate").is_dir():
        raise EvaluatorUnavailable(f"run `npm ci` in {directory}: its node_modules are missing")
    node = environ.get(NODE_ENV, "").strip() or shutil.which("node", path=environ.get("PATH"))
    if not node:
        raise EvaluatorUnavailable(f"no node binary: set {NODE_ENV} or put node on PATH")
    return [node, str(script)]


class Evaluator:
    """A client of one long-running evaluator process; thread-safe."""

    def __init__(self, command: list[str]) -> None:
        self._command = command
        self._lock = threading.Lock()
        self._process: subprocess.Popen[str] | None = None
        self._ids = itertools.count(1)
        self._count = 0
        self._total_seconds = 0.0
        self._max_seconds = 0.0

    def start(self) -> None:
        """Start the process now, so that a broken install fails LocalStack's start."""
        with self._lock:
            self._running()

    def evaluate(self, simulation: dict[str, Any]) -> dict[str, Any]:
        """iam-simulate's answer for one simulation (see ``server.mjs`` for its fields)."""
        with self._lock:
            started = time.perf_counter()
            process = self._running()
            request_id = next(self._ids)
            line = json.dumps({"id": request_id, "simulation": simulation}, default=str)
            try:
                stdin, stdout = _pipes(process)
                stdin.write(line + "\n")
                stdin.flush()
                answer_line = stdout.readline()
            except OSError as e:
                self._discard()
                raise EvaluatorUnavailable(f"IAM evaluator pipe failed: {e}") from e
            if not answer_line:
                self._discard()
                raise EvaluatorUnavailable("IAM evaluator exited; see LocalStack's log")
            answer: dict[str, Any] = json.loads(answer_line)
            if answer.get("id") != request_id:
                self._discard()
                raise EvaluatorUnavailable(f"IAM evaluator answered out of order: {answer!r}")
            elapsed = time.perf_counter() - started
            self._count += 1
            self._total_seconds += elapsed
            self._max_seconds = max(self._max_seconds, elapsed)
            return answer

    def stats(self) -> dict[str, float | int]:
        """How many evaluations ran and how long they took (round trip through the pipe)."""
        with self._lock:
            mean = self._total_seconds / self._count if self._count else 0.0
            return {
                "evaluations": self._count,
                "mean_ms": round(mean * 1000, 3),
                "max_ms": round(self._max_seconds * 1000, 3),
            }

    def close(self) -> None:
        with self._lock:
            self._discard()

    def _running(self) -> subprocess.Popen[str]:
        if self._process is not None and self._process.poll() is None:
            return self._process
        self._discard()
        LOG.info("starting IAM evaluator: %s", " ".join(self._command))
        try:
            self._process = subprocess.Popen(
                self._command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=None,  # into LocalStack's log
                text=True,
                bufsize=1,
                cwd=Path(self._command[-1]).parent,
            )
        except OSError as e:
            raise EvaluatorUnavailable(f"cannot start the IAM evaluator: {e}") from e
        return self._process

    def _discard(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.stdin is not None:
            process.stdin.close()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


def _pipes(process: subprocess.Popen[str]) -> tuple[IO[str], IO[str]]:
    assert process.stdin is not None and process.stdout is not None
    return process.stdin, process.stdout
