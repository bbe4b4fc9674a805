"""The integration tests' one way to wait: poll a probe until it answers, or fail naming what never
happened; and the negative, a probe that must stay false for a bounded time. Where AWS offers a
waiter (CodeDeploy's `deployment_successful`), the tests use it instead; executions, approvals,
rollbacks and log delivery have none."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")
TIMEOUT = 300.0
# Twice a second: what the tests wait for takes seconds (a deployment's events, a pipeline's
# stages), and each probe is requests the local cloud answers on the same two cores as the
# work being waited for (at 4 a second, the workers' own CPU in probes was 22 s of a CI run,
# py-spy, before the local cloud's in answering them).
INTERVAL = 0.5
# boto3 waiters poll every 15 s by default; the local cloud answers in well under a second.
WAITER_CONFIG = {"Delay": 1, "MaxAttempts": int(TIMEOUT)}


def wait_until(
    probe: Callable[[], T | None],
    what: str = "the condition",
    timeout: float = TIMEOUT,
    interval: float = INTERVAL,
) -> T:
    """The first truthy answer of `probe`; fails after `timeout` seconds naming `what`."""
    deadline = time.monotonic() + timeout
    while not (answer := probe()):
        assert time.monotonic() < deadline, f"timed out after {timeout:.0f} s: {what}"
        time.sleep(interval)
    return answer


def stays_false(
    probe: Callable[[], Any], what: str, seconds: float, interval: float = INTERVAL
) -> None:
    """`probe` answers falsy throughout `seconds`: for something that must not happen, checked
    for as long as it would take to happen if it were going to."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert not probe(), f"happened: {what}"
        time.sleep(interval)
    assert not probe(), f"happened: {what}"
