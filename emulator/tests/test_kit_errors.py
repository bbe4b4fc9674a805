"""The kit's one error type, as LocalStack serializes it for every service we emulate."""

from __future__ import annotations

from localstack.aws.api import CommonServiceException

from xrdeploy_local_cloud.kit.errors import ServiceError


def test_a_service_error_carries_awss_code_message_and_status() -> None:
    error = ServiceError("PipelineNotFoundException", "no pipeline named 'p'")
    assert (error.code, error.message, error.status_code) == (
        "PipelineNotFoundException",
        "no pipeline named 'p'",
        400,
    )
    assert str(error) == "no pipeline named 'p'"


def test_it_is_what_localstack_serializes_and_the_status_says_whose_fault() -> None:
    # LocalStack's skeleton answers a CommonServiceException in the service's protocol, with
    # the sender fault deciding AWS's Sender/Receiver type.
    assert isinstance(ServiceError("ValidationException", "m"), CommonServiceException)
    assert ServiceError("ValidationException", "m").sender_fault is True
    internal = ServiceError("InternalFailure", "failed", status=500)
    assert (internal.status_code, internal.sender_fault) == (500, False)
