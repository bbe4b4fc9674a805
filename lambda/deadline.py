"""The deadline guard: a job result before Lambda's timeout, whatever the promotion is stuck in.

One S3 call can hang past the function's timeout (botocore's read timeout bounds a silence, not a
response that trickles in). Lambda then ends the invocation without a job result, and CodePipeline
waits for its own action timeout. So `run` does the promotion in a worker thread while the
handler's thread watches the clock. When no more than GUARD_S is left and the work has not
finished, the guard decides the job's result, once, under a lock (so the worker finishing at the
same moment cannot make it two):

- the promotion's latest resume point (offered at each part boundary, and before any write that
  can make an object visible) -> that outcome: success with a continuation token;
- none -> JobFailed "ran out of time after N s while <doing>; ...".

Once decided, the worker cannot start another AWS request (`check`, also run before each attempt)
nor begin a write that makes an object visible (`commit`). A write that had already begun cannot be
recalled, so `commit` first makes its resume point the verdict-to-be: the guard then reports
success with a token and the next invocation finds out whether the write landed; it never reports
a failure that a late object could contradict.

Pure apart from the thread: the clock is whatever `time_left` it is given.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from errors import FailureType, PromotionFailure
from logs import JobLog

# Reporting is one PutJob*Result call of well under a second; ten seconds leaves room for its
# retries. Below this no new AWS request is started for the promotion.
GUARD_S = 10.0
# The watcher re-reads the clock at least this often, so it keeps to any clock it is given.
POLL_S = 0.25
THREAD_NAME = "xrdeploy-promotion"

T = TypeVar("T")  # the resumable outcome (outcomes.Paused)
R = TypeVar("R")  # the work's outcome


class Stop(Exception):
    """Raised inside the work: the guard has decided the job's result, or is about to."""


class Guard(Generic[T]):
    """What the worker is doing and where it could resume; decides once if time runs out."""

    def __init__(self, time_left: Callable[[], float], *, guard_s: float = GUARD_S) -> None:
        self.time_left = time_left
        self.guard_s = guard_s
        self._budget = time_left()
        self._lock = threading.Lock()
        self._doing = "starting"
        self._resume: T | None = None
        self._committed = False
        self._verdict: T | PromotionFailure | None = None
        self._settled = False

    # --- the worker's side -----------------------------------------------------------------------

    def doing(self, what: str) -> None:
        """What the work is doing, for the out-of-time message ("reading s3://...")."""
        with self._lock:
            self._doing = what

    def offer(self, resume: T | None) -> None:
        """The outcome to report if time runs out from now on; None means a failure."""
        with self._lock:
            if not self._committed:  # see commit: its resume point is never taken back
                self._resume = resume

    def commit(self, resume: T) -> None:
        """Call just before a request that can make an object visible; raises Stop if decided.

        From here on, running out of time reports `resume`, whether or not the write lands.
        """
        with self._lock:
            if self._verdict is not None:
                raise Stop("the job result was already reported")
            self._resume = resume
            self._committed = True

    def check(self) -> None:
        """Raises Stop once the guard has decided, or when its time has come."""
        with self._lock:
            decided = self._verdict is not None
        if decided or self.out_of_time():
            raise Stop("out of time")

    # --- deciding --------------------------------------------------------------------------------

    def out_of_time(self) -> bool:
        return self.time_left() <= self.guard_s

    def expire(self) -> T | PromotionFailure | None:
        """Decide the job's result now (the same answer on every call); None if the work had
        already finished, so its own outcome stands."""
        with self._lock:
            if self._verdict is None and not self._settled:
                self._verdict = self._resume if self._resume is not None else self._failure()
            return self._verdict

    def settle(self) -> bool:
        """The work has finished: True if its outcome is the job's result (nothing decided yet)."""
        with self._lock:
            if self._verdict is None:
                self._settled = True
            return self._settled

    @property
    def verdict(self) -> T | PromotionFailure | None:
        with self._lock:
            return self._verdict

    def _failure(self) -> PromotionFailure:
        elapsed = max(0.0, self._budget - self.time_left())
        return PromotionFailure(
            FailureType.JOB_FAILED,
            f"ran out of time after {elapsed:.0f} s while {self._doing}; nothing was promoted: "
            "raise the function's timeout or retry the stage",
        )


def run(work: Callable[[], R], guard: Guard[T], *, log: JobLog) -> R | T:
    """work() in a worker thread: its outcome, or the guard's if time runs out first.

    Raises what work raised, or the guard's PromotionFailure. Only the caller reports, so one call
    gives one job result; a worker left running is stopped by `check` and `commit`, and what it
    does after the verdict is logged, never reported.
    """
    finished = threading.Event()
    outcomes: list[R] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            outcomes.append(work())
        except Stop:
            guard.expire()  # the work cannot go on: the guard's answer is the job's result
        except BaseException as error:  # handed to the caller's thread, which reports it
            errors.append(error)
        finally:
            if not guard.settle() and (outcomes or errors):
                log.warning(
                    "promotion ended after its job result was reported",
                    extra={"fields": {"late_outcome": repr((outcomes or errors)[0])}},
                )
            finished.set()

    threading.Thread(target=worker, name=THREAD_NAME, daemon=True).start()
    while not finished.wait(timeout=min(POLL_S, max(0.0, guard.time_left() - guard.guard_s))):
        if guard.out_of_time():
            if guard.expire() is None:  # the work settled just now: wait for its outcome
                finished.wait()
            break
    verdict = guard.verdict
    if isinstance(verdict, PromotionFailure):
        raise verdict
    if verdict is not None:
        return verdict
    if errors:
        raise errors[0]
    return outcomes[0]
