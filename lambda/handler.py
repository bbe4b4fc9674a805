"""CodePipeline Invoke entry point: parse the job, promote, report exactly one job result.

The promotion runs under the deadline guard (deadline.py), so a hung request still ends in a job
result before Lambda's timeout. Never log the event itself: it carries the job's temporary
artifact credentials.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, Protocol

from clients import ClientFactory
from deadline import Guard, run
from errors import FailureType, MalformedEvent, PromotionFailure
from job import Job, parse_job, read_job_id
from job_results import report_failure, report_success
from logs import JobLog, get_logger
from outcomes import Outcome, Paused
from promote import promote
from resumable_sha256 import checkpoints_supported

_LOG = get_logger()

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
        log = _started(job)
        guard = Guard[Paused](lambda: context.get_remaining_time_in_millis() / 1000)
        outcome = run(lambda: promote(job, clients, guard=guard, log=log), guard, log=log)
    except PromotionFailure as failure:
        report_failure(clients.codepipeline(), job_id, failure, log)
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
        report_failure(clients.codepipeline(), job_id, unexpected, log)
        log.exception("unexpected error", extra={"fields": _done("failed", started)})
    else:
        report_success(clients.codepipeline(), job_id, outcome, log)
        name = _outcome_name(outcome)
        counts = {"bytes_read": outcome.bytes_read, "bytes_written": outcome.bytes_written}
        log.info(f"promotion {name}", extra={"fields": _done(name, started, **counts)})


def _started(job: Job) -> JobLog:
    """The job's log, bound to its stages, with the first line written."""
    log = JobLog(
        _LOG,
        job_id=job.id,
        source_stage=job.params.source_stage,
        destination_stage=job.params.destination.stage,
    )
    fields = {
        "source": job.artifact.uri,
        "destination": job.params.destination.location.uri,
        "resumed": job.continuation_token is not None,
        # False means large copies cannot pause: see resumable_sha256.py.
        "resumable_hash": checkpoints_supported(),
    }
    log.info("promotion started", extra={"fields": fields})
    return log


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
