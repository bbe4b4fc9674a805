"""A Lambda runtime's memory is watched while it initialises or runs an invocation, and not while
it waits for the next one (AWS freezes the environment then; a warm environment polled all its
life cost 1.5% of a core)."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from xrdeploy_local_cloud.lambda_runtime.runtime_process import (
    MEMORY_POLL_SECONDS,
    PendingInvoke,
    RuntimeProcess,
)
from xrdeploy_local_cloud.lambda_runtime.supervisor_config import SupervisorConfig

QUIET = 6 * MEMORY_POLL_SECONDS  # long enough for several polls, were any made


class CountedPolls:
    def __init__(self) -> None:
        self.count = 0
        self._lock = threading.Lock()

    def add(self) -> None:
        with self._lock:
            self.count += 1

    def during(self, seconds: float) -> int:
        before = self.count
        time.sleep(seconds)
        return self.count - before


@pytest.fixture
def polls(monkeypatch: pytest.MonkeyPatch) -> CountedPolls:
    counted = CountedPolls()
    poll = RuntimeProcess._poll_memory

    def counting(self: RuntimeProcess) -> int | None:
        counted.add()
        return poll(self)

    monkeypatch.setattr(RuntimeProcess, "_poll_memory", counting)
    return counted


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[RuntimeProcess]:
    """A runtime process that only sleeps (the watch needs a live process, not a Runtime API)."""
    script = tmp_path / "runtime.py"
    script.write_text("import time\ntime.sleep(60)\n")
    settings = SupervisorConfig(
        runtime_id="r",
        runtime_endpoint="http://127.0.0.1:9",
        workdir=str(tmp_path),
        task_root=str(tmp_path),
        python=sys.executable,
        runtime_script=str(script),
        sys_path=[],
        function_env={},
        function_version="$LATEST",
        timeout_seconds=3,
        memory_mb=128,
    )
    process = RuntimeProcess(settings, "127.0.0.1:9")
    process.start(None)
    yield process
    process.kill()


def _pending() -> PendingInvoke:
    return PendingInvoke("id-1", b"{}", "arn:aws:lambda:us-east-1:1:function:f", "", 0)


def test_memory_is_polled_during_init_and_invocations_only(
    runtime: RuntimeProcess, polls: CountedPolls
) -> None:
    assert polls.during(QUIET) >= 2  # init: from start until the first GET /next
    runtime.settle()
    time.sleep(MEMORY_POLL_SECONDS)  # a poll already under way may finish
    assert polls.during(QUIET) == 0
    pending = _pending()
    runtime.hand_over(pending)
    assert runtime.current is pending and runtime.invocations.get_nowait() is pending
    assert polls.during(QUIET) >= 2
    runtime.settle()
    time.sleep(MEMORY_POLL_SECONDS)
    assert runtime.current is None and polls.during(QUIET) == 0
    # the peak is still measured on demand (the REPORT line's Max Memory Used)
    assert runtime.peak_memory_kb() > 0


def test_the_watch_ends_when_the_process_exits_while_idle(
    runtime: RuntimeProcess, polls: CountedPolls
) -> None:
    runtime.settle()
    runtime.kill()
    deadline = time.monotonic() + 5
    while _watching() and time.monotonic() < deadline:
        time.sleep(MEMORY_POLL_SECONDS)
    assert not _watching()


def _watching() -> bool:
    return any(t.name == "memory-watch" and t.is_alive() for t in threading.enumerate())
