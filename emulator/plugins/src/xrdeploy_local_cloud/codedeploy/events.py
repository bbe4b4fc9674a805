"""State-change events to the account's default EventBridge bus, as CodeDeploy sends them.

"CodeDeploy Deployment State-change Notification" (state START, SUCCESS, FAILURE or STOP) and
"CodeDeploy Instance State-change Notification" (START, SUCCESS, FAILURE), source
``aws.codedeploy``, the application and deployment group ARNs as resources (and the
instance's for instance events), AWS's detail fields: region, deploymentId, instanceGroupId
(the group's id), deploymentGroup, application, state (and instanceId). READY, a blue/green
state, never occurs here. :data:`sink` sends them; the service sets it to the kit's ordered
EventBridge sender (:mod:`xrdeploy_local_cloud.kit.events`; unset, as in unit tests, nothing is
sent).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from xrdeploy_local_cloud.codedeploy import model

DEPLOYMENT = "CodeDeploy Deployment State-change Notification"
INSTANCE = "CodeDeploy Instance State-change Notification"
# Event states of the API's deployment and instance statuses.
STATES = {"InProgress": "START", "Succeeded": "SUCCESS", "Failed": "FAILURE", "Stopped": "STOP"}
Sink = Callable[[str, str, dict[str, Any]], None]  # (account id, region, PutEvents entry)
sink: Sink | None = None


def _resources(state: model.RegionState, deployment: model.Deployment) -> list[str]:
    return [
        state.arn(f"deploymentgroup:{deployment.application_name}/{deployment.group_name}"),
        state.arn(f"application:{deployment.application_name}"),
    ]


def _detail(
    state: model.RegionState, deployment: model.Deployment, event_state: str
) -> dict[str, Any]:
    return {
        "region": state.region,
        "deploymentId": deployment.deployment_id,
        "instanceGroupId": deployment.group_id,
        "deploymentGroup": deployment.group_name,
        "application": deployment.application_name,
        "state": event_state,
    }


def deployment_changed(state: model.RegionState, deployment: model.Deployment, status: str) -> None:
    if status in STATES:
        _put(
            state,
            DEPLOYMENT,
            _resources(state, deployment),
            _detail(state, deployment, STATES[status]),
        )


def instance_changed(
    state: model.RegionState,
    deployment: model.Deployment,
    record: model.InstanceRecord,
    status: str,
) -> None:
    if status not in STATES:
        return  # Skipped/Pending instances send nothing
    detail = {**_detail(state, deployment, STATES[status]), "instanceId": record.instance_id}
    _put(state, INSTANCE, [*_resources(state, deployment), record.arn], detail)


def _put(
    state: model.RegionState, detail_type: str, resources: list[str], detail: dict[str, Any]
) -> None:
    if sink is None:
        return
    entry = {
        "Source": "aws.codedeploy",
        "DetailType": detail_type,
        "Resources": resources,
        "Detail": json.dumps(detail),
    }
    sink(state.account_id, state.region, entry)
