"""Jobs of Lambda invoke actions and the job worker API the function calls.

Each invocation of the function gets a job (a continuation gets a new one). The function
answers with PutJobSuccessResult (optionally with a ``continuationToken``: CodePipeline then
invokes it again) or PutJobFailureResult; GetJobDetails and AcknowledgeJob work as on AWS.
A job that has a result or has timed out refuses another one (``InvalidJobStateException``).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

from localstack.aws.api import RequestContext

from xrdeploy_local_cloud.codepipeline import models, stores
from xrdeploy_local_cloud.kit.errors import ServiceError

Request = dict[str, Any]
_RESULT_STATES = ("Succeeded", "Failed", "TimedOut")


def create(execution: models.Execution, data: dict[str, Any]) -> models.Job:
    job = models.Job(id=str(uuid.uuid4()), account_id=execution.account_id, data=data)
    with models.CHANGED:
        stores.store(execution.account_id, execution.region).jobs[job.id] = job
    return job


def wait(job: models.Job, timeout: float, abandoned: Callable[[], bool]) -> dict[str, Any] | None:
    """The job's result, or None when it timed out or was abandoned (then it is TimedOut)."""
    deadline = time.monotonic() + timeout
    with models.CHANGED:
        while job.result is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or abandoned():
                job.status = "TimedOut"
                return None
            models.CHANGED.wait(min(remaining, 1.0))
        return job.result


def _job(context: RequestContext, job_id: str) -> models.Job:
    job = stores.store(context.account_id, context.region).jobs.get(job_id)
    if job is None:
        raise ServiceError("JobNotFoundException", f"Job with id {job_id} does not exist")
    return job


def _report(context: RequestContext, request: Request, status: str) -> dict[str, Any]:
    with models.CHANGED:
        job = _job(context, request["jobId"])
        if job.status in _RESULT_STATES:
            raise ServiceError(
                "InvalidJobStateException",
                f"Job {job.id} is in state {job.status} and cannot take another result",
            )
        job.status = status
        job.result = {**request, "outcome": status}
        models.CHANGED.notify_all()
    return {}


def put_job_success_result(context: RequestContext, request: Request) -> dict[str, Any]:
    return _report(context, request, "Succeeded")


def put_job_failure_result(context: RequestContext, request: Request) -> dict[str, Any]:
    return _report(context, request, "Failed")


def get_job_details(context: RequestContext, request: Request) -> dict[str, Any]:
    job = _job(context, request["jobId"])
    return {"jobDetails": {"id": job.id, "data": job.data, "accountId": job.account_id}}


def acknowledge_job(context: RequestContext, request: Request) -> dict[str, Any]:
    with models.CHANGED:
        job = _job(context, request["jobId"])
        if job.status == "Dispatched":
            job.status = "InProgress"
        job.nonce = request.get("nonce", "")
        return {"status": job.status}
