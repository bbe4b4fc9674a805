"""When an invocation may start another part or request (pure, no AWS: a fake clock)."""

from __future__ import annotations

import logging

import pytest
from deadline import Guard, Stop
from invocation import SAFETY_MARGIN_S, Invocation
from logs import JobLog
from outcomes import Paused

LOG = JobLog(logging.getLogger("xrdeploy.test-invocation"), job_id="test-job")


class Clock:
    def __init__(self, left_s: float) -> None:
        self.left_s = left_s

    def __call__(self) -> float:
        return self.left_s


def invocation(clock: Clock) -> Invocation:
    return Invocation(guard=Guard[Paused](clock), log=LOG)


def paused(upload_id: str | None) -> Paused:
    return Paused("token", "summary", 50, 0, 0, upload_id=upload_id)


def test_a_part_starts_only_with_the_margin_left_but_the_first_always_does() -> None:
    # GIVEN less than the margin left
    clock = Clock(SAFETY_MARGIN_S - 1)
    run = invocation(clock)

    # WHEN / THEN the first part still starts (every invocation moves forward), later ones do not
    assert run.may_start_part()
    run.parts_done = 1
    assert not run.may_start_part()
    clock.left_s = SAFETY_MARGIN_S
    assert run.may_start_part()


def test_past_the_guards_time_only_upload_aborts_go_out() -> None:
    # GIVEN the deadline guard's time has come
    run = invocation(Clock(5.0))

    # WHEN / THEN aborting an upload passes, any other request or part is stopped
    run.before_attempt("AbortMultipartUpload")
    for operation in ("PutObject", "DeleteObject"):
        with pytest.raises(Stop):
            run.before_attempt(operation)
    with pytest.raises(Stop):
        run.may_start_part()


@pytest.mark.parametrize(
    ("offered", "upload_id", "kept"),
    [("u1", "u1", True), ("u1", "u2", False), (None, "u1", False)],
    ids=["token-resumes-it", "token-resumes-another", "token-without-upload"],
)
def test_after_stop_an_upload_is_kept_only_if_the_token_resumes_it(
    offered: str | None, upload_id: str, kept: bool
) -> None:
    # GIVEN the guard's verdict is a token for upload `offered`
    run = invocation(Clock(5.0))
    run.guard.offer(paused(offered))

    # WHEN / THEN the upload being written stays only if that token resumes it
    assert run.keeps(upload_id) is kept


def test_after_a_failure_verdict_no_upload_is_kept() -> None:
    # GIVEN no resume point: the guard's verdict is a failure
    run = invocation(Clock(5.0))

    # WHEN / THEN the upload must go
    assert run.keeps("u1") is False
