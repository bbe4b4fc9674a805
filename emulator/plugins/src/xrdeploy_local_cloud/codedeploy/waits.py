"""Calls that release a deployment from a wait, answered for the deployments the local cloud runs.

ContinueDeployment and SkipWaitTimeForInstanceTermination act on blue/green waits (traffic
rerouting held for READY_WAIT, original instances kept for TERMINATION_WAIT);
PutLifecycleEventHookExecutionStatus reports a Lambda or ECS hook function's result. The local
cloud runs EC2/on-premises in-place deployments only, which never wait and have no hook
executions, so each call validates its input as AWS does, then gives the error AWS gives for an
in-place deployment. Pure: no LocalStack.
"""

from __future__ import annotations

from typing import Any

from xrdeploy_local_cloud.codedeploy import control, model
from xrdeploy_local_cloud.codedeploy.model import RegionState
from xrdeploy_local_cloud.kit.errors import ServiceError

WAIT_TYPES = ("READY_WAIT", "TERMINATION_WAIT")
HOOK_STATUSES = ("Succeeded", "Failed")  # the only results a hook function may report
_IN_PLACE = (
    "{call} is not supported for deployment {deployment}: it is an in-place deployment on the "
    "Server compute platform."
)


def _active(state: RegionState, deployment_id: Any) -> model.Deployment:
    deployment = state.deployment(deployment_id)
    if deployment.status in model.FINAL_STATUSES:
        raise ServiceError(
            "DeploymentAlreadyCompletedException",
            f"The deployment {deployment.deployment_id} has already completed.",
        )
    return deployment


def continue_deployment(state: RegionState, request: dict[str, Any]) -> dict[str, Any]:
    wait_type = request.get("deploymentWaitType") or "READY_WAIT"
    if wait_type not in WAIT_TYPES:
        raise ServiceError(
            "InvalidDeploymentWaitTypeException",
            f"The wait type {wait_type} is invalid: use READY_WAIT or TERMINATION_WAIT.",
        )
    deployment = _active(state, request.get("deploymentId"))
    if wait_type == "TERMINATION_WAIT":
        raise ServiceError(
            "UnsupportedActionForDeploymentTypeException",
            _IN_PLACE.format(call="TERMINATION_WAIT", deployment=deployment.deployment_id),
        )
    raise ServiceError(
        "DeploymentIsNotInReadyStateException",
        f"The deployment {deployment.deployment_id} does not have a status of Ready and can't "
        "continue yet.",
    )


def skip_wait_time_for_instance_termination(
    state: RegionState, request: dict[str, Any]
) -> dict[str, Any]:
    deployment = _active(state, request.get("deploymentId"))
    if deployment.status == "Created":
        raise ServiceError(
            "DeploymentNotStartedException",
            f"The deployment {deployment.deployment_id} has not started.",
        )
    raise ServiceError(
        "UnsupportedActionForDeploymentTypeException",
        _IN_PLACE.format(
            call="SkipWaitTimeForInstanceTermination", deployment=deployment.deployment_id
        ),
    )


def put_lifecycle_event_hook_execution_status(
    state: RegionState, request: dict[str, Any]
) -> dict[str, Any]:
    deployment = state.deployment(request.get("deploymentId"))
    status = request.get("status")
    if status not in HOOK_STATUSES:
        raise ServiceError(
            "InvalidLifecycleEventHookExecutionStatusException",
            f"The result of a Lambda validation function must be Succeeded or Failed, not "
            f"{status}.",
        )
    raise ServiceError(
        "UnsupportedActionForDeploymentTypeException",
        _IN_PLACE.format(
            call="PutLifecycleEventHookExecutionStatus", deployment=deployment.deployment_id
        ),
    )


HANDLERS: dict[str, control.Handler] = {
    "ContinueDeployment": continue_deployment,
    "SkipWaitTimeForInstanceTermination": skip_wait_time_for_instance_termination,
    "PutLifecycleEventHookExecutionStatus": put_lifecycle_event_hook_execution_status,
}
