"""One run of the Python runtime under the supervisor: its process, its output, the memory size
it is held to, and the queue of invocations it fetches through the Runtime API (stdlib only)."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import queue
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

from xrdeploy_local_cloud.lambda_runtime.runtime_output import OutputCollector
from xrdeploy_local_cloud.lambda_runtime.supervisor_config import SupervisorConfig

LOG = logging.getLogger("xrdeploy_local_cloud.lambda_runtime.supervisor")

# While the runtime initialises or runs an invocation. Between invocations it is not polled: it
# waits on GET /next (AWS freezes the environment then), and reading /proc/<pid>/status 20 times a
# second cost each warm environment 1.5% of a core for as long as it lived.
MEMORY_POLL_SECONDS = 0.05


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
        self._busy = threading.Event()  # initialising or running an invocation: memory is polled

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
        self._busy.set()  # the init phase
        threading.Thread(target=self._watch_memory, name="memory-watch", daemon=True).start()
        threading.Thread(target=self._watch_exit, name="exit-watch", daemon=True).start()

    def hand_over(self, pending: PendingInvoke) -> None:
        """Make ``pending`` the current invocation and queue it for the runtime's GET /next."""
        self.current = pending
        self._busy.set()
        self.invocations.put(pending)

    def settle(self) -> None:
        """Between invocations (and after init): nothing current, memory not polled."""
        self.current = None
        self._busy.clear()

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
        while self._busy.wait() and self.process.poll() is None:
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
        self._busy.set()  # wakes the memory watch, which then sees the process gone
        self.initialized.set()
        self.invocations.put(None)  # release a GET /next still waiting on this runtime
        current = self.current
        if current is not None and not current.done.is_set():
            current.outcome = "exit"
            current.done.set()
