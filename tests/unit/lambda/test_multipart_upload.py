"""Which uploads count as stale, and how listed parts are handed back (pure, no AWS)."""

from __future__ import annotations

import pytest
from multipart_upload import completion_parts, is_stale


@pytest.mark.parametrize(
    ("upload", "stale"),
    [
        ({"Key": "app.zip", "ChecksumAlgorithm": "SHA256"}, True),
        ({"Key": "app.zip.previous", "ChecksumAlgorithm": "SHA256"}, False),
        ({"Key": "app.zip", "ChecksumAlgorithm": "CRC32"}, False),
        ({"Key": "app.zip"}, False),
    ],
    ids=["ours", "longer-key", "other-writer", "no-checksum"],
)
def test_only_sha256_uploads_to_exactly_the_key_are_stale(
    upload: dict[str, str], stale: bool
) -> None:
    # GIVEN / WHEN / THEN Prefix also lists longer keys, and other writers use other checksums
    assert is_stale(upload, "app.zip") is stale


def test_listed_parts_go_back_with_their_checksums() -> None:
    # GIVEN ListParts entries, one without a checksum
    listed = [
        {"PartNumber": 1, "ETag": '"a"', "ChecksumSHA256": "c1", "Size": 8},
        {"PartNumber": 2, "ETag": '"b"', "Size": 1},
    ]

    # WHEN they are made into CompleteMultipartUpload's parts
    parts = completion_parts(listed)

    # THEN each keeps its number, ETag and checksum (if any), and nothing else
    assert parts == [
        {"PartNumber": 1, "ETag": '"a"', "ChecksumSHA256": "c1"},
        {"PartNumber": 2, "ETag": '"b"'},
    ]
