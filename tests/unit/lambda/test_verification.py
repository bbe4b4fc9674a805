"""How checksums are compared (pure, no AWS): S3's encodings, what counts as this revision, what
counts as intact, and the copy pass's digest over part digests."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import pytest
from errors import FailureType, PromotionFailure
from verification import (
    b64,
    check_parts_digest,
    composite_checksum,
    holds_revision,
    is_intact,
    same_checksum,
)

from .world import source_end, target_end

SHA256 = hashlib.sha256(b"build").hexdigest()
CHECKSUM = b64(hashlib.sha256(b"build").digest())
SOURCE = source_end(5)
TARGET = target_end()


def head(**changes: Any) -> dict[str, Any]:
    """A HeadObject answer for the promoted revision, with changes."""
    answer: dict[str, Any] = {
        "ChecksumSHA256": CHECKSUM,
        "ContentLength": 5,
        "Metadata": {"xrdeploy-sha256": SHA256, "xrdeploy-source-version-id": "v1"},
    }
    answer.update(changes)
    return answer


def test_composite_checksum_is_s3s_format() -> None:
    # GIVEN two parts and the digest over their digests
    parts = [b"a" * 10, b"b" * 5]
    digest = hashlib.sha256(b"".join(hashlib.sha256(p).digest() for p in parts)).digest()

    # WHEN their composite checksum is written as S3 reports it, with 10-byte parts
    checksum = composite_checksum(b64(digest), size=15, part_size=10)

    # THEN it is base64 of the digest of digests, then the part count
    assert checksum == base64.b64encode(digest).decode() + "-2"


@pytest.mark.parametrize(
    ("stored", "same"),
    [
        ("abc=-3", True),
        ("abc=", True),  # moto's HeadObject leaves the part count off
        ("abc=-2", False),
        ("abd=-3", False),
        (None, False),
    ],
    ids=["same", "no-suffix", "other-part-count", "other-digest", "none"],
)
def test_a_checksum_matches_on_its_digest_and_any_part_count_given(
    stored: str | None, same: bool
) -> None:
    # GIVEN / WHEN / THEN
    assert same_checksum(stored, "abc=-3") is same


def test_the_revision_is_recognised_by_metadata_and_s3s_checksum_together() -> None:
    # GIVEN / WHEN / THEN the right metadata and checksum are this revision
    assert holds_revision(head(), SHA256, "v1", CHECKSUM)
    # AND another source version, or the right metadata over other bytes, is not
    assert not holds_revision(head(), SHA256, "v2", CHECKSUM)
    assert not holds_revision(head(ChecksumSHA256=b64(b"x" * 32)), SHA256, "v1", CHECKSUM)
    assert not holds_revision(head(Metadata={}), SHA256, "v1", CHECKSUM)


@pytest.mark.parametrize(
    "changes",
    [{"ChecksumSHA256": b64(b"x" * 32)}, {"ContentLength": 4}, {"Metadata": {}}],
    ids=["checksum", "size", "metadata"],
)
def test_a_stored_version_is_intact_only_if_checksum_size_and_metadata_agree(
    changes: dict[str, Any],
) -> None:
    # GIVEN / WHEN / THEN the version as written is intact, and any one difference is not
    assert is_intact(head(), CHECKSUM, SHA256, 5)
    assert not is_intact(head(**changes), CHECKSUM, SHA256, 5)


def test_parts_that_differ_from_the_hashed_source_are_a_checksum_mismatch() -> None:
    # GIVEN the hash pass's digest over part digests
    expected = b64(hashlib.sha256(b"parts").digest())

    # WHEN the copy pass's is the same THEN nothing is raised
    check_parts_digest(hashlib.sha256(b"parts").digest(), expected, SOURCE, TARGET)

    # WHEN it differs THEN JobFailed names both ends
    with pytest.raises(PromotionFailure) as raised:
        check_parts_digest(hashlib.sha256(b"other").digest(), expected, SOURCE, TARGET)
    assert raised.value.failure_type is FailureType.JOB_FAILED
    assert "checksum mismatch" in raised.value.message
    assert SOURCE.uri in raised.value.message and TARGET.uri in raised.value.message
