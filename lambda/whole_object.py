"""An artifact of up to one part: read once, hashed, and written with one PutObject, which S3
checks against the SHA-256 sent with it."""

from __future__ import annotations

import hashlib

import object_metadata
import outcomes
from continuation import Progress
from handles import WRITE_GRANT, Source, Target
from invocation import Invocation
from job import PromotionParams
from outcomes import Completed
from parts import part_size_for
from s3_access import read_range
from verification import already_promoted, b64, verify_stored


def promote_whole(
    params: PromotionParams, source: Source, target: Target, run: Invocation
) -> Completed:
    data = read_range(source, 0, source.size, run)
    digest = hashlib.sha256(data).digest()
    sha256 = digest.hex()
    existing = already_promoted(target, sha256, params.source_version_id, b64(digest), run)
    if existing is not None:
        return outcomes.skipped(target, params.source_version_id, sha256, existing, run)
    # If time runs out once the PutObject is on its way, whether it lands is unknowable here: the
    # guard reports a token for this single part, and the next invocation looks before writing.
    run.guard.commit(outcomes.paused(source, target, _landing_check(source, target, digest), run))
    version_id = _put(params, source, target, data, digest, run)
    verify_stored(target, version_id, b64(digest), sha256, source.size, run)
    return outcomes.written(source, target, sha256, version_id, run)


def _landing_check(source: Source, target: Target, digest: bytes) -> Progress:
    """The resume point of a PutObject cut off by the deadline guard: look, then write again."""
    return Progress(
        phase="copy",
        key=target.destination.key,
        etag=source.etag,
        part_size=part_size_for(source.size),  # >= size: what marks the token as single-part
        offset=0,
        full_state=None,
        parts_state=None,
        sha256=digest.hex(),
        parts_digest=b64(hashlib.sha256(digest).digest()),  # a copy-phase token carries both
        upload_id=None,
    )


def _put(
    params: PromotionParams,
    source: Source,
    target: Target,
    data: bytes,
    digest: bytes,
    run: Invocation,
) -> str | None:
    run.guard.doing(f"writing {target.uri}")
    with target.writing("write", grant=WRITE_GRANT):
        written = target.client.put_object(
            **target.object_args,
            Body=data,
            ChecksumAlgorithm="SHA256",
            ChecksumSHA256=b64(digest),
            Metadata=object_metadata.metadata(params, digest.hex()),
            **source.content_type_args(),
        )
    run.bytes_written += len(data)
    return written.get("VersionId")
