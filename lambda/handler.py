"""CodePipeline Invoke entry point: parse the job, promote, report exactly one job result.

The promotion runs under the deadline guard (deadline.py), so a hung request still ends in a job
result before Lambda's timeout. Never log the event itself: it carries the job's temporary
artifact credentials.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Protocol

from botocore.exceptions import ClientError
from checksums import checkpoints_supported
from clients import ClientFactory
from deadline import Guard, run
from errors import FailureType, MalformedEvent, PromotionFailure
from job import parse_job, read_job_id
from logs import JobLog, get_logger
from promote import Outcome, Paused, promote

if TYPE_CHECKING:
    from mypy_boto3_codepipeline import CodePipelineClient
    from mypy_boto3_codepipeline.type_defs import ExecutionDetailsTypeDef

_LOG = get_logger()
# CodePipeline caps FailureDetails.message at 5000 and ExecutionDetails.summary at 2048.
_MAX_MESSAGE = 5000
_MAX_SUMMARY = 2048
# Reporting again cannot help with these: the job already has a result or has timed out.
_FINAL_REPORT_ERRORS = {"InvalidJobStateException", "JobNotFoundException"}

_clients: ClientFactory | None = None


class LambdaContext(Protocol):
    def get_remaining_time_in_millis(self) -> int: ...


def lambda_handler(event: dict[str, Any], context: LambdaContext) -> None:
    global _clients
    if _clients is None:  # built on the first invocation, reused while the runtime stays warm
        _clients = ClientFactory.from_environment()
    handle(event, context, _clients)


def handle(event: Mapping[str, Any], context: LambdaContext, clients: ClientFactory) -> None:
    started = time.monotonic()
    try:
        job_id = read_job_id(event)
    except MalformedEvent as error:
        # No job id, no job result to report. Not raised: Lambda would retry an asynchronous
        # invocation, and the same event cannot do better.
        _LOG.error(str(error), extra={"fields": {"outcome": "ignored"}})
        return
    log = JobLog(_LOG, job_id=job_id)
    try:
        job = parse_job(event)
        log = JobLog(
            _LOG,
            job_id=job_id,
            source_stage=job.params.source_stage,
            destination_stage=job.params.destination.stage,
        )
        log.info(
            "promotion started",
            extra={
                "fields": {
                    "source": job.artifact.uri,
                    "destination": job.params.destination.location.uri,
                    "resumed": job.continuation_token is not None,
                    # False means large copies cannot pause: see checksums.py.
                    "resumable_hash": checkpoints_supported(),
                }
            },
        )
        guard = Guard[Paused](lambda: context.get_remaining_time_in_millis() / 1000)
        outcome = run(lambda: promote(job, clients, guard=guard, log=log), guard, log=log)
    except PromotionFailure as failure:
        _report_failure(clients.codepipeline(), job_id, failure, log)
        log.warning(
            "promotion failed",
            extra={"fields": _done("failed", started, failure_type=failure.failure_type.value)},
        )
    except Exception as error:
        unexpected = PromotionFailure(
            FailureType.JOB_FAILED,
            f"unexpected {type(error).__name__} while promoting: {error}; "
            f"see the function's logs for job {job_id}",
        )
        _report_failure(clients.codepipeline(), job_id, unexpected, log)
        log.exception("unexpected error", extra={"fields": _done("failed", started)})
    else:
        _report_success(clients.codepipeline(), job_id, outcome, log)
        log.info(
            f"promotion {_outcome_name(outcome)}",
            extra={
                "fields": _done(
                    _outcome_name(outcome),
                    started,
                    bytes_read=outcome.bytes_read,
                    bytes_written=outcome.bytes_written,
                )
            },
        )


def _outcome_name(outcome: Outcome) -> str:
    if isinstance(outcome, Paused):
        return "paused"
    return "skipped" if outcome.skipped else "promoted"


def _done(outcome: str, started: float, **fields: Any) -> dict[str, Any]:
    return {
        "outcome": outcome,
        "duration_ms": round((time.monotonic() - started) * 1000),
        **fields,
    }


def _report_success(
    codepipeline: CodePipelineClient, job_id: str, outcome: Outcome, log: JobLog
) -> None:
    details: ExecutionDetailsTypeDef = {"summary": _one_line(outcome.summary, _MAX_SUMMARY)}
    extra: dict[str, Any] = {}
    if isinstance(outcome, Paused):
        details["percentComplete"] = outcome.percent
        extra["continuationToken"] = outcome.token
    else:
        details["percentComplete"] = 100
        if outcome.version_id:
            details["externalExecutionId"] = outcome.version_id
    with _reporting(log):
        codepipeline.put_job_success_result(
            jobId=job_id,
            executionDetails=details,
            **extra,
        )


def _report_failure(
    codepipeline: CodePipelineClient, job_id: str, failure: PromotionFailure, log: JobLog
) -> None:
    with _reporting(log):
        codepipeline.put_job_failure_result(
            jobId=job_id,
            failureDetails={
                "type": failure.failure_type.value,
                "message": _one_line(failure.message, _MAX_MESSAGE),
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


def _one_line(text: str, limit: int) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 3] + "..."
