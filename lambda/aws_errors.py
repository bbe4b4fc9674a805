"""AWS errors translated into job failures, each one line: what, where, and what to do.

`reading` wraps requests to the input artifact (the job's artifact credentials), `writing` those
to the destination (the assumed role); what neither recognises is `unexpected` (throttling and
5xx that outlived the retries are SystemUnavailable, the rest JobFailed) or, for the network,
`unreachable`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from botocore.exceptions import ClientError, ConnectionError, HTTPClientError, IncompleteReadError
from errors import FailureType, PromotionFailure
from job import Destination, S3Location

DENIED = {
    "AccessDenied",
    "AccessDeniedException",
    "AllAccessDisabled",
    "ExpiredToken",
    "InvalidAccessKeyId",
    "InvalidToken",
    "KMS.AccessDeniedException",
    "SignatureDoesNotMatch",
}
NOT_FOUND = {"NoSuchKey", "NotFound"}
_KMS_UNUSABLE = {
    "KMS.DisabledException",
    "KMS.InvalidStateException",
    "KMS.KMSInvalidStateException",
    "KMS.NotFoundException",
}
_TRANSIENT = {
    "InternalError",
    "RequestLimitExceeded",
    "RequestTimeout",
    "ServiceUnavailable",
    "SlowDown",
    "Throttling",
    "ThrottlingException",
    "500",
    "503",
}
# A response body that breaks off: botocore retries requests, not this.
STREAM_ERRORS = (HTTPClientError, IncompleteReadError)
# Requests that never got an answer, after botocore's retries.
NETWORK_ERRORS = (ConnectionError, HTTPClientError)
# HEAD responses have no body, so botocore can only give the status as the error code.
_HEAD_CODES = {"403": "AccessDenied", "404": "NotFound", "412": "PreconditionFailed"}


class UploadGone(PromotionFailure):
    """The multipart upload being written no longer exists: aborted, expired, or completed."""


def error_code(error: ClientError) -> str:
    code = str(error.response.get("Error", {}).get("Code", ""))
    return _HEAD_CODES.get(code, code)


def bucket_missing(destination: Destination) -> PromotionFailure:
    return PromotionFailure(
        FailureType.CONFIGURATION_ERROR,
        f"destination bucket {destination.bucket} does not exist "
        f"(UserParameters.destination.bucket): deploy the {destination.stage} stage first or fix "
        "the name",
    )


@contextmanager
def reading(location: S3Location, kms_key_id: str | None) -> Iterator[None]:
    """Translate errors of requests to the input artifact."""
    uri = location.uri
    try:
        yield
    except ClientError as error:
        raise _reading_failure(error, location, kms_key_id) from error
    except (ConnectionError, *STREAM_ERRORS) as error:
        raise unreachable(error, f"reading input artifact {uri}") from error


def _reading_failure(
    error: ClientError, location: S3Location, kms_key_id: str | None
) -> PromotionFailure:
    code = error_code(error)
    uri = location.uri
    if code in NOT_FOUND | {"NoSuchBucket"}:
        return PromotionFailure(
            FailureType.JOB_FAILED,
            f"input artifact {uri} does not exist ({code}): re-run the pipeline from its source "
            "stage (a lifecycle rule may have expired the artifact)",
        )
    if code in DENIED:
        kms = f" and kms:Decrypt on {kms_key_id}" if kms_key_id else ""
        return PromotionFailure(
            FailureType.PERMISSION_ERROR,
            f"the job's artifact credentials cannot read input artifact {uri} ({code}): the "
            f"pipeline's service role needs s3:GetObject on {location.bucket}{kms}",
        )
    if code == "PreconditionFailed":
        return PromotionFailure(
            FailureType.JOB_FAILED,
            f"input artifact {uri} changed while it was being promoted: retry the stage",
        )
    return unexpected(error, f"reading input artifact {uri}")


@contextmanager
def writing(destination: Destination, writer: str, doing: str, *, grant: str) -> Iterator[None]:
    """Translate errors of requests to the destination; writer and grant name who needs what."""
    try:
        yield
    except ClientError as error:
        raise _writing_failure(error, destination, writer, doing, grant) from error
    except NETWORK_ERRORS as error:
        raise unreachable(error, f"trying to {doing} {destination.location.uri}") from error


def _writing_failure(
    error: ClientError, destination: Destination, writer: str, doing: str, grant: str
) -> PromotionFailure:
    code = error_code(error)
    uri = destination.location.uri
    if code == "NoSuchBucket":
        return bucket_missing(destination)
    if code in _KMS_UNUSABLE:
        # The bucket's default encryption picks the key: the function never names one.
        return PromotionFailure(
            FailureType.CONFIGURATION_ERROR,
            f"the KMS key of bucket {destination.bucket}'s default encryption cannot be used "
            f"({code}): enable the {destination.stage} stage's key in {destination.region}",
        )
    if code in DENIED:
        return PromotionFailure(
            FailureType.PERMISSION_ERROR,
            f"{writer} cannot {doing} {uri} ({code}): grant it {grant}, and check that account "
            f"{destination.account_id} owns {destination.bucket}",
        )
    if code == "NoSuchUpload":
        return UploadGone(
            FailureType.JOB_FAILED,
            f"the multipart upload to {uri} no longer exists (aborted, or expired by a lifecycle "
            "rule): retry the stage",
        )
    return unexpected(error, f"trying to {doing} {uri}")


def unexpected(error: ClientError, doing: str) -> PromotionFailure:
    code = error_code(error)
    if code in _TRANSIENT:
        return PromotionFailure(
            FailureType.SYSTEM_UNAVAILABLE,
            f"AWS kept answering {code} while {doing}, after retries: retry the stage",
        )
    message = error.response.get("Error", {}).get("Message", "")
    return PromotionFailure(
        FailureType.JOB_FAILED, f"AWS refused with {code} ({message}) while {doing}"
    )


def unreachable(error: Exception, doing: str) -> PromotionFailure:
    return PromotionFailure(
        FailureType.SYSTEM_UNAVAILABLE,
        f"network error while {doing} ({type(error).__name__}), after retries: retry the stage",
    )
