"""How the copy function verifies a checksum: every comparison of what was read, uploaded or
stored against the SHA-256 of the input artifact.

- S3's encoding of a SHA-256 (`b64`) and of a multipart object's composite checksum.
- Before CompleteMultipartUpload: the copy pass's digest over part digests must equal the hash
  pass's (`check_parts_digest`), so the uploaded bytes are the ones the metadata describes.
- After a write: S3's checksum, the xrdeploy-sha256 metadata and the size of the new version must
  be ours (`verify_stored`); otherwise the job fails naming that version.

Why a bad write never becomes visible: every write carries its SHA-256 (`PutObject` and each
`UploadPart` send `ChecksumSHA256`, `CompleteMultipartUpload` sends each part's back), and S3
refuses a body that does not match (`BadDigest`) before storing anything. So the function needs
no delete permission at the destination, where one would reach every version of the build,
rollback history included. The read-back guards against a store that breaks that promise; a
version it finds bad stays, is never taken for the revision (`holds_revision` compares S3's
checksum), and a retry of the stage writes a good version over it.
- Idempotency: the current version already holds this revision if its metadata and S3's own
  checksum match (`already_promoted`).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

import object_metadata
from aws_errors import NOT_FOUND, error_code
from botocore.exceptions import ClientError
from errors import FailureType, PromotionFailure
from handles import Source, Target
from invocation import Invocation
from parts import part_count


def b64(digest: bytes) -> str:
    """S3's x-amz-checksum-* encoding."""
    return base64.b64encode(digest).decode("ascii")


def composite_checksum(parts_digest: str, size: int, part_size: int) -> str:
    """What S3 reports as ChecksumSHA256 for a multipart object: SHA-256 of the concatenated
    part digests (parts_digest, base64), then '-' and the number of parts."""
    return f"{parts_digest}-{part_count(size, part_size)}"


def same_checksum(stored: str | None, expected: str) -> bool:
    """Compare S3 checksums, where a multipart object's carries a '-<part count>' suffix.

    The suffix is compared only when S3 sends one: moto's HeadObject (unlike its GetObject and
    real S3) leaves it off, and the digest before it is what proves the content.
    """
    if stored is None:
        return False
    digest, _, parts = stored.partition("-")
    expected_digest, _, expected_parts = expected.partition("-")
    return digest == expected_digest and (not parts or parts == expected_parts)


def holds_revision(
    head: Mapping[str, Any], sha256: str, source_version_id: str, checksum: str
) -> bool:
    """Whether a HeadObject answer is this revision: its metadata, and S3's checksum, agree.

    S3's checksum must match too: a version whose bytes failed verify_stored carries the right
    metadata, and must be replaced, not accepted.
    """
    metadata = head.get("Metadata", {})
    return (
        metadata.get(object_metadata.SHA256) == sha256
        and metadata.get(object_metadata.SOURCE_VERSION_ID) == source_version_id
        and same_checksum(head.get("ChecksumSHA256"), checksum)
    )


def is_intact(head: Mapping[str, Any], checksum: str, sha256: str, size: int) -> bool:
    """Whether a HeadObject answer for the version just written describes what was sent."""
    return (
        same_checksum(head.get("ChecksumSHA256"), checksum)
        and head.get("Metadata", {}).get(object_metadata.SHA256) == sha256
        and head.get("ContentLength") == size
    )


def check_parts_digest(uploaded: bytes, expected: str, source: Source, target: Target) -> None:
    """The copy pass's digest over part digests (raw) must be the hash pass's (base64)."""
    if b64(uploaded) != expected:
        raise PromotionFailure(
            FailureType.JOB_FAILED,
            f"checksum mismatch: the parts uploaded to {target.uri} differ from {source.uri} as "
            "first read; the upload was aborted and nothing was written: retry the stage",
        )


def already_promoted(
    target: Target, sha256: str, source_version_id: str, checksum: str, run: Invocation
) -> str | None:
    """The destination's current version id if it already holds this revision, else None."""
    run.guard.doing(f"checking what {target.uri} holds")
    with target.writing("read", grant="s3:GetObject and s3:ListBucket"):
        try:
            head = target.client.head_object(**target.object_args, ChecksumMode="ENABLED")
        except ClientError as error:
            if error_code(error) in NOT_FOUND:
                return None
            raise
    if holds_revision(head, sha256, source_version_id, checksum):
        return head.get("VersionId", "null")
    return None


def verify_stored(
    target: Target,
    version_id: str | None,
    checksum: str,
    sha256: str,
    size: int,
    run: Invocation,
) -> None:
    """S3's checksum of what it stored must be ours; otherwise the job fails naming the version."""
    version: dict[str, Any] = {"VersionId": version_id} if version_id else {}
    run.guard.doing(f"reading back {target.uri} version {version_id}")
    with target.writing("read back", grant="s3:GetObject and s3:GetObjectVersion"):
        head = target.client.head_object(**target.object_args, ChecksumMode="ENABLED", **version)
    if is_intact(head, checksum, sha256, size):
        return
    raise PromotionFailure(
        FailureType.JOB_FAILED,
        f"checksum mismatch: S3 reports SHA-256 {head.get('ChecksumSHA256') or 'none'} for "
        f"{target.uri} version {version_id}, expected {checksum}, although it verified the "
        "write's checksum: retry the stage, which writes a good version over it",
    )
