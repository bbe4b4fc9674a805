"""The deadline guard: a hung request still ends in exactly one job result before Lambda's timeout,
and nothing becomes visible after a failure was reported.

First the guard on its own, on a fake clock; then the function end to end on moto, with one S3
request held (Hang) while the clock moves inside the guard's time."""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable, Iterator
from typing import Any

import deadline
import invocation
import parts
import pytest
import resumable_sha256
from botocore.exceptions import ReadTimeoutError
from deadline import Guard, Stop
from errors import FailureType, PromotionFailure
from logs import JobLog

from .world import (
    KEY,
    MIB,
    FakeContext,
    Hang,
    World,
    failed,
    join_workers,
    run,
    success,
)

PART = parts.MIN_PART_SIZE
SMALL = os.urandom(256 * 1024)
LARGE = os.urandom(2 * PART + MIB)  # three parts: 8 MiB, 8 MiB, 1 MiB


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


RECORDS = Records()
_LOGGER = logging.getLogger("xrdeploy.test-deadline")
_LOGGER.addHandler(RECORDS)
_LOGGER.propagate = False
LOG = JobLog(_LOGGER, job_id="test-job")


class Clock:
    def __init__(self, left_s: float = 900.0) -> None:
        self.left_s = left_s

    def __call__(self) -> float:
        return self.left_s


def hangs_after(
    first: Callable[[], None], clock: Clock, released: threading.Event
) -> Callable[[], str]:
    """Work that does `first`, then hangs (the clock inside the guard's time) until released."""

    def work() -> str:
        first()
        clock.left_s = 4.0
        released.wait(timeout=30)
        return "too late"

    return work


# --- the guard on a fake clock -------------------------------------------------------------------


def test_work_that_finishes_in_time_gives_its_own_outcome() -> None:
    # GIVEN ample time
    guard = Guard[str](Clock())

    # WHEN the work finishes
    outcome = deadline.run(lambda: "done", guard, log=LOG)

    # THEN its outcome is the result, and a late expiry changes nothing
    assert outcome == "done"
    assert guard.expire() is None


def test_work_that_fails_in_time_raises_its_own_error() -> None:
    # GIVEN ample time and work that fails
    guard = Guard[str](Clock())

    def fails() -> str:
        raise PromotionFailure(FailureType.PERMISSION_ERROR, "denied")

    # WHEN it runs THEN its failure reaches the caller's thread
    with pytest.raises(PromotionFailure, match="denied"):
        deadline.run(fails, guard, log=LOG)


def test_hung_work_without_a_resume_point_is_a_failure_naming_what_it_was_doing() -> None:
    # GIVEN work that hangs after the clock moved inside the guard's time
    clock = Clock()
    guard = Guard[str](clock)
    released = threading.Event()

    hangs = hangs_after(lambda: guard.doing("reading s3://artifacts/build.zip"), clock, released)

    # WHEN it runs
    with pytest.raises(PromotionFailure) as raised:
        deadline.run(hangs, guard, log=LOG)

    # THEN the guard fails the job, saying for how long and doing what
    assert raised.value.failure_type is FailureType.JOB_FAILED
    assert "after 896 s while reading s3://artifacts/build.zip" in raised.value.message
    # AND the work's late outcome is logged, not made the result
    released.set()
    join_workers()
    assert guard.settle() is False
    assert "promotion ended after its job result was reported" in RECORDS.messages


def test_hung_work_with_a_resume_point_gives_that_point() -> None:
    # GIVEN work that offered a resume point, then hangs inside the guard's time
    clock = Clock()
    guard = Guard[str](clock)
    released = threading.Event()

    hangs = hangs_after(lambda: guard.offer("token at part 2"), clock, released)

    # WHEN it runs THEN the resume point is the result
    assert deadline.run(hangs, guard, log=LOG) == "token at part 2"
    released.set()
    join_workers()


def test_work_that_stops_itself_gets_the_guards_verdict() -> None:
    # GIVEN work that finds the guard's time has come (as the clients' hook does)
    clock = Clock()
    guard = Guard[str](clock)

    def stops() -> str:
        guard.offer("token")
        clock.left_s = 9.0
        guard.check()
        return "unreachable"

    # WHEN it runs THEN the verdict is decided by the worker itself
    assert deadline.run(stops, guard, log=LOG) == "token"


def test_a_commit_pins_its_resume_point_and_is_refused_after_the_verdict() -> None:
    # GIVEN a write that can make an object visible has begun
    clock = Clock()
    guard = Guard[str](clock)
    guard.commit("check what landed")

    # WHEN later code offers no resume point
    guard.offer(None)

    # THEN running out of time still reports the commit's point, never a failure
    assert guard.expire() == "check what landed"
    # AND once decided, no further write may begin, nor any request
    with pytest.raises(Stop):
        guard.commit("another write")
    with pytest.raises(Stop):
        guard.check()


def test_the_verdict_is_decided_once() -> None:
    # GIVEN a guard that decided a failure
    guard = Guard[str](Clock())
    first = guard.expire()

    # WHEN it is asked again, after a resume point was offered, and the work then finishes
    guard.offer("late token")
    second = guard.expire()
    settled = guard.settle()

    # THEN the answer is the same object, and the work's outcome is not the result
    assert isinstance(first, PromotionFailure)
    assert second is first
    assert settled is False


def test_the_numbers_leave_a_stalled_attempt_time_to_fail_before_the_guard() -> None:
    # GIVEN the per-attempt timeouts, the guard's time and the margin for starting a part
    from clients import CONNECT_TIMEOUT_S, READ_TIMEOUT_S

    # THEN a first attempt at a part started at the margin ends before the guard must report
    assert CONNECT_TIMEOUT_S + READ_TIMEOUT_S + deadline.GUARD_S <= invocation.SAFETY_MARGIN_S


# --- end to end: one request held past the guard's time ------------------------------------------


Hold = Callable[..., Hang]


@pytest.fixture
def hold(world: World) -> Iterator[Hold]:
    """hold(operation, ...) installs a Hang on a fresh fake clock (hang.context); all are
    released before moto stops."""
    made: list[Hang] = []

    def make(operation: str, **kwargs: Any) -> Hang:
        hang = Hang(FakeContext(), operation, **kwargs)
        hang.install(world.function_session)
        made.append(hang)
        return hang

    yield make
    for hang in made:
        hang.release()


def test_a_hung_read_of_a_small_artifact_fails_once_and_never_writes(
    world: World, hold: Hold
) -> None:
    # GIVEN a small artifact whose read hangs inside the guard's time, and is then answered
    world.put_artifact(SMALL)
    hang = hold("GetObject", lands=True)

    # WHEN the job runs
    run(world, world.event(), hang.context)

    # THEN one JobFailed says for how long and doing what
    failed(world, "JobFailed", f"after 895 s while reading bytes 0-{len(SMALL) - 1} of")
    # AND when the read is answered after all, the abandoned invocation writes nothing
    hang.release()
    assert len(world.results.calls) == 1
    assert world.versions(world.cross_account_bucket) == []


@pytest.mark.parametrize("lands", [False, True], ids=["lost", "landed"])
def test_a_hung_put_reports_a_token_and_the_next_invocation_settles_it(
    world: World, hold: Hold, lands: bool
) -> None:
    # GIVEN a small artifact whose PutObject hangs inside the guard's time: either it never
    # reached S3, or S3 stored it and the answer is lost
    world.put_artifact(SMALL)
    hang = hold("PutObject", lands=lands)

    # WHEN the job runs
    run(world, world.event(), hang.context)

    # THEN the one result is success with a token: whether the write landed is unknowable, so a
    # failure (which a late object could contradict) is never reported
    params = success(world)
    assert params["executionDetails"]["percentComplete"] == 50
    assert "checking whether the write landed" in params["executionDetails"]["summary"]
    # AND the abandoned invocation stops at its next request: the object is there only if S3
    # had stored it before the guard reported
    hang.release()
    assert len(world.results.calls) == 1
    assert len(world.versions(world.cross_account_bucket)) == (1 if lands else 0)

    # WHEN CodePipeline invokes again with the token
    run(world, world.event(token=params["continuationToken"]))

    # THEN the revision is there exactly once
    name, last = world.results.calls[-1]
    assert name == "PutJobSuccessResult" and "continuationToken" not in last
    [version] = world.versions(world.cross_account_bucket)
    assert last["executionDetails"]["externalExecutionId"] == version["VersionId"]
    assert last["executionDetails"]["summary"].endswith(
        "nothing written" if lands else "in us-east-1"
    )
    assert world.body(world.cross_account_bucket) == SMALL


@pytest.mark.parametrize(
    ("operation", "nth", "summary", "percent"),
    [
        ("GetObject", 2, "hash pass at part 2 of 3", 16),
        ("UploadPart", 2, "copy pass at part 2 of 3", 66),
    ],
    ids=["hash-pass", "copy-pass"],
)
def test_a_hung_multipart_promotion_pauses_and_resumes(
    world: World, hold: Hold, operation: str, nth: int, summary: str, percent: int
) -> None:
    # GIVEN a three-part artifact whose second read (hash pass) or second part upload (copy
    # pass) hangs inside the guard's time, and never reaches S3
    world.put_artifact(LARGE)
    hang = hold(operation, nth=nth, lands=False)

    # WHEN the job runs
    run(world, world.event(), hang.context)

    # THEN the one result is success with a token at the last part boundary
    params = success(world)
    assert params["executionDetails"]["percentComplete"] == percent
    assert summary in params["executionDetails"]["summary"]
    # AND the abandoned invocation stops without writing, keeping the upload the token names
    hang.release()
    assert len(world.results.calls) == 1
    assert world.versions(world.cross_account_bucket) == []
    token = params["continuationToken"]
    assert [u["UploadId"] for u in world.uploads(world.cross_account_bucket)] == (
        [json.loads(token)["upload_id"]] if operation == "UploadPart" else []
    )

    # WHEN CodePipeline invokes again with the token
    run(world, world.event(token=token))

    # THEN the promotion completes into one version, with no upload left
    name, last = world.results.calls[-1]
    assert name == "PutJobSuccessResult" and "continuationToken" not in last
    [version] = world.versions(world.cross_account_bucket)
    assert last["executionDetails"]["externalExecutionId"] == version["VersionId"]
    assert world.body(world.cross_account_bucket) == LARGE
    assert world.uploads(world.cross_account_bucket) == []


def test_a_completion_that_lands_after_the_guard_reported_is_found_on_resume(
    world: World, hold: Hold
) -> None:
    # GIVEN a three-part artifact whose CompleteMultipartUpload S3 carries out, but whose answer
    # hangs inside the guard's time
    world.put_artifact(LARGE)
    hang = hold("CompleteMultipartUpload", lands=True)

    # WHEN the job runs
    run(world, world.event(), hang.context)

    # THEN the one result is success with a token for the completion
    params = success(world)
    assert params["executionDetails"]["summary"].endswith(
        "all parts uploaded, completing, continuing in the next invocation"
    )
    assert params["executionDetails"]["percentComplete"] == 99
    hang.release()
    [version] = world.versions(world.cross_account_bucket)

    # WHEN CodePipeline invokes again: the upload is gone, completed by the abandoned request
    run(world, world.event(token=params["continuationToken"]))

    # THEN the object that landed is recognised (S3's checksum included), not written again
    name, last = world.results.calls[-1]
    assert name == "PutJobSuccessResult"
    assert last["executionDetails"]["externalExecutionId"] == version["VersionId"]
    assert last["executionDetails"]["summary"].endswith("nothing written")
    assert world.versions(world.cross_account_bucket) == [version]
    assert world.uploads(world.cross_account_bucket) == []


def test_without_a_saveable_hash_a_hung_upload_fails_and_its_upload_is_aborted(
    world: World, hold: Hold, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a runtime that cannot save SHA-256 state, so there is no resume point after part 1,
    # and a second part upload that hangs inside the guard's time
    monkeypatch.setattr(resumable_sha256, "_LIBCRYPTO", None)
    world.put_artifact(LARGE)
    hang = hold("UploadPart", nth=2, lands=False)

    # WHEN the job runs
    run(world, world.event(), hang.context)

    # THEN the one result is JobFailed, doing what
    uri = f"s3://{world.cross_account_bucket}/{KEY}"
    failed(world, "JobFailed", f"after 895 s while uploading part 2 of 3 to {uri}")
    # AND the abandoned invocation aborts its upload: nothing is, or will be, visible
    hang.release()
    assert len(world.results.calls) == 1
    assert world.uploads(world.cross_account_bucket) == []
    assert world.versions(world.cross_account_bucket) == []


def test_retries_stop_at_the_guards_time(world: World) -> None:
    # GIVEN a small artifact whose reads all fail as timeouts, each one eating 50 s of 60
    world.put_artifact(SMALL)
    context = FakeContext()
    context.remaining_s = 60.0
    attempts: list[float] = []

    def times_out(event_name: str, **_: Any) -> None:
        if event_name.endswith(".GetObject"):
            attempts.append(context.remaining_s)
            context.remaining_s -= 50.0
            raise ReadTimeoutError(endpoint_url="https://s3.test")

    # On the bare event, so it runs where the network would: after the function's own hook.
    world.function_session.events.register("before-send", times_out)

    # WHEN the job runs, to the end of its worker thread
    run(world, world.event(), context)
    join_workers()

    # THEN one attempt went out, its retry was not started, and the job failed once, in time
    assert attempts == [60.0]
    failed(world, "JobFailed", "after 50 s while reading bytes")
    assert world.versions(world.cross_account_bucket) == []
