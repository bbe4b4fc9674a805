"""Promote the pipeline's input artifact into the next stage's source bucket: the orchestration.

Open both ends (s3_access.py) and learn the build's commit where it has one (commit_carry.py);
a job without a continuation token first aborts the multipart uploads an interrupted invocation
may have left on the destination key (multipart_upload.py).
Then an artifact of up to one part is written whole (whole_object.py), a larger one in two
passes (passes.py), either resumed from a token where an earlier invocation paused. Every
checksum is checked in verification.py; AWS errors become job failures in aws_errors.py.

The promotion runs under a deadline guard (deadline.py): it offers the guard a resume point at every
part boundary, commits to one before each write that makes an object visible, and stops (Stop) when
the guard's time has come.
"""

from __future__ import annotations

import continuation
import multipart_upload
import outcomes
from clients import ClientFactory
from commit_carry import with_commit
from continuation import Progress
from deadline import Guard
from errors import FailureType, PromotionFailure
from handles import Source, Target
from invocation import Invocation
from job import Job, PromotionParams
from logs import JobLog
from outcomes import Outcome, Paused
from parts import part_size_for
from passes import cannot_pause, copy_pass, expected_checksum, hash_pass
from resumable_sha256 import CheckpointUnavailable
from s3_access import check_bucket, open_source, open_target
from verification import already_promoted
from whole_object import promote_whole


def promote(job: Job, clients: ClientFactory, *, guard: Guard[Paused], log: JobLog) -> Outcome:
    """Promote job's input artifact; raises PromotionFailure for every expected failure, and
    deadline.Stop when the guard's time has come (the guard then holds the job's result)."""
    run = Invocation(guard=guard, log=log)
    target = open_target(job, clients, run)
    check_bucket(target, run)
    source = open_source(job, clients, run)
    params = with_commit(job.params, clients, run)
    if job.continuation_token is None:
        multipart_upload.abort_stale(target, run)
        progress = _fresh(source, target)
    else:
        progress = _resumed(job.continuation_token, source, target, run)
    if source.size <= progress.part_size:
        # One part. Of resumed jobs, only one whose PutObject the deadline guard cut off has such a
        # token: the whole-object path checks whether that write landed before writing again.
        return promote_whole(params, source, target, run)
    return _promote_in_parts(params, source, target, progress, run)


def _fresh(source: Source, target: Target) -> Progress:
    return Progress(
        phase="hash",
        key=target.destination.key,
        etag=source.etag,
        part_size=part_size_for(source.size),
        offset=0,
        full_state=None,
        parts_state=None,
        sha256=None,
        parts_digest=None,
        upload_id=None,
    )


def _resumed(token: str, source: Source, target: Target, run: Invocation) -> Progress:
    """The token's progress, if it still fits; otherwise its upload is aborted."""
    progress = continuation.decode(token)
    try:
        check_resumable(progress, source, target)
    except PromotionFailure:
        multipart_upload.abort(target, progress.upload_id, run.log)
        raise
    return progress


def check_resumable(progress: Progress, source: Source, target: Target) -> None:
    """A token continues only the same key and the same artifact (its ETag)."""
    if progress.key != target.destination.key:
        raise PromotionFailure(
            FailureType.CONFIGURATION_ERROR,
            f"continuation token is for key {progress.key!r} but "
            f"UserParameters.destination.key is {target.destination.key!r}: retry the stage",
        )
    if progress.etag != source.etag:
        raise PromotionFailure(
            FailureType.JOB_FAILED,
            f"input artifact {source.uri} changed since this promotion started "
            f"(ETag {progress.etag} is now {source.etag}): retry the stage",
        )


def _promote_in_parts(
    params: PromotionParams, source: Source, target: Target, progress: Progress, run: Invocation
) -> Outcome:
    if progress.phase == "hash":
        try:
            progress = hash_pass(source, target, progress, run)
        except CheckpointUnavailable as error:
            raise cannot_pause(source, error) from error
        if progress.phase == "hash":
            return outcomes.paused(source, target, progress, run)
        run.guard.offer(outcomes.paused(source, target, progress, run))
        assert progress.sha256 is not None  # the hash pass is over
        checksum = expected_checksum(progress, source)
        existing = already_promoted(
            target, progress.sha256, params.source_version_id, checksum, run
        )
        if existing is not None:
            return outcomes.skipped(
                target, params.source_version_id, progress.sha256, existing, run
            )
    return copy_pass(params, source, target, progress, run)
