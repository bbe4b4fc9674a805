"""Blue/green and Lambda/ECS calls on in-place deployments, GitHub tokens, external ids, and the
batch reads of deployment instances and application revisions."""

from __future__ import annotations

from typing import Any

import pytest

from xrdeploy_local_cloud.codedeploy import connections, control, deployments, model, waits
from xrdeploy_local_cloud.kit.errors import ServiceError

REVISION: dict[str, Any] = {
    "revisionType": "S3",
    "s3Location": {"bucket": "b", "key": "k.zip", "bundleType": "zip"},
}


@pytest.fixture
def state(monkeypatch: pytest.MonkeyPatch) -> model.RegionState:
    monkeypatch.setattr(control, "_check_role", lambda arn: None)
    state = model.RegionState(account_id="111111111111", region="us-west-2")
    control.create_application(state, {"applicationName": "app"})
    control.create_deployment_group(
        state, {"applicationName": "app", "deploymentGroupName": "g", "serviceRoleArn": "r"}
    )
    group = state.groups[("app", "g")]
    for deployment_id, status in (("d-RUNNING01", "InProgress"), ("d-DONE00001", "Succeeded")):
        deployment = model.Deployment(deployment_id, "app", "g", group.group_id, "c", REVISION)
        deployment.status = status
        deployment.instances["i-1"] = model.InstanceRecord("i-1", "arn:i-1", "t3.micro")
        state.deployments[deployment_id] = deployment
    state.deployments["d-CREATED01"] = model.Deployment(
        "d-CREATED01", "app", "g", group.group_id, "c", REVISION
    )
    return state


def _code(call: object, state: model.RegionState, request: dict[str, object]) -> str:
    with pytest.raises(ServiceError) as raised:
        call(state, request)  # type: ignore[operator]
    return raised.value.code


@pytest.mark.parametrize(
    ("call", "request_", "code"),
    [
        (waits.continue_deployment, {}, "DeploymentIdRequiredException"),
        (waits.continue_deployment, {"deploymentId": "d-NOPE"}, "DeploymentDoesNotExistException"),
        (
            waits.continue_deployment,
            {"deploymentId": "d-RUNNING01", "deploymentWaitType": "SOON"},
            "InvalidDeploymentWaitTypeException",
        ),
        (
            waits.continue_deployment,
            {"deploymentId": "d-DONE00001"},
            "DeploymentAlreadyCompletedException",
        ),
        (
            waits.continue_deployment,
            {"deploymentId": "d-RUNNING01"},
            "DeploymentIsNotInReadyStateException",
        ),
        (
            waits.continue_deployment,
            {"deploymentId": "d-RUNNING01", "deploymentWaitType": "TERMINATION_WAIT"},
            "UnsupportedActionForDeploymentTypeException",
        ),
        (
            waits.skip_wait_time_for_instance_termination,
            {"deploymentId": "d-CREATED01"},
            "DeploymentNotStartedException",
        ),
        (
            waits.skip_wait_time_for_instance_termination,
            {"deploymentId": "d-RUNNING01"},
            "UnsupportedActionForDeploymentTypeException",
        ),
        (
            waits.put_lifecycle_event_hook_execution_status,
            {"deploymentId": "d-RUNNING01", "status": "Pending"},
            "InvalidLifecycleEventHookExecutionStatusException",
        ),
        (
            waits.put_lifecycle_event_hook_execution_status,
            {"deploymentId": "d-RUNNING01", "status": "Succeeded"},
            "UnsupportedActionForDeploymentTypeException",
        ),
        (connections.delete_github_account_token, {}, "GitHubAccountTokenNameRequiredException"),
        (
            connections.delete_github_account_token,
            {"tokenName": "mine"},
            "GitHubAccountTokenDoesNotExistException",
        ),
        (
            connections.list_github_account_token_names,
            {"nextToken": "x"},
            "InvalidNextTokenException",
        ),
        (
            deployments.batch_get_deployment_instances,
            {"deploymentId": "d-RUNNING01"},
            "InstanceIdRequiredException",
        ),
        (
            deployments.batch_get_application_revisions,
            {"applicationName": "app"},
            "RevisionRequiredException",
        ),
        (
            deployments.batch_get_application_revisions,
            {"applicationName": "app", "revisions": [REVISION] * 26},
            "BatchLimitExceededException",
        ),
    ],
)
def test_each_call_answers_awss_error_for_an_in_place_deployment(
    state: model.RegionState, call: object, request_: dict[str, object], code: str
) -> None:
    assert _code(call, state, request_) == code


def test_what_the_local_cloud_has_none_of_lists_empty() -> None:
    state = model.RegionState()
    assert connections.list_github_account_token_names(state, {}) == {"tokenNameList": []}
    assert connections.delete_resources_by_external_id(state, {"externalId": "x"}) == {}


def test_batch_reads_answer_what_exists_and_name_what_does_not(state: model.RegionState) -> None:
    answer = deployments.batch_get_deployment_instances(
        state, {"deploymentId": "d-RUNNING01", "instanceIds": ["i-1", "i-2"]}
    )
    assert [s["instanceId"] for s in answer["instancesSummary"]] == ["i-1"]
    assert "i-2" in answer["errorMessage"]

    deployments.register_application_revision(
        state, {"applicationName": "app", "revision": REVISION, "description": "first"}
    )
    other = {**REVISION, "s3Location": {**REVISION["s3Location"], "key": "other.zip"}}
    revisions = deployments.batch_get_application_revisions(
        state, {"applicationName": "app", "revisions": [REVISION, other]}
    )
    [found] = revisions["revisions"]
    assert found["revisionLocation"] == REVISION
    assert found["genericRevisionInfo"]["description"] == "first"
    assert revisions["errorMessage"].startswith("1 of the revisions")
