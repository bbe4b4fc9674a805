"""Where a paused promotion stands, as the continuation token CodePipeline hands back to us.

Only what cannot be re-read cheaply is kept: part ETags and checksums are listed again with
ListParts when the upload completes. The worst case is about 700 characters, well inside
CodePipeline's 2048.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Literal

from errors import FailureType, PromotionFailure
from resumable_sha256 import check_state

MAX_TOKEN_LENGTH = 2048
VERSION = 1

Phase = Literal["hash", "copy"]


@dataclass(frozen=True)
class Progress:
    phase: Phase
    key: str  # destination key, checked on resume
    etag: str  # the source artifact's ETag: every read is pinned to it with If-Match
    part_size: int
    # Bytes of the source done in this phase; always a part boundary, or in the copy phase the
    # end: every part uploaded and checked, only CompleteMultipartUpload left (passes.py).
    offset: int
    # Saved SHA-256 states (resumable_sha256.Sha256.checkpoint), None before the first part: the
    # whole object (hash phase only) and the running hash over part digests (both phases).
    full_state: str | None
    parts_state: str | None
    # Known once the hash phase is over.
    sha256: str | None
    parts_digest: str | None  # base64 of the hash phase's digest over part digests
    upload_id: str | None


def encode(progress: Progress) -> str:
    doc = {"v": VERSION, **{k: v for k, v in asdict(progress).items() if v is not None}}
    token = json.dumps(doc, separators=(",", ":"))
    if len(token) > MAX_TOKEN_LENGTH:
        # Cannot happen with S3's upload ids today; refuse rather than hand CodePipeline a token
        # it would reject.
        raise ValueError(f"continuation token of {len(token)} chars exceeds {MAX_TOKEN_LENGTH}")
    return token


def decode(token: str) -> Progress:
    try:
        doc = json.loads(token)
        if not isinstance(doc, dict) or doc.pop("v", None) != VERSION:
            raise ValueError("unknown version")
        progress = Progress(
            phase=doc["phase"],
            key=doc["key"],
            etag=doc["etag"],
            part_size=int(doc["part_size"]),
            offset=int(doc["offset"]),
            full_state=doc.get("full_state"),
            parts_state=doc.get("parts_state"),
            sha256=doc.get("sha256"),
            parts_digest=doc.get("parts_digest"),
            upload_id=doc.get("upload_id"),
        )
        if progress.phase not in ("hash", "copy") or progress.part_size <= 0:
            raise ValueError("bad phase or part size")
        if progress.phase == "hash" and progress.full_state is None:
            raise ValueError("hash phase without hash state")
        for state in (progress.full_state, progress.parts_state):
            if state is not None:
                check_state(state)
        if progress.phase == "copy" and (progress.sha256 is None or progress.parts_digest is None):
            raise ValueError("copy phase without source checksums")
    except (ValueError, KeyError, TypeError) as error:
        raise PromotionFailure(
            FailureType.JOB_FAILED,
            f"continuation token is unreadable ({error}): retry the stage to start the "
            "promotion afresh",
        ) from error
    return progress
