"""The passes' pure parts (no AWS): the checksum the copy pass must end with, and the failure
when a runtime cannot pause."""

from __future__ import annotations

from continuation import Progress
from errors import FailureType
from parts import MIB
from passes import cannot_pause, expected_checksum
from resumable_sha256 import CheckpointUnavailable

from .world import KEY, source_end


def test_the_copy_pass_ends_with_s3s_composite_checksum_of_the_hashed_parts() -> None:
    # GIVEN copy-phase progress over a 17 MiB artifact in 8 MiB parts
    progress = Progress(
        phase="copy",
        key=KEY,
        etag='"etag"',
        part_size=8 * MIB,
        offset=0,
        full_state=None,
        parts_state=None,
        sha256="ab" * 32,
        parts_digest="cGFydHM=",
        upload_id=None,
    )

    # WHEN / THEN the expected checksum is the hash pass's digest of digests over three parts
    assert expected_checksum(progress, source_end(17 * MIB)) == "cGFydHM=-3"


def test_a_runtime_that_cannot_pause_is_told_to_raise_the_timeout() -> None:
    # GIVEN / WHEN the running hash cannot be saved
    failure = cannot_pause(source_end(17 * MIB), CheckpointUnavailable("no SHA256_Init"))

    # THEN JobFailed names the artifact, its size, the cause and the setting to change
    assert failure.failure_type is FailureType.JOB_FAILED
    for named in ("s3://artifacts/build.zip", "17.0 MiB", "no SHA256_Init", "timeout"):
        assert named in failure.message
