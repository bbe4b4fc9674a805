"""What a promotion ends with and how CodePipeline shows it (pure, no AWS)."""

from __future__ import annotations

from dataclasses import dataclass

import continuation
import outcomes
import pytest
import resumable_sha256
from continuation import Progress
from parts import MIB

from .world import source_end, target_end

SIZE = 17 * MIB  # three parts of 8 MiB
PART = 8 * MIB
SHA256 = "ab" * 32


@dataclass
class Moved:
    bytes_read: int = 3
    bytes_written: int = 2


def progress(phase: str, offset: int, upload_id: str | None = None) -> Progress:
    state = resumable_sha256.new_sha256().checkpoint() if phase == "hash" else None
    return Progress(
        phase=phase,  # type: ignore[arg-type]
        key=target_end().destination.key,
        etag='"etag"',
        part_size=PART,
        offset=offset,
        full_state=state,
        parts_state=state,
        sha256=SHA256 if phase == "copy" else None,
        parts_digest="cGFydHM=" if phase == "copy" else None,
        upload_id=upload_id,
    )


def test_a_written_revision_names_both_ends_its_size_and_version() -> None:
    # GIVEN / WHEN a revision was written
    done = outcomes.written(source_end(SIZE), target_end(), SHA256, "v7", Moved())

    # THEN the summary says from where, what, to where and which version
    for named in ("s3://artifacts/build.zip", "17.0 MiB", SHA256[:12], target_end().uri, "v7"):
        assert named in done.summary
    assert (done.version_id, done.skipped, done.bytes_read, done.bytes_written) == (
        "v7",
        False,
        3,
        2,
    )


def test_a_revision_already_there_is_skipped_with_nothing_written() -> None:
    # GIVEN / WHEN the destination already held the revision
    done = outcomes.skipped(target_end(), "source-v1", SHA256, "v3", Moved())

    # THEN it is a skip naming the source version and the version found, with no bytes written
    assert done.skipped and done.bytes_written == 0
    assert "source-v1" in done.summary and "v3" in done.summary


@pytest.mark.parametrize(
    ("phase", "offset", "where", "percent"),
    [
        ("hash", PART, "hash pass at part 2 of 3", 16),
        ("copy", 0, "copy pass at part 1 of 3", 50),
        ("copy", PART, "copy pass at part 2 of 3", 66),
        ("copy", SIZE, "all parts uploaded, completing", 99),
    ],
    ids=["hash-pass", "copy-start", "copy-pass", "completing"],
)
def test_a_pause_says_where_it_stands_and_hashing_is_the_first_half(
    phase: str, offset: int, where: str, percent: int
) -> None:
    # GIVEN / WHEN a three-part promotion pauses
    paused = outcomes.paused(source_end(SIZE), target_end(), progress(phase, offset, "u1"), Moved())

    # THEN the summary and percentage say where, and the token resumes from there
    assert where in paused.summary
    assert paused.percent == percent
    assert continuation.decode(paused.token) == progress(phase, offset, "u1")
    assert paused.upload_id == "u1"


def test_the_pause_of_a_single_part_is_a_check_of_what_landed() -> None:
    # GIVEN / WHEN a PutObject's resume point (the part is the whole artifact)
    paused = outcomes.paused(source_end(MIB), target_end(), progress("copy", 0), Moved())

    # THEN it says the next invocation checks the write, half done
    assert "checking whether the write landed" in paused.summary
    assert paused.percent == 50


@pytest.mark.parametrize(
    ("size", "text"), [(0, "0 bytes"), (MIB - 1, "1048575 bytes"), (MIB + MIB // 2, "1.5 MiB")]
)
def test_sizes_are_bytes_below_a_mib_and_mib_above(size: int, text: str) -> None:
    assert outcomes.describe_size(size) == text
