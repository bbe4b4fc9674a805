"""What a promotion ends with, and the one-line summary CodePipeline shows for it."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

import continuation
from continuation import Progress
from handles import Source, Target
from parts import MIB, part_count


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


class Counts(Protocol):
    """Bytes moved so far in this invocation (invocation.Invocation keeps them)."""

    @property
    def bytes_read(self) -> int: ...

    @property
    def bytes_written(self) -> int: ...


def written(
    source: Source, target: Target, sha256: str, version_id: str | None, counts: Counts
) -> Completed:
    return Completed(
        summary=(
            f"Promoted {source.uri} ({describe_size(source.size)}, sha256 {sha256[:12]}) to "
            f"{target.uri} version {version_id or '(unversioned)'} in {target.destination.region}"
        ),
        version_id=version_id,
        skipped=False,
        bytes_read=counts.bytes_read,
        bytes_written=counts.bytes_written,
    )


def skipped(
    target: Target, source_version_id: str, sha256: str, version_id: str, counts: Counts
) -> Completed:
    return Completed(
        summary=(
            f"{target.uri} already holds source version {source_version_id} "
            f"(sha256 {sha256[:12]}) as version {version_id}: nothing written"
        ),
        version_id=version_id,
        skipped=True,
        bytes_read=counts.bytes_read,
        bytes_written=0,
    )


def paused(source: Source, target: Target, progress: Progress, counts: Counts) -> Paused:
    """The token to continue from progress, and how far the promotion has come."""
    parts = part_count(source.size, progress.part_size)
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
            f"Promoting {source.uri} to {target.uri}: {where}, continuing in the next invocation"
        ),
        percent=percent,
        bytes_read=counts.bytes_read,
        bytes_written=counts.bytes_written,
        upload_id=progress.upload_id,
    )


def describe_size(size: int) -> str:
    return f"{size / MIB:.1f} MiB" if size >= MIB else f"{size} bytes"
