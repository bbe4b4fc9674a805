"""The continuation token handed to CodePipeline between invocations (pure, no AWS)."""

from __future__ import annotations

import json

import continuation
import pytest
import resumable_sha256
from continuation import Progress
from errors import FailureType, PromotionFailure
from job import parse_job
from parts import MIN_PART_SIZE

from .world import KEY, load_event


def state() -> str:
    running = resumable_sha256.new_sha256()
    running.update(b"x" * 100)
    return running.checkpoint()


def largest_progress() -> Progress:
    return Progress(
        phase="copy",
        key="k" * 1024,  # S3's longest key
        etag='"' + "f" * 32 + '-10000"',
        part_size=536_870_912,
        offset=5 * 1024**4,
        full_state=None,
        parts_state=state(),
        sha256="a" * 64,
        parts_digest="b" * 44,
        upload_id="u" * 256,  # S3 upload ids are far shorter
    )


def test_a_token_round_trips() -> None:
    # GIVEN hash-phase progress
    progress = Progress(
        phase="hash",
        key="sample_app.zip",
        etag='"abc"',
        part_size=8 * 1024 * 1024,
        offset=16 * 1024 * 1024,
        full_state=state(),
        parts_state=state(),
        sha256=None,
        parts_digest=None,
        upload_id=None,
    )

    # WHEN it is encoded and decoded
    decoded = continuation.decode(continuation.encode(progress))

    # THEN nothing is lost
    assert decoded == progress


def test_the_worst_case_token_fits_codepipelines_limit() -> None:
    # GIVEN progress with the longest key and upload id S3 allows
    # WHEN it is encoded
    token = continuation.encode(largest_progress())

    # THEN it stays under CodePipeline's 2048 characters
    assert len(token) <= continuation.MAX_TOKEN_LENGTH


@pytest.mark.parametrize(
    "token",
    [
        "not json",
        json.dumps({"v": 99, "phase": "copy"}),
        json.dumps({"v": 1, "phase": "hash", "key": "k", "etag": "e", "part_size": 1, "offset": 0}),
        json.dumps(
            {
                "v": 1,
                "phase": "copy",
                "key": "k",
                "etag": "e",
                "part_size": 1,
                "offset": 0,
                "sha256": "a",
                "parts_digest": "b",
                "parts_state": "AAAA",
            }
        ),
    ],
    ids=["not-json", "unknown-version", "hash-without-state", "tampered-state"],
)
def test_an_unreadable_token_fails_the_job(token: str) -> None:
    # GIVEN / WHEN a token that this function did not write
    with pytest.raises(PromotionFailure) as raised:
        continuation.decode(token)

    # THEN the job fails with advice to start afresh
    assert raised.value.failure_type is FailureType.JOB_FAILED
    assert "continuation token" in raised.value.message


def test_the_recorded_continuation_event_carries_a_copy_phase_token() -> None:
    # GIVEN the recorded event of a continued job
    # WHEN it is parsed
    job = parse_job(load_event("codepipeline_promote_job_continued.json"))

    # THEN its token is a copy-phase token for the same key
    assert job.continuation_token is not None
    progress = continuation.decode(job.continuation_token)
    assert (progress.phase, progress.key, progress.offset) == ("copy", KEY, MIN_PART_SIZE)
