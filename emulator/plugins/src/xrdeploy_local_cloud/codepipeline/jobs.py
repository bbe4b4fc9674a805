"""Jobs of Lambda invoke actions and custom actions, and the job worker API.

Each invocation of the function gets a job (a continuation gets a new one). The function
answers with PutJobSuccessResult (optionally with a ``continuationToken``: CodePipeline then
invokes it again) or PutJobFailureResult; GetJobDetails and AcknowledgeJob work as on AWS.
A job that has a result or has timed out refuses another one (``InvalidJobStateException``).
A custom action's job waits ``Queued`` until a job worker's PollForJobs dispatches it (with a
nonce that AcknowledgeJob must repeat).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

from xrdeploy_local_cloud.codepipeline import execution_states as states
from xrdeploy_local_cloud.codepipeline import models, stores
from xrdeploy_local_cloud.codepipeline.errors import validation
from xrdeploy_local_cloud.codepipeline.stores import State
from xrdeploy_local_cloud.kit.errors import ServiceError

Request = dict[str, Any]
_RESULT_STATES = ("Succeeded", "Failed", "TimedOut")


def create(
    execution: models.Execution, data: dict[str, Any], status: str = "Dispatched"
) -> models.Job:
    job = models.Job(
        id=str(uuid.uuid4()), account_id=execution.account_id, data=data, status=status
    )
    with states.changing():
        stores.store(execution.account_id, execution.region).jobs[job.id] = job
    return job


def wait(job: models.Job, timeout: float, abandoned: Callable[[], bool]) -> dict[str, Any] | None:
    """The job's result, or None when it timed out or was abandoned (then it is TimedOut)."""
    deadline = time.monotonic() + timeout
    with states.changing():
        while job.result is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or abandoned():
                job.status = "TimedOut"
                return None
            states.wait(min(remaining, 1.0))
        return job.result


def _job(state: State, job_id: str) -> models.Job:
    job = state.store.jobs.get(job_id)
    if job is None:
        raise ServiceError("JobNotFoundException", f"Job with id {job_id} does not exist")
    return job


def _report(state: State, request: Request, status: str) -> dict[str, Any]:
    with states.changing():
        job = _job(state, request["jobId"])
        if job.status in _RESULT_STATES or job.status == "Queued":  # queued: not yet polled
            raise ServiceError(
                "InvalidJobStateException",
                f"Job {job.id} is in state {job.status} and cannot take a result",
            )
        job.status = status
        job.result = {**request, "outcome": status}
    return {}


def put_job_success_result(state: State, request: Request) -> dict[str, Any]:
    return _report(state, request, "Succeeded")


def put_job_failure_result(state: State, request: Request) -> dict[str, Any]:
    return _report(state, request, "Failed")


def get_job_details(state: State, request: Request) -> dict[str, Any]:
    job = _job(state, request["jobId"])
    return {"jobDetails": {"id": job.id, "data": job.data, "accountId": job.account_id}}


def acknowledge_job(state: State, request: Request) -> dict[str, Any]:
    with states.changing():
        job = _job(state, request["jobId"])
        # A custom action's job has a nonce once PollForJobs dispatched it, and none before.
        if job.status == "Queued" or (job.nonce and request.get("nonce") != job.nonce):
            raise ServiceError("InvalidNonceException", f"The nonce for job {job.id} is not valid")
        if job.status == "Dispatched":
            job.status = "InProgress"
        job.nonce = request.get("nonce", "")
        return {"status": job.status}


def _matches(job: models.Job, request: Request) -> bool:
    if job.status != "Queued" or job.data["actionTypeId"] != request["actionTypeId"]:
        return False
    configuration = job.data["actionConfiguration"]["configuration"]
    return all(configuration.get(k) == v for k, v in (request.get("queryParam") or {}).items())


def poll_for_jobs(state: State, request: Request) -> dict[str, Any]:
    """PollForJobs: up to ``maxBatchSize`` (default 1) queued jobs of the custom action type,
    oldest first, each now ``Dispatched`` with a nonce."""
    type_id = request["actionTypeId"]
    if (
        type_id.get("owner") != "Custom"
        or stores.custom_type(state.account_id, state.region, type_id) is None
    ):
        raise ServiceError(
            "ActionTypeNotFoundException",
            f"Action type {type_id.get('category')}/{type_id.get('owner')}/"
            f"{type_id.get('provider')}/{type_id.get('version')} does not exist",
        )
    if len(request.get("queryParam") or {}) > 1:
        raise validation("queryParam takes at most one property")
    size = int(request.get("maxBatchSize") or 1)
    with states.changing():
        queued = [j for j in state.store.jobs.values() if _matches(j, request)]
        answer = []
        for job in queued[:size]:
            job.status, job.nonce = "Dispatched", str(uuid.uuid4())
            answer.append(
                {"id": job.id, "data": job.data, "nonce": job.nonce, "accountId": job.account_id}
            )
    return {"jobs": answer}
