"""Failures that end a job, each carrying the CodePipeline failure type to report."""

from __future__ import annotations

from enum import StrEnum


class FailureType(StrEnum):
    """FailureDetails.type values of PutJobFailureResult."""

    JOB_FAILED = "JobFailed"
    CONFIGURATION_ERROR = "ConfigurationError"
    PERMISSION_ERROR = "PermissionError"
    # Throttling or 5xx that outlived botocore's retries: the pipeline may simply be retried.
    SYSTEM_UNAVAILABLE = "SystemUnavailable"


class PromotionFailure(Exception):
    """A job outcome to report as failed: message is one line saying what, where and what to do."""

    def __init__(self, failure_type: FailureType, message: str) -> None:
        super().__init__(message)
        self.failure_type = failure_type
        self.message = message


class MalformedEvent(Exception):
    """The event carries no job id, so no job result can be reported at all."""
