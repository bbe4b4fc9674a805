"""The two passes over a large artifact, one part in memory at a time.

1. hash: SHA-256 of the whole object (the xrdeploy-sha256 metadata, which S3 needs when the
   upload is created) and a running SHA-256 over the part digests;
2. copy: each part read again and uploaded with its own SHA-256, which S3 checks on receipt;
   before CompleteMultipartUpload the digest over this pass's part digests must equal the hash
   pass's (verification.py), so nothing is visible until the uploaded bytes are proven.

Either pass can stop at a part boundary with a resume point (continuation.Progress); each offers
the deadline guard one before every part, and the copy pass commits to one before completing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial

import multipart_upload
import object_metadata
import outcomes
from aws_errors import UploadGone
from continuation import Progress
from deadline import Stop
from errors import FailureType, PromotionFailure
from handles import Source, Target
from invocation import Invocation
from job import PromotionParams
from outcomes import Outcome
from parts import part_count, part_length, part_number
from resumable_sha256 import CheckpointUnavailable, Sha256, new_sha256
from s3_access import read_range
from verification import (
    already_promoted,
    b64,
    check_parts_digest,
    composite_checksum,
    verify_stored,
)


def hash_pass(source: Source, target: Target, progress: Progress, run: Invocation) -> Progress:
    """Hash from progress.offset on; returns paused hash progress or fresh copy progress."""
    full = new_sha256(progress.full_state)
    parts = new_sha256(progress.parts_state)
    offset = progress.offset
    while offset < source.size:
        here = partial(_hash_point, progress, offset, full, parts)
        _offer(source, target, here, run)
        if not run.may_start_part():
            return here()
        data = read_range(source, offset, part_length(offset, source.size, progress.part_size), run)
        full.update(data)
        parts.update(hashlib.sha256(data).digest())
        offset += len(data)
        run.parts_done += 1
    run.log.info("source hashed", extra={"fields": {"phase": "hash", "bytes": source.size}})
    return replace(
        progress,
        phase="copy",
        offset=0,
        full_state=None,
        parts_state=None,
        sha256=full.digest().hex(),
        parts_digest=b64(parts.digest()),
    )


def _hash_point(progress: Progress, offset: int, full: Sha256, parts: Sha256) -> Progress:
    """Where the hash pass stands before the part at offset."""
    return replace(
        progress, offset=offset, full_state=full.checkpoint(), parts_state=parts.checkpoint()
    )


@dataclass
class _Upload:
    """The multipart upload the copy pass writes; None until it is created."""

    id: str | None


def copy_pass(
    params: PromotionParams, source: Source, target: Target, progress: Progress, run: Invocation
) -> Outcome:
    """Upload from progress.offset on, then complete and verify; or pause at a part boundary."""
    sha256 = _known(progress.sha256)
    upload = _Upload(progress.upload_id)
    try:
        point = _copy_parts(params, source, target, progress, upload, run)
        if point.offset < source.size:
            return outcomes.paused(source, target, point, run)
        run.guard.commit(outcomes.paused(source, target, point, run))
        version_id = multipart_upload.complete(
            target, _known(upload.id), part_count(source.size, progress.part_size), run
        )
    except Stop:
        if not run.keeps(upload.id):
            multipart_upload.abort(target, upload.id, run.log)
        raise
    except CheckpointUnavailable as error:
        multipart_upload.abort(target, upload.id, run.log)
        raise cannot_pause(source, error) from error
    except UploadGone:
        # Completed meanwhile by an earlier invocation's request that landed after its deadline
        # guard had reported: if that is this revision, the promotion is done.
        existing = already_promoted(
            target, sha256, params.source_version_id, expected_checksum(progress, source), run
        )
        if existing is None:
            raise
        return outcomes.skipped(target, params.source_version_id, sha256, existing, run)
    except Exception:
        multipart_upload.abort(target, upload.id, run.log)
        raise
    verify_stored(target, version_id, expected_checksum(progress, source), sha256, source.size, run)
    return outcomes.written(source, target, sha256, version_id, run)


def _copy_parts(
    params: PromotionParams,
    source: Source,
    target: Target,
    progress: Progress,
    upload: _Upload,
    run: Invocation,
) -> Progress:
    """Upload parts until the end (returns the completion point, digests checked) or a pause."""
    parts = new_sha256(progress.parts_state)
    offset = progress.offset
    # A token standing at the end comes only from the commit before completing: its digests
    # matched already.
    verified = offset >= source.size
    total = part_count(source.size, progress.part_size)
    while offset < source.size:
        here = partial(_copy_point, progress, offset, parts, upload)
        _offer(source, target, here, run)
        if not run.may_start_part():
            return here()
        if upload.id is None:
            metadata = object_metadata.metadata(params, _known(progress.sha256))
            upload.id = multipart_upload.create(source, target, metadata, run)
            _offer(source, target, here, run)
        data = read_range(source, offset, part_length(offset, source.size, progress.part_size), run)
        digest = hashlib.sha256(data).digest()
        parts.update(digest)
        number = part_number(offset, progress.part_size)
        run.guard.doing(f"uploading part {number} of {total} to {target.uri}")
        multipart_upload.upload_part(target, _known(upload.id), number, data, digest)
        run.bytes_written += len(data)
        offset += len(data)
        run.parts_done += 1
    if not verified:
        check_parts_digest(parts.digest(), _known(progress.parts_digest), source, target)
    return replace(progress, offset=source.size, parts_state=None, upload_id=upload.id)


def _copy_point(progress: Progress, offset: int, parts: Sha256, upload: _Upload) -> Progress:
    """Where the copy pass stands before the part at offset (parts: digests hashed so far)."""
    parts_state = parts.checkpoint() if offset > 0 else None
    return replace(progress, offset=offset, parts_state=parts_state, upload_id=upload.id)


def _offer(source: Source, target: Target, here: Callable[[], Progress], run: Invocation) -> None:
    """Offer the guard this resume point; without a saveable hash there is none to offer."""
    try:
        progress = here()
    except CheckpointUnavailable:
        run.guard.offer(None)
        return
    run.guard.offer(outcomes.paused(source, target, progress, run))


def expected_checksum(progress: Progress, source: Source) -> str:
    """S3's composite checksum of the object the copy pass uploads."""
    return composite_checksum(_known(progress.parts_digest), source.size, progress.part_size)


def cannot_pause(source: Source, error: CheckpointUnavailable) -> PromotionFailure:
    return PromotionFailure(
        FailureType.JOB_FAILED,
        f"cannot pause the promotion of {source.uri} ({outcomes.describe_size(source.size)}): "
        f"{error}; raise the function's timeout so the copy fits in one invocation",
    )


def _known(value: str | None) -> str:
    """A value the copy phase always has (continuation.decode checks copy tokens for it)."""
    assert value is not None
    return value
