"""The one error type of every service we emulate: AWS's error code, message and HTTP status."""

from __future__ import annotations

from localstack.aws.api import CommonServiceException


class ServiceError(CommonServiceException):
    """An error the API answers with, named as in its API reference. LocalStack serializes it in
    the service's protocol, so boto3 and the AWS CLI see ``code`` as the error code; a status
    below 500 is the caller's fault (AWS's ``Sender``)."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(code, message, status_code=status, sender_fault=status < 500)
