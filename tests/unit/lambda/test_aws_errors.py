"""AWS errors as job failures (pure, no AWS): the failure type, and the field, resource or
permission each names."""

from __future__ import annotations

import aws_errors
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, IncompleteReadError
from errors import FailureType, PromotionFailure
from job import S3Location

from .world import target_end

ARTIFACT = S3Location("artifacts", "build.zip")
ARTIFACT_KEY = "arn:aws:kms:eu-west-1:123456789012:alias/aws/s3"


def client_error(code: str, message: str = "refused") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, "AnyOperation")


def reading_failure(error: Exception) -> PromotionFailure:
    with pytest.raises(PromotionFailure) as raised, aws_errors.reading(ARTIFACT, ARTIFACT_KEY):
        raise error
    return raised.value


def writing_failure(error: Exception) -> PromotionFailure:
    target = target_end()
    with pytest.raises(PromotionFailure) as raised, target.writing("write", grant="s3:PutObject"):
        raise error
    return raised.value


@pytest.mark.parametrize(
    ("code", "failure_type", "named"),
    [
        ("404", FailureType.JOB_FAILED, ["does not exist", "NotFound"]),
        ("NoSuchKey", FailureType.JOB_FAILED, ["does not exist"]),
        ("AccessDenied", FailureType.PERMISSION_ERROR, ["s3:GetObject", ARTIFACT_KEY]),
        ("412", FailureType.JOB_FAILED, ["changed"]),
        ("SlowDown", FailureType.SYSTEM_UNAVAILABLE, ["SlowDown"]),
        ("InvalidRange", FailureType.JOB_FAILED, ["InvalidRange", "refused"]),
    ],
    ids=["head-404", "missing", "denied", "changed", "throttled", "other"],
)
def test_reading_the_artifact(code: str, failure_type: FailureType, named: list[str]) -> None:
    # GIVEN / WHEN a request for the input artifact fails with code
    failure = reading_failure(client_error(code))

    # THEN the failure type fits, and the message names the artifact and what is at fault
    assert failure.failure_type is failure_type
    for name in [ARTIFACT.uri, *named]:
        assert name in failure.message


@pytest.mark.parametrize(
    "error",
    [
        EndpointConnectionError(endpoint_url="https://s3.test"),
        IncompleteReadError(actual_bytes=1, expected_bytes=2),
    ],
    ids=["connection", "broken-body"],
)
def test_a_network_failure_reading_is_system_unavailable(error: Exception) -> None:
    failure = reading_failure(error)
    assert failure.failure_type is FailureType.SYSTEM_UNAVAILABLE
    assert ARTIFACT.uri in failure.message


@pytest.mark.parametrize(
    ("code", "failure_type", "named"),
    [
        ("NoSuchBucket", FailureType.CONFIGURATION_ERROR, ["UserParameters.destination.bucket"]),
        ("KMS.DisabledException", FailureType.CONFIGURATION_ERROR, ["KMS", "beta"]),
        ("AccessDenied", FailureType.PERMISSION_ERROR, ["role arn:aws:iam::", "s3:PutObject"]),
        ("NoSuchUpload", FailureType.JOB_FAILED, ["multipart upload"]),
        ("503", FailureType.SYSTEM_UNAVAILABLE, ["503"]),
    ],
    ids=["no-bucket", "kms-key-disabled", "denied", "upload-gone", "unavailable"],
)
def test_writing_the_destination(code: str, failure_type: FailureType, named: list[str]) -> None:
    # GIVEN / WHEN a request to the destination fails with code
    failure = writing_failure(client_error(code))

    # THEN the failure type fits, and the message names the bucket and what is at fault
    assert failure.failure_type is failure_type
    for name in [target_end().destination.bucket, *named]:
        assert name in failure.message


def test_a_vanished_upload_is_told_apart() -> None:
    # GIVEN / WHEN / THEN the copy pass can tell an upload completed meanwhile from other failures
    assert isinstance(writing_failure(client_error("NoSuchUpload")), aws_errors.UploadGone)
    assert not isinstance(writing_failure(client_error("AccessDenied")), aws_errors.UploadGone)


def test_a_network_failure_writing_is_system_unavailable() -> None:
    failure = writing_failure(EndpointConnectionError(endpoint_url="https://s3.test"))
    assert failure.failure_type is FailureType.SYSTEM_UNAVAILABLE
    assert target_end().uri in failure.message
