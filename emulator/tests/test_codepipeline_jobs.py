"""A custom action's job through the job worker calls: poll, acknowledge, report."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from localstack.aws.api import CommonServiceException

from xrdeploy_local_cloud.codepipeline import jobs, models, stores

ACCOUNT, REGION = "111122223333", "eu-west-1"
TYPE_ID = {"category": "Build", "owner": "Custom", "provider": "Unit", "version": "1"}


def _state() -> stores.State:
    return stores.state_for(ACCOUNT, REGION)


@pytest.fixture
def job() -> Iterator[models.Job]:
    store = stores.store(ACCOUNT, REGION)
    store.custom_action_types[("Build", "Unit", "1")] = models.CustomActionType({"id": TYPE_ID})
    queued = models.Job(
        id=str(uuid.uuid4()),
        account_id=ACCOUNT,
        data={"actionTypeId": TYPE_ID, "actionConfiguration": {"configuration": {"P": "web"}}},
        status="Queued",
    )
    store.jobs[queued.id] = queued
    yield queued
    del store.jobs[queued.id]


def _poll(query: dict[str, str]) -> list[dict[str, Any]]:
    request = {"actionTypeId": TYPE_ID, "maxBatchSize": 5, "queryParam": query}
    return list(jobs.poll_for_jobs(_state(), request)["jobs"])


def _code(call: Any, *args: Any) -> str:
    with pytest.raises(CommonServiceException) as raised:
        call(*args)
    return str(raised.value.code)


def test_a_worker_polls_acknowledges_and_reports(job: models.Job) -> None:
    assert _poll({"P": "other"}) == []
    assert _code(jobs.acknowledge_job, _state(), {"jobId": job.id, "nonce": "x"}) == (
        "InvalidNonceException"
    )
    [polled] = _poll({"P": "web"})
    assert polled["id"] == job.id and job.status == "Dispatched"
    assert _poll({"P": "web"}) == []  # dispatched once
    assert _code(jobs.acknowledge_job, _state(), {"jobId": job.id, "nonce": "x"}) == (
        "InvalidNonceException"
    )
    answer = jobs.acknowledge_job(_state(), {"jobId": job.id, "nonce": polled["nonce"]})
    assert answer == {"status": "InProgress"}
    jobs.put_job_success_result(_state(), {"jobId": job.id})
    assert job.result is not None and job.result["outcome"] == "Succeeded"
    assert _code(jobs.put_job_success_result, _state(), {"jobId": job.id}) == (
        "InvalidJobStateException"
    )


def test_a_queued_job_takes_no_result(job: models.Job) -> None:
    assert _code(jobs.put_job_success_result, _state(), {"jobId": job.id}) == (
        "InvalidJobStateException"
    )


def test_polling_an_unknown_type_is_refused() -> None:
    request = {"actionTypeId": {**TYPE_ID, "provider": "Nobody"}}
    assert _code(jobs.poll_for_jobs, _state(), request) == "ActionTypeNotFoundException"
