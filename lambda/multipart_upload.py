"""The multipart upload to the destination: create, upload a part, complete, abort, and the sweep
of uploads an interrupted invocation left behind."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

from aws_errors import NETWORK_ERRORS, error_code
from botocore.exceptions import ClientError
from errors import FailureType, PromotionFailure
from handles import WRITE_GRANT, Source, Target
from invocation import Invocation
from logs import JobLog
from verification import b64

# Every upload this function starts has SHA-256 checksums: how the sweep tells ours apart.
CHECKSUM_ALGORITHM: Final = "SHA256"


def create(source: Source, target: Target, metadata: dict[str, str], run: Invocation) -> str:
    run.guard.doing(f"starting a multipart upload to {target.uri}")
    with target.writing("start a multipart upload to", grant=WRITE_GRANT):
        created = target.client.create_multipart_upload(
            **target.object_args,
            ChecksumAlgorithm=CHECKSUM_ALGORITHM,
            Metadata=metadata,
            **source.content_type_args(),
        )
    return created["UploadId"]


def upload_part(
    target: Target, upload_id: str, part_number: int, data: bytes, digest: bytes
) -> None:
    """Upload with the part's SHA-256, which S3 checks on receipt."""
    with target.writing("upload a part to", grant=WRITE_GRANT):
        target.client.upload_part(
            **target.object_args,
            UploadId=upload_id,
            PartNumber=part_number,
            Body=data,
            ChecksumAlgorithm=CHECKSUM_ALGORITHM,
            ChecksumSHA256=b64(digest),
        )


def complete(target: Target, upload_id: str, part_count: int, run: Invocation) -> str | None:
    """Complete the upload from its parts as S3 lists them; returns the new version id."""
    run.guard.doing(f"completing the multipart upload to {target.uri}")
    with target.writing("list the uploaded parts of", grant="s3:ListMultipartUploadParts"):
        pages = target.client.get_paginator("list_parts").paginate(
            **target.object_args, UploadId=upload_id
        )
        parts = completion_parts(part for page in pages for part in page.get("Parts", []))
    if [part["PartNumber"] for part in parts] != list(range(1, part_count + 1)):
        raise PromotionFailure(
            FailureType.JOB_FAILED,
            f"multipart upload to {target.uri} holds {len(parts)} parts, expected {part_count}: "
            "the upload was aborted, retry the stage",
        )
    with target.writing("complete the upload to", grant=WRITE_GRANT):
        completed = target.client.complete_multipart_upload(
            **target.object_args,
            UploadId=upload_id,
            MultipartUpload={"Parts": parts},  # type: ignore[typeddict-item]  # built above
        )
    return completed.get("VersionId")


def completion_parts(listed: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """ListParts entries as CompleteMultipartUpload wants them back."""
    return [
        {
            "PartNumber": part["PartNumber"],
            "ETag": part["ETag"],
            # S3 wants each part's checksum back when the upload was created with one.
            **({"ChecksumSHA256": part["ChecksumSHA256"]} if "ChecksumSHA256" in part else {}),
        }
        for part in listed
    ]


def abort(
    target: Target,
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
        target.client.abort_multipart_upload(**target.object_args, UploadId=upload_id)
    except ClientError as error:
        if error_code(error) == "NoSuchUpload":
            return
        log.error(
            "could not abort the multipart upload; the bucket's AbortIncompleteMultipartUpload "
            "lifecycle rule must clean it up",
            extra={"fields": {**fields, "error": str(error)}},
        )
    except NETWORK_ERRORS as error:
        log.error(
            "could not reach S3 to abort the multipart upload",
            extra={"fields": {**fields, "error": str(error)}},
        )
    else:
        log.info(reason, extra={"fields": fields})


def abort_stale(target: Target, run: Invocation) -> None:
    """Abort multipart uploads to the destination key that an earlier invocation left behind.

    An invocation that dies mid-copy (killed at its timeout, crashed, or abandoned by the deadline
    guard with no token to hand over) cannot abort its own upload. Run only for a job without a
    continuation token: no earlier invocation of this job has an upload to resume, and, as a
    stage runs one execution at a time, no other job is writing this key. The key is the next
    stage's source object, written only by promotions; S3 shows no metadata of an unfinished
    upload, and its Initiator is a per-job role session, so neither identifies us better than
    `is_stale` does.
    """
    destination = target.destination
    run.guard.doing(f"listing unfinished multipart uploads to {target.uri}")
    try:
        pages = target.client.get_paginator("list_multipart_uploads").paginate(
            Bucket=destination.bucket, Prefix=destination.key, **target.owner
        )
        stale = [
            u for page in pages for u in page.get("Uploads", []) if is_stale(u, destination.key)
        ]
    except (ClientError, *NETWORK_ERRORS) as error:
        # Clean-up only: the promotion goes on, and the lifecycle rule is the backstop.
        run.log.warning(
            f"cannot list unfinished multipart uploads to {target.uri}: grant {target.writer} "
            "s3:ListBucketMultipartUploads on the bucket so interrupted copies are cleaned up",
            extra={"fields": {"error": str(error)}},
        )
        return
    for upload in stale:
        abort(
            target,
            upload["UploadId"],
            run.log,
            reason="stale multipart upload aborted",
            initiated=str(upload.get("Initiated", "")),
        )


def is_stale(upload: Mapping[str, Any], key: str) -> bool:
    """Ours: to exactly this key (ListMultipartUploads' Prefix also matches longer keys), with
    SHA-256 checksums, as every upload this function starts has."""
    return upload.get("Key") == key and upload.get("ChecksumAlgorithm") == CHECKSUM_ALGORITHM
