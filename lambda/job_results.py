"""Reporting the job's one result to CodePipeline (PutJobSuccessResult / PutJobFailureResult)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError
from errors import PromotionFailure
from logs import JobLog
from outcomes import Outcome, Paused

if TYPE_CHECKING:
    from mypy_boto3_codepipeline import CodePipelineClient
    from mypy_boto3_codepipeline.type_defs import ExecutionDetailsTypeDef

# CodePipeline caps FailureDetails.message at 5000 and ExecutionDetails.summary at 2048.
MAX_MESSAGE = 5000
MAX_SUMMARY = 2048
# Reporting again cannot help with these: the job already has a result or has timed out.
_FINAL_REPORT_ERRORS = {"InvalidJobStateException", "JobNotFoundException"}


def report_success(
    codepipeline: CodePipelineClient, job_id: str, outcome: Outcome, log: JobLog
) -> None:
    details, extra = success_details(outcome)
    with _reporting(log):
        codepipeline.put_job_success_result(jobId=job_id, executionDetails=details, **extra)


def success_details(outcome: Outcome) -> tuple[ExecutionDetailsTypeDef, dict[str, Any]]:
    """executionDetails, and the continuation token of a paused promotion."""
    details: ExecutionDetailsTypeDef = {"summary": one_line(outcome.summary, MAX_SUMMARY)}
    if isinstance(outcome, Paused):
        details["percentComplete"] = outcome.percent
        return details, {"continuationToken": outcome.token}
    details["percentComplete"] = 100
    if outcome.version_id:
        details["externalExecutionId"] = outcome.version_id
    return details, {}


def report_failure(
    codepipeline: CodePipelineClient, job_id: str, failure: PromotionFailure, log: JobLog
) -> None:
    with _reporting(log):
        codepipeline.put_job_failure_result(
            jobId=job_id,
            failureDetails={
                "type": failure.failure_type.value,
                "message": one_line(failure.message, MAX_MESSAGE),
            },
        )


@contextmanager
def _reporting(log: JobLog) -> Iterator[None]:
    try:
        yield
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        if code in _FINAL_REPORT_ERRORS:
            log.error("job result refused", extra={"fields": {"error": str(error)}})
            return
        # Raised so Lambda retries the invocation; the promotion itself is idempotent.
        log.exception("could not report the job result")
        raise


def one_line(text: str, limit: int) -> str:
    """CodePipeline shows one line: whitespace runs collapsed, cut with '...' at limit."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 3] + "..."
