"""Copy the pipeline's input artifact to the next stage's source bucket.

Small artifacts (one part) are read once into memory, hashed and written with PutObject.
Larger ones take two passes over the source, one part in memory at a time:

1. hash: SHA-256 of the whole object (the xrdeploy-sha256 metadata, which S3 needs when the
   upload is created) and a running SHA-256 over the part digests;
2. copy: each part read again and uploaded with its own SHA-256, which S3 checks on receipt.

Before CompleteMultipartUpload the second pass's digest over part digests must equal the first's,
so the bytes uploaded are the bytes the metadata describes and nothing is visible until then.
After it, S3's own composite checksum of the stored object is checked again. Every source read is
pinned to the source's ETag with If-Match, so a changed artifact fails the job instead of mixing
two revisions. Either pass can pause at a part boundary and hand CodePipeline a continuation token.

The promotion runs under a deadline guard (deadline.py): it offers the guard a resume point at every
part boundary, commits to one before each write that makes an object visible, and stops (Stop) when
the guard's time has come. A job without a continuation token first aborts the multipart uploads an
interrupted invocation may have left on the destination key.
"""

from __future__ import annotations

import base64
import hashlib
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import partial
from typing import TYPE_CHECKING, Any

import continuation
from botocore.exceptions import (
    ClientError,
    ConnectionError,
    HTTPClientError,
    IncompleteReadError,
)
from checksums import CheckpointUnavailable, Sha256, b64, composite_checksum, new_sha256
from clients import ClientFactory
from continuation import Progress
from deadline import Guard, Stop
from errors import FailureType, PromotionFailure
from job import Destination, Job, PromotionParams, S3Location
from logs import JobLog

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# Stop starting new parts once less than this is left of the invocation: an 8 MiB part takes well
# under a second in-region, and completing, verifying and reporting need a few seconds more. The
# rest is headroom for a slow cross-region upload with retries.
SAFETY_MARGIN_S = 30.0
# Memory holds one part at a time, so this bounds it (at 10,000 parts, S3's limit, artifacts above
# 78 GiB need larger parts). 8 MiB is the AWS CLI's default multipart size.
MIN_PART_SIZE = 8 * 1024 * 1024
MAX_PARTS = 10_000
_MIB = 1024 * 1024
# botocore retries requests, not a body that breaks off half-way through reading it.
_READ_ATTEMPTS = 3
# Clean-up requests still go out after the deadline guard's time has come: leaving an upload or a
# bad version behind is worse than a request Lambda may cut short.
_CLEANUP_OPERATIONS = {"AbortMultipartUpload", "DeleteObject"}
_STREAM_ERRORS = (HTTPClientError, IncompleteReadError)

META_APP = "xrdeploy-app"
META_SOURCE_STAGE = "xrdeploy-source-stage"
META_EXECUTION_ID = "xrdeploy-execution-id"
META_SOURCE_VERSION_ID = "xrdeploy-source-version-id"
META_SHA256 = "xrdeploy-sha256"

_DENIED = {
    "AccessDenied",
    "AccessDeniedException",
    "AllAccessDisabled",
    "ExpiredToken",
    "InvalidAccessKeyId",
    "InvalidToken",
    "KMS.AccessDeniedException",
    "SignatureDoesNotMatch",
}
_NOT_FOUND = {"NoSuchKey", "NotFound"}
_KMS_UNUSABLE = {
    "KMS.DisabledException",
    "KMS.InvalidStateException",
    "KMS.KMSInvalidStateException",
    "KMS.NotFoundException",
}
_TRANSIENT = {
    "InternalError",
    "RequestLimitExceeded",
    "RequestTimeout",
    "ServiceUnavailable",
    "SlowDown",
    "Throttling",
    "ThrottlingException",
    "500",
    "503",
}


@dataclass(frozen=True)
class Completed:
    summary: str
    version_id: str | None
    skipped: bool
    bytes_read: int
    bytes_written: int


@dataclass(frozen=True)
class Paused:
    token: str
    summary: str
    percent: int
    bytes_read: int
    bytes_written: int
    upload_id: str | None = None  # the multipart upload the token resumes, which must be kept


Outcome = Completed | Paused


def part_size_for(size: int) -> int:
    """MIN_PART_SIZE, or whole MiBs large enough to stay within S3's 10,000 parts."""
    return max(MIN_PART_SIZE, math.ceil(size / MAX_PARTS / _MIB) * _MIB)


def promote(job: Job, clients: ClientFactory, *, guard: Guard[Paused], log: JobLog) -> Outcome:
    """Promote job's input artifact; raises PromotionFailure for every expected failure, and
    Stop when the guard's time has come (the guard then holds the job's result)."""
    run = _Run(guard=guard, log=log)
    target = _open_target(job, clients, run)
    _check_bucket(target, run)
    source = _open_source(job, clients, run)
    if job.continuation_token is None:
        _abort_stale_uploads(target, run)
        part_size = part_size_for(source.size)
        if source.size <= part_size:
            return _promote_whole(job.params, source, target, run)
        progress = Progress(
            phase="hash",
            key=target.destination.key,
            etag=source.etag,
            part_size=part_size,
            offset=0,
            full_state=None,
            parts_state=None,
            sha256=None,
            parts_digest=None,
            upload_id=None,
        )
    else:
        progress = continuation.decode(job.continuation_token)
        try:
            _check_resumable(progress, source, target)
        except PromotionFailure:
            _abort(target, progress.upload_id, run.log)
            raise
        if source.size <= progress.part_size:
            # Only a PutObject cut off by the deadline guard leaves a token for a single part:
            # the whole-object path checks whether that write landed before writing again.
            return _promote_whole(job.params, source, target, run)
    return _promote_in_parts(job.params, source, target, progress, run)


@dataclass
class _Run:
    """One invocation's deadline guard, log and counters."""

    guard: Guard[Paused]
    log: JobLog
    parts_done: int = 0
    bytes_read: int = 0
    bytes_written: int = 0

    def may_start_part(self) -> bool:
        self.guard.check()
        # The first part is never refused: every invocation must move forward, or a function
        # timeout shorter than the margin would loop through continuations forever.
        return self.parts_done == 0 or self.guard.time_left() >= SAFETY_MARGIN_S

    def before_attempt(self, operation: str) -> None:
        """Run by the clients before every attempt of every request."""
        if operation not in _CLEANUP_OPERATIONS:
            self.guard.check()

    def keeps(self, upload_id: str | None) -> bool:
        """After Stop: whether the guard's result is a token resuming upload_id, so it must stay."""
        verdict = self.guard.expire()
        return (
            isinstance(verdict, Paused)
            and upload_id is not None
            and (verdict.upload_id == upload_id)
        )


@dataclass(frozen=True)
class _Source:
    client: S3Client
    location: S3Location
    etag: str
    size: int
    content_type: str | None
    kms_key_id: str | None


@dataclass(frozen=True)
class _Target:
    client: S3Client
    destination: Destination
    writer: str  # who writes, for error messages

    @property
    def uri(self) -> str:
        return self.destination.location.uri

    @property
    def owner(self) -> dict[str, Any]:
        # S3 refuses with 403 if someone else owns a bucket of that name.
        return {"ExpectedBucketOwner": self.destination.account_id}


# --- opening both ends ---------------------------------------------------------------------------


def _open_target(job: Job, clients: ClientFactory, run: _Run) -> _Target:
    destination = job.params.destination
    if destination.role_arn is None:
        return _Target(
            clients.s3(
                region=destination.region, credentials=None, before_attempt=run.before_attempt
            ),
            destination,
            writer="this function's execution role",
        )
    run.guard.doing(f"assuming {destination.role_arn}")
    try:
        credentials = clients.assume_role(
            destination.role_arn,
            session_name=f"xrdeploy-{job.id}"[:64],
            before_attempt=run.before_attempt,
        )
    except ClientError as error:
        code = _code(error)
        if code in _DENIED:
            raise PromotionFailure(
                FailureType.PERMISSION_ERROR,
                f"cannot assume UserParameters.destination.role_arn {destination.role_arn} "
                f"({code}): its trust policy must allow this function's execution role, and that "
                "role needs sts:AssumeRole on it",
            ) from error
        raise _unexpected(error, f"assuming {destination.role_arn}") from error
    return _Target(
        clients.s3(
            region=destination.region, credentials=credentials, before_attempt=run.before_attempt
        ),
        destination,
        writer=f"role {destination.role_arn}",
    )


def _check_bucket(target: _Target, run: _Run) -> None:
    destination = target.destination
    run.guard.doing(f"looking up bucket {destination.bucket}")
    with _writing(target, "find the bucket of", grant="s3:ListBucket on the bucket"):
        try:
            found = target.client.head_bucket(Bucket=destination.bucket, **target.owner)
        except ClientError as error:
            if _code(error) not in _NOT_FOUND | {"NoSuchBucket"}:
                raise
            raise PromotionFailure(
                FailureType.CONFIGURATION_ERROR,
                f"destination bucket {destination.bucket} does not exist "
                "(UserParameters.destination.bucket): deploy the "
                f"{destination.stage} stage first or fix the name",
            ) from error
    region = found.get("BucketRegion")
    if region and region != destination.region:
        raise PromotionFailure(
            FailureType.CONFIGURATION_ERROR,
            f"destination bucket {destination.bucket} is in {region}, not {destination.region}: "
            "fix UserParameters.destination.region",
        )


def _open_source(job: Job, clients: ClientFactory, run: _Run) -> _Source:
    client = clients.s3(
        region=None, credentials=job.artifact_credentials, before_attempt=run.before_attempt
    )
    run.guard.doing(f"looking up input artifact {job.artifact.uri}")
    with _reading(job.artifact, job.artifact_key_id):
        head = client.head_object(Bucket=job.artifact.bucket, Key=job.artifact.key)
    return _Source(
        client,
        job.artifact,
        etag=head["ETag"],
        size=head["ContentLength"],
        content_type=head.get("ContentType"),
        kms_key_id=job.artifact_key_id,
    )


def _check_resumable(progress: Progress, source: _Source, target: _Target) -> None:
    if progress.key != target.destination.key:
        raise PromotionFailure(
            FailureType.CONFIGURATION_ERROR,
            f"continuation token is for key {progress.key!r} but "
            f"UserParameters.destination.key is {target.destination.key!r}: retry the stage",
        )
    if progress.etag != source.etag:
        raise PromotionFailure(
            FailureType.JOB_FAILED,
            f"input artifact {source.location.uri} changed since this promotion started "
            f"(ETag {progress.etag} is now {source.etag}): retry the stage",
        )


# --- one part ------------------------------------------------------------------------------------


def _promote_whole(
    params: PromotionParams, source: _Source, target: _Target, run: _Run
) -> Completed:
    data = _read(source, 0, source.size, run)
    digest = hashlib.sha256(data).digest()
    sha256 = digest.hex()
    existing = _already_promoted(target, sha256, params.source_version_id, b64(digest), run)
    if existing is not None:
        return _skipped(params, target, sha256, existing, run)
    # If time runs out once the PutObject is on its way, whether it lands is unknowable here: the
    # guard reports a token for this single part, and the next invocation looks before writing.
    unsure = Progress(
        phase="copy",
        key=target.destination.key,
        etag=source.etag,
        part_size=part_size_for(source.size),  # >= size: what marks the token as single-part
        offset=0,
        full_state=None,
        parts_state=None,
        sha256=sha256,
        parts_digest=b64(hashlib.sha256(digest).digest()),  # a copy-phase token carries both
        upload_id=None,
    )
    run.guard.commit(_paused(source, target, unsure, run))
    run.guard.doing(f"writing {target.uri}")
    with _writing(target, "write", grant=_write_grant(target)):
        written = target.client.put_object(
            Bucket=target.destination.bucket,
            Key=target.destination.key,
            Body=data,
            ChecksumAlgorithm="SHA256",
            ChecksumSHA256=b64(digest),
            Metadata=_metadata(params, sha256),
            **_content_type(source),
            **_encryption(target),
            **target.owner,
        )
    run.bytes_written += len(data)
    version_id = written.get("VersionId")
    _verify_stored(target, version_id, b64(digest), sha256, source.size, run)
    return _written(source, target, sha256, version_id, run)


# --- many parts ----------------------------------------------------------------------------------


def _promote_in_parts(
    params: PromotionParams, source: _Source, target: _Target, progress: Progress, run: _Run
) -> Outcome:
    if progress.phase == "hash":
        try:
            progress = _hash_pass(source, target, progress, run)
        except CheckpointUnavailable as error:
            raise _cannot_pause(source, error) from error
        if progress.phase == "hash":
            return _paused(source, target, progress, run)
        run.guard.offer(_paused(source, target, progress, run))
        assert progress.sha256 is not None and progress.parts_digest is not None
        existing = _already_promoted(
            target,
            progress.sha256,
            params.source_version_id,
            _composite(progress.parts_digest, source.size, progress.part_size),
            run,
        )
        if existing is not None:
            return _skipped(params, target, progress.sha256, existing, run)
    return _copy_pass(params, source, target, progress, run)


def _hash_pass(source: _Source, target: _Target, progress: Progress, run: _Run) -> Progress:
    """Hash from progress.offset on; returns paused hash progress or fresh copy progress."""
    full = new_sha256(progress.full_state)
    parts = new_sha256(progress.parts_state)
    offset = progress.offset
    while offset < source.size:
        here = partial(_hash_point, progress, offset, full, parts)
        _offer(source, target, here, run)
        if not run.may_start_part():
            return here()
        data = _read(source, offset, min(progress.part_size, source.size - offset), run)
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


def _copy_pass(
    params: PromotionParams, source: _Source, target: _Target, progress: Progress, run: _Run
) -> Outcome:
    assert progress.sha256 is not None and progress.parts_digest is not None
    upload_id = progress.upload_id
    part_count = math.ceil(source.size / progress.part_size)
    try:
        parts = new_sha256(progress.parts_state)
        offset = progress.offset
        # A token standing at the end comes only from commit below: its digests matched already.
        verified = offset >= source.size
        while offset < source.size:
            here = partial(_copy_point, progress, offset, parts, upload_id)
            _offer(source, target, here, run)
            if not run.may_start_part():
                return _paused(source, target, here(), run)
            if upload_id is None:
                upload_id = _create_upload(params, source, target, progress.sha256, run)
                _offer(
                    source, target, partial(_copy_point, progress, offset, parts, upload_id), run
                )
            data = _read(source, offset, min(progress.part_size, source.size - offset), run)
            digest = hashlib.sha256(data).digest()
            parts.update(digest)
            run.guard.doing(
                f"uploading part {offset // progress.part_size + 1} of {part_count} to {target.uri}"
            )
            _upload_part(target, upload_id, offset // progress.part_size + 1, data, digest)
            run.bytes_written += len(data)
            offset += len(data)
            run.parts_done += 1
        if not verified and b64(parts.digest()) != progress.parts_digest:
            raise PromotionFailure(
                FailureType.JOB_FAILED,
                f"checksum mismatch: the parts uploaded to {target.uri} differ from "
                f"{source.location.uri} as first read; the upload was aborted and nothing was "
                "written: retry the stage",
            )
        assert upload_id is not None  # at least two parts were uploaded
        done = replace(progress, offset=source.size, parts_state=None, upload_id=upload_id)
        run.guard.commit(_paused(source, target, done, run))
        version_id = _complete(target, upload_id, part_count, run)
    except Stop:
        if not run.keeps(upload_id):
            _abort(target, upload_id, run.log)
        raise
    except CheckpointUnavailable as error:
        _abort(target, upload_id, run.log)
        raise _cannot_pause(source, error) from error
    except _UploadGone:
        # Completed meanwhile by an earlier invocation's request that landed after its deadline
        # guard had reported: if that is this revision, the promotion is done.
        existing = _already_promoted(
            target, progress.sha256, params.source_version_id, _expected(progress, source), run
        )
        if existing is None:
            raise
        return _skipped(params, target, progress.sha256, existing, run)
    except Exception:
        _abort(target, upload_id, run.log)
        raise
    _verify_stored(
        target, version_id, _expected(progress, source), progress.sha256, source.size, run
    )
    return _written(source, target, progress.sha256, version_id, run)


def _copy_point(progress: Progress, offset: int, parts: Sha256, upload_id: str | None) -> Progress:
    """Where the copy pass stands before the part at offset (parts: digests hashed so far)."""
    parts_state = parts.checkpoint() if offset > 0 else None
    return replace(progress, offset=offset, parts_state=parts_state, upload_id=upload_id)


def _expected(progress: Progress, source: _Source) -> str:
    assert progress.parts_digest is not None
    return _composite(progress.parts_digest, source.size, progress.part_size)


def _composite(parts_digest: str, size: int, part_size: int) -> str:
    return composite_checksum(base64.b64decode(parts_digest), math.ceil(size / part_size))


def _offer(source: _Source, target: _Target, here: Callable[[], Progress], run: _Run) -> None:
    """Offer the guard this resume point; without a saveable hash there is none to offer."""
    try:
        progress = here()
    except CheckpointUnavailable:
        run.guard.offer(None)
        return
    run.guard.offer(_paused(source, target, progress, run))


def _create_upload(
    params: PromotionParams, source: _Source, target: _Target, sha256: str, run: _Run
) -> str:
    run.guard.doing(f"starting a multipart upload to {target.uri}")
    with _writing(target, "start a multipart upload to", grant=_write_grant(target)):
        created = target.client.create_multipart_upload(
            Bucket=target.destination.bucket,
            Key=target.destination.key,
            ChecksumAlgorithm="SHA256",
            Metadata=_metadata(params, sha256),
            **_content_type(source),
            **_encryption(target),
            **target.owner,
        )
    return created["UploadId"]


def _upload_part(
    target: _Target, upload_id: str, part_number: int, data: bytes, digest: bytes
) -> None:
    with _writing(target, "upload a part to", grant=_write_grant(target)):
        target.client.upload_part(
            Bucket=target.destination.bucket,
            Key=target.destination.key,
            UploadId=upload_id,
            PartNumber=part_number,
            Body=data,
            ChecksumAlgorithm="SHA256",
            ChecksumSHA256=b64(digest),
            **target.owner,
        )


def _complete(target: _Target, upload_id: str, part_count: int, run: _Run) -> str | None:
    destination = target.destination
    parts: list[dict[str, Any]] = []
    run.guard.doing(f"completing the multipart upload to {target.uri}")
    with _writing(target, "list the uploaded parts of", grant="s3:ListMultipartUploadParts"):
        pages = target.client.get_paginator("list_parts").paginate(
            Bucket=destination.bucket, Key=destination.key, UploadId=upload_id, **target.owner
        )
        for page in pages:
            for part in page.get("Parts", []):
                # S3 wants each part's checksum back when the upload was created with one.
                checksum = (
                    {"ChecksumSHA256": part["ChecksumSHA256"]} if "ChecksumSHA256" in part else {}
                )
                parts.append({"PartNumber": part["PartNumber"], "ETag": part["ETag"], **checksum})
    if [part["PartNumber"] for part in parts] != list(range(1, part_count + 1)):
        raise PromotionFailure(
            FailureType.JOB_FAILED,
            f"multipart upload to {target.uri} holds {len(parts)} parts, expected {part_count}: "
            "the upload was aborted, retry the stage",
        )
    with _writing(target, "complete the upload to", grant=_write_grant(target)):
        completed = target.client.complete_multipart_upload(
            Bucket=destination.bucket,
            Key=destination.key,
            UploadId=upload_id,
            MultipartUpload={"Parts": parts},  # type: ignore[typeddict-item]  # dicts built above
            **target.owner,
        )
    return completed.get("VersionId")


def _abort_stale_uploads(target: _Target, run: _Run) -> None:
    """Abort multipart uploads to the destination key that an earlier invocation left behind.

    An invocation that dies mid-copy (killed at its timeout, crashed, or abandoned by the deadline
    guard with no token to hand over) cannot abort its own upload. Run only for a job without a
    continuation token: no earlier invocation of this job has an upload to resume, and, as a
    stage runs one execution at a time, no other job is writing this key. Which uploads are
    ours: those to exactly this key (Prefix also matches longer keys) with SHA-256 checksums, as
    every upload this function starts has. The key is the next stage's source object, written
    only by promotions; S3 shows no metadata of an unfinished upload, and its Initiator is a
    per-job role session (or the function's own role), so neither identifies us better.
    """
    destination = target.destination
    run.guard.doing(f"listing unfinished multipart uploads to {target.uri}")
    try:
        pages = target.client.get_paginator("list_multipart_uploads").paginate(
            Bucket=destination.bucket, Prefix=destination.key, **target.owner
        )
        stale = [
            upload
            for page in pages
            for upload in page.get("Uploads", [])
            if upload.get("Key") == destination.key and upload.get("ChecksumAlgorithm") == "SHA256"
        ]
    except (ClientError, ConnectionError, HTTPClientError) as error:
        # Clean-up only: the promotion goes on, and the lifecycle rule is the backstop.
        run.log.warning(
            f"cannot list unfinished multipart uploads to {target.uri}: grant {target.writer} "
            "s3:ListBucketMultipartUploads on the bucket so interrupted copies are cleaned up",
            extra={"fields": {"error": str(error)}},
        )
        return
    for upload in stale:
        _abort(
            target,
            upload["UploadId"],
            run.log,
            reason="stale multipart upload aborted",
            initiated=str(upload.get("Initiated", "")),
        )


def _abort(
    target: _Target,
    upload_id: str | None,
    log: JobLog,
    *,
    reason: str = "multipart upload aborted",
    **fields: str,
) -> None:
    """Abort so no parts linger; a failure here must not hide the one being reported."""
    if upload_id is None:
        return
    fields = {"upload_id": upload_id, "destination": target.uri, **fields}
    try:
        target.client.abort_multipart_upload(
            Bucket=target.destination.bucket,
            Key=target.destination.key,
            UploadId=upload_id,
            **target.owner,
        )
    except ClientError as error:
        if _code(error) == "NoSuchUpload":
            return
        log.error(
            "could not abort the multipart upload; the bucket's AbortIncompleteMultipartUpload "
            "lifecycle rule must clean it up",
            extra={"fields": {**fields, "error": str(error)}},
        )
    except (ConnectionError, HTTPClientError) as error:
        log.error(
            "could not reach S3 to abort the multipart upload",
            extra={"fields": {**fields, "error": str(error)}},
        )
    else:
        log.info(reason, extra={"fields": fields})


# --- reading, checking, describing ---------------------------------------------------------------


def _read(source: _Source, start: int, length: int, run: _Run) -> bytes:
    if length == 0:
        return b""
    run.guard.doing(f"reading bytes {start}-{start + length - 1} of {source.location.uri}")
    with _reading(source.location, source.kms_key_id):
        for attempt in range(1, _READ_ATTEMPTS + 1):
            response = source.client.get_object(
                Bucket=source.location.bucket,
                Key=source.location.key,
                Range=f"bytes={start}-{start + length - 1}",
                IfMatch=source.etag,
            )
            try:
                data = response["Body"].read()
            except _STREAM_ERRORS:
                if attempt == _READ_ATTEMPTS:
                    raise
                run.log.warning(
                    "source read broke off; reading the part again",
                    extra={"fields": {"offset": start, "attempt": attempt}},
                )
                continue
            break
    if len(data) != length:
        raise PromotionFailure(
            FailureType.JOB_FAILED,
            f"read {len(data)} bytes at offset {start} of {source.location.uri}, expected "
            f"{length}: retry the stage",
        )
    run.bytes_read += length
    return data


def _already_promoted(
    target: _Target, sha256: str, source_version_id: str, checksum: str, run: _Run
) -> str | None:
    """The destination's current version id if it already holds this revision, else None.

    S3's own checksum must match too: a version whose bytes failed _verify_stored but could not
    be deleted carries the right metadata, and must be replaced, not accepted.
    """
    destination = target.destination
    run.guard.doing(f"checking what {target.uri} holds")
    with _writing(target, "read", grant="s3:GetObject and s3:ListBucket"):
        try:
            head = target.client.head_object(
                Bucket=destination.bucket,
                Key=destination.key,
                ChecksumMode="ENABLED",
                **target.owner,
            )
        except ClientError as error:
            if _code(error) in _NOT_FOUND:
                return None
            raise
    metadata = head.get("Metadata", {})
    if (
        metadata.get(META_SHA256) == sha256
        and metadata.get(META_SOURCE_VERSION_ID) == source_version_id
        and _same_checksum(head.get("ChecksumSHA256"), checksum)
    ):
        return head.get("VersionId", "null")
    return None


def _verify_stored(
    target: _Target,
    version_id: str | None,
    expected_checksum: str,
    sha256: str,
    size: int,
    run: _Run,
) -> None:
    """S3's checksum of what it stored must be ours; otherwise that version is deleted again."""
    destination = target.destination
    version: dict[str, Any] = {"VersionId": version_id} if version_id else {}
    run.guard.doing(f"reading back {target.uri} version {version_id}")
    with _writing(target, "read back", grant="s3:GetObject and s3:GetObjectVersion"):
        head = target.client.head_object(
            Bucket=destination.bucket,
            Key=destination.key,
            ChecksumMode="ENABLED",
            **version,
            **target.owner,
        )
    stored = head.get("ChecksumSHA256")
    if (
        _same_checksum(stored, expected_checksum)
        and head.get("Metadata", {}).get(META_SHA256) == sha256
        and head.get("ContentLength") == size
    ):
        return
    where = f"{target.uri} version {version_id}"
    try:
        target.client.delete_object(
            Bucket=destination.bucket, Key=destination.key, **version, **target.owner
        )
        cleanup = "that version was deleted"
    except (ClientError, ConnectionError, HTTPClientError) as error:
        run.log.error("could not delete the bad version", extra={"fields": {"error": str(error)}})
        cleanup = "delete that version by hand (s3:DeleteObjectVersion was refused)"
    raise PromotionFailure(
        FailureType.JOB_FAILED,
        f"checksum mismatch: S3 reports SHA-256 {stored or 'none'} for {where}, expected "
        f"{expected_checksum}; {cleanup}: retry the stage",
    )


def _same_checksum(stored: str | None, expected: str) -> bool:
    """Compare S3 checksums, where a multipart object's carries a '-<part count>' suffix.

    The suffix is compared only when S3 sends one: moto's HeadObject (unlike its GetObject and
    real S3) leaves it off, and the digest before it is what proves the content.
    """
    if stored is None:
        return False
    digest, _, parts = stored.partition("-")
    expected_digest, _, expected_parts = expected.partition("-")
    return digest == expected_digest and (not parts or parts == expected_parts)


def _metadata(params: PromotionParams, sha256: str) -> dict[str, str]:
    return {
        META_APP: params.app,
        META_SOURCE_STAGE: params.source_stage,
        META_EXECUTION_ID: params.execution_id,
        META_SOURCE_VERSION_ID: params.source_version_id,
        META_SHA256: sha256,
    }


def _encryption(target: _Target) -> dict[str, Any]:
    # Without a key of our own the bucket's default encryption applies.
    key_id = target.destination.kms_key_id
    return {} if key_id is None else {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": key_id}


def _content_type(source: _Source) -> dict[str, Any]:
    return {"ContentType": source.content_type} if source.content_type else {}


def _write_grant(target: _Target) -> str:
    key_id = target.destination.kms_key_id
    kms = f" and kms:GenerateDataKey, kms:Decrypt on {key_id}" if key_id else ""
    return f"s3:PutObject on the bucket{kms}"


def _written(
    source: _Source, target: _Target, sha256: str, version_id: str | None, run: _Run
) -> Completed:
    return Completed(
        summary=(
            f"Promoted {source.location.uri} ({_size(source.size)}, sha256 {sha256[:12]}) to "
            f"{target.uri} version {version_id or '(unversioned)'} in {target.destination.region}"
        ),
        version_id=version_id,
        skipped=False,
        bytes_read=run.bytes_read,
        bytes_written=run.bytes_written,
    )


def _skipped(
    params: PromotionParams, target: _Target, sha256: str, version_id: str, run: _Run
) -> Completed:
    return Completed(
        summary=(
            f"{target.uri} already holds source version {params.source_version_id} "
            f"(sha256 {sha256[:12]}) as version {version_id}: nothing written"
        ),
        version_id=version_id,
        skipped=True,
        bytes_read=run.bytes_read,
        bytes_written=0,
    )


def _paused(source: _Source, target: _Target, progress: Progress, run: _Run) -> Paused:
    parts = max(1, math.ceil(source.size / progress.part_size))  # an empty artifact is one
    done = math.ceil(progress.offset / progress.part_size)  # the end may be a short part
    # Each pass reads the whole artifact once: hashing is the first half of the work.
    # min: a promotion that is only completing is still not done.
    percent = min(99, (done + (parts if progress.phase == "copy" else 0)) * 50 // parts)
    if source.size <= progress.part_size:  # the token of a PutObject cut off by the guard
        where = "checking whether the write landed"
    elif progress.offset >= source.size:
        where = "all parts uploaded, completing"
    else:
        where = f"{progress.phase} pass at part {done + 1} of {parts}"
    return Paused(
        token=continuation.encode(progress),
        summary=(
            f"Promoting {source.location.uri} to {target.uri}: {where}, continuing in the next "
            "invocation"
        ),
        percent=percent,
        bytes_read=run.bytes_read,
        bytes_written=run.bytes_written,
        upload_id=progress.upload_id,
    )


def _cannot_pause(source: _Source, error: CheckpointUnavailable) -> PromotionFailure:
    return PromotionFailure(
        FailureType.JOB_FAILED,
        f"cannot pause the promotion of {source.location.uri} ({_size(source.size)}): {error}; "
        "raise the function's timeout so the copy fits in one invocation",
    )


def _size(size: int) -> str:
    return f"{size / _MIB:.1f} MiB" if size >= _MIB else f"{size} bytes"


# --- error translation ---------------------------------------------------------------------------


class _UploadGone(PromotionFailure):
    """The multipart upload being written no longer exists: aborted, expired, or completed."""


# HEAD responses have no body, so botocore can only give the status as the error code.
_HEAD_CODES = {"403": "AccessDenied", "404": "NotFound", "412": "PreconditionFailed"}


def _code(error: ClientError) -> str:
    code = str(error.response.get("Error", {}).get("Code", ""))
    return _HEAD_CODES.get(code, code)


@contextmanager
def _reading(location: S3Location, kms_key_id: str | None) -> Iterator[None]:
    uri = location.uri
    try:
        yield
    except ClientError as error:
        code = _code(error)
        if code in _NOT_FOUND | {"NoSuchBucket"}:
            raise PromotionFailure(
                FailureType.JOB_FAILED,
                f"input artifact {uri} does not exist ({code}): re-run the pipeline from its "
                "source stage (a lifecycle rule may have expired the artifact)",
            ) from error
        if code in _DENIED:
            kms = f" and kms:Decrypt on {kms_key_id}" if kms_key_id else ""
            raise PromotionFailure(
                FailureType.PERMISSION_ERROR,
                f"the job's artifact credentials cannot read input artifact {uri} ({code}): the "
                f"pipeline's service role needs s3:GetObject on {location.bucket}{kms}",
            ) from error
        if code == "PreconditionFailed":
            raise PromotionFailure(
                FailureType.JOB_FAILED,
                f"input artifact {uri} changed while it was being promoted: retry the stage",
            ) from error
        raise _unexpected(error, f"reading input artifact {uri}") from error
    except (ConnectionError, *_STREAM_ERRORS) as error:
        raise _unreachable(error, f"reading input artifact {uri}") from error


@contextmanager
def _writing(target: _Target, doing: str, *, grant: str) -> Iterator[None]:
    destination = target.destination
    try:
        yield
    except ClientError as error:
        code = _code(error)
        if code == "NoSuchBucket":
            raise PromotionFailure(
                FailureType.CONFIGURATION_ERROR,
                f"destination bucket {destination.bucket} does not exist "
                "(UserParameters.destination.bucket): deploy the "
                f"{destination.stage} stage first or fix the name",
            ) from error
        if code in _KMS_UNUSABLE:
            raise PromotionFailure(
                FailureType.CONFIGURATION_ERROR,
                f"destination KMS key {destination.kms_key_id} cannot be used ({code}): fix "
                f"UserParameters.destination.kms_key_id to an enabled key in {destination.region}",
            ) from error
        if code in _DENIED:
            raise PromotionFailure(
                FailureType.PERMISSION_ERROR,
                f"{target.writer} cannot {doing} {target.uri} ({code}): grant it {grant}, and "
                f"check that account {destination.account_id} owns {destination.bucket}",
            ) from error
        if code == "NoSuchUpload":
            raise _UploadGone(
                FailureType.JOB_FAILED,
                f"the multipart upload to {target.uri} no longer exists (aborted, or expired by "
                "a lifecycle rule): retry the stage",
            ) from error
        raise _unexpected(error, f"trying to {doing} {target.uri}") from error
    except (ConnectionError, HTTPClientError) as error:
        raise _unreachable(error, f"trying to {doing} {target.uri}") from error


def _unexpected(error: ClientError, doing: str) -> PromotionFailure:
    code = _code(error)
    if code in _TRANSIENT:
        return PromotionFailure(
            FailureType.SYSTEM_UNAVAILABLE,
            f"AWS kept answering {code} while {doing}, after retries: retry the stage",
        )
    message = error.response.get("Error", {}).get("Message", "")
    return PromotionFailure(
        FailureType.JOB_FAILED, f"AWS refused with {code} ({message}) while {doing}"
    )


def _unreachable(error: Exception, doing: str) -> PromotionFailure:
    return PromotionFailure(
        FailureType.SYSTEM_UNAVAILABLE,
        f"network error while {doing} ({type(error).__name__}), after retries: retry the stage",
    )
