"""Reading the artifact part by part, on an in-memory S3 (no AWS, no moto)."""

from __future__ import annotations

import io
import logging
from dataclasses import replace
from typing import Any

import pytest
from botocore.exceptions import IncompleteReadError
from deadline import Guard
from errors import FailureType, PromotionFailure
from invocation import Invocation
from logs import JobLog
from outcomes import Paused
from s3_access import READ_ATTEMPTS, read_range

from .world import source_end

DATA = bytes(range(256)) * 4
LOG = JobLog(logging.getLogger("xrdeploy.test-s3-access"), job_id="test-job")


class BrokenBody:
    def read(self) -> bytes:
        raise IncompleteReadError(actual_bytes=1, expected_bytes=2)


class FakeS3:
    """GetObject over DATA; the first `broken` bodies break off, and `short` bytes go missing."""

    def __init__(self, *, broken: int = 0, short: int = 0) -> None:
        self.broken = broken
        self.short = short
        self.requests: list[dict[str, Any]] = []

    def get_object(self, **request: Any) -> dict[str, Any]:
        self.requests.append(request)
        if len(self.requests) <= self.broken:
            return {"Body": BrokenBody()}
        first, last = (int(n) for n in request["Range"].removeprefix("bytes=").split("-"))
        return {"Body": io.BytesIO(DATA[first : last + 1 - self.short])}


def read(s3: FakeS3, start: int, length: int) -> tuple[bytes, Invocation]:
    run = Invocation(guard=Guard[Paused](lambda: 900.0), log=LOG)
    source = replace(source_end(len(DATA)), client=s3)  # type: ignore[arg-type]
    return read_range(source, start, length, run), run


def test_a_range_is_read_pinned_to_the_etag_and_counted() -> None:
    # GIVEN / WHEN bytes 100-199 are read
    s3 = FakeS3()
    data, run = read(s3, 100, 100)

    # THEN they are those bytes, asked for with If-Match, and counted
    assert data == DATA[100:200]
    assert (s3.requests[0]["Range"], s3.requests[0]["IfMatch"]) == ("bytes=100-199", '"etag"')
    assert run.bytes_read == 100


def test_a_body_that_breaks_off_is_read_again_up_to_the_limit() -> None:
    # GIVEN / WHEN the first bodies break off
    data, _ = read(FakeS3(broken=READ_ATTEMPTS - 1), 0, 10)

    # THEN the part is read again until it comes whole
    assert data == DATA[:10]
    # AND past the limit the network failure is reported
    with pytest.raises(PromotionFailure) as raised:
        read(FakeS3(broken=READ_ATTEMPTS), 0, 10)
    assert raised.value.failure_type is FailureType.SYSTEM_UNAVAILABLE


def test_a_short_read_fails_the_job() -> None:
    # GIVEN / WHEN S3 sends fewer bytes than the range
    with pytest.raises(PromotionFailure) as raised:
        read(FakeS3(short=1), 0, 10)

    # THEN JobFailed names the artifact and the offset
    assert raised.value.failure_type is FailureType.JOB_FAILED
    assert "s3://artifacts/build.zip" in raised.value.message and "offset 0" in raised.value.message


def test_an_empty_range_reads_nothing() -> None:
    s3 = FakeS3()
    assert read(s3, 0, 0)[0] == b""
    assert s3.requests == []
