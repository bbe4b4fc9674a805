"""ListDeployActionExecutionTargets: the instances a CodeDeploy deploy action deployed to.

The action's deployment (its external execution id) is read from the local CodeDeploy API
(ListDeploymentTargets, BatchGetDeploymentTargets); each instance target becomes a target with
its lifecycle events. Actions of other types have no targets.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError
from localstack.aws.connect import connect_to

from xrdeploy_local_cloud.codepipeline import execution_states as states
from xrdeploy_local_cloud.codepipeline import models
from xrdeploy_local_cloud.codepipeline.control import pipeline_of
from xrdeploy_local_cloud.codepipeline.stores import State
from xrdeploy_local_cloud.kit import paging
from xrdeploy_local_cloud.kit.errors import ServiceError

Request = dict[str, Any]


def _run(state: State, request: Request) -> tuple[models.Execution, models.ActionRun]:
    wanted = request["actionExecutionId"]
    if request.get("pipelineName"):
        pipelines = [pipeline_of(state, request["pipelineName"])]
    else:
        pipelines = list(state.store.pipelines.values())
    with states.reading():
        for pipeline in pipelines:
            for execution in pipeline.executions:
                for run in execution.actions:
                    if run.action_execution_id == wanted:
                        return execution, run
    raise ServiceError(
        "ActionExecutionNotFoundException", f"Action execution {wanted} was not found"
    )


def target_view(target: dict[str, Any]) -> dict[str, Any]:
    """A CodeDeploy instance target in ListDeployActionExecutionTargets' shape."""
    instance = target["instanceTarget"]
    events = [
        {
            key: value
            for key, value in {
                "name": event["lifecycleEventName"],
                "status": event.get("status"),
                "startTime": event.get("startTime"),
                "endTime": event.get("endTime"),
                "context": {"message": event["diagnostics"].get("message", "")}
                if event.get("diagnostics")
                else None,
            }.items()
            if value is not None
        }
        for event in instance.get("lifecycleEvents", [])
    ]
    times = [e["startTime"] for e in events if "startTime" in e]
    ends = [e["endTime"] for e in events if "endTime" in e]
    view: dict[str, Any] = {
        "targetId": instance["targetId"],
        "targetType": "EC2",
        "status": instance.get("status"),
        "events": events,
    }
    if times:
        view["startTime"] = min(times)
    if ends and len(ends) == len(events):
        view["endTime"] = max(ends)
    return view


def list_deploy_action_execution_targets(state: State, request: Request) -> dict[str, Any]:
    execution, run = _run(state, request)
    type_id = run.declaration["actionTypeId"]
    if (type_id["category"], type_id["provider"]) != (
        "Deploy",
        "CodeDeploy",
    ) or not run.external_id:
        return {"targets": []}
    # CodePipeline's own view of the deployment it created, in the pipeline's account.
    codedeploy = connect_to(
        region_name=run.declaration.get("region", execution.region),
        aws_access_key_id=execution.account_id,
        aws_secret_access_key="test",
    ).codedeploy
    try:
        ids = codedeploy.list_deployment_targets(deploymentId=run.external_id)["targetIds"]
        found = (
            codedeploy.batch_get_deployment_targets(deploymentId=run.external_id, targetIds=ids)[
                "deploymentTargets"
            ]
            if ids
            else []
        )
    except ClientError:
        return {"targets": []}  # the deployment is gone (its application was deleted)
    targets = [target_view(t) for t in found if "instanceTarget" in t]
    for rule in request.get("filters") or []:
        if rule.get("name") == "TARGET_STATUS":
            targets = [t for t in targets if t["status"] in (rule.get("values") or [])]
    listed, token = paging.page(targets, request)
    response: dict[str, Any] = {"targets": listed}
    if token:
        response["nextToken"] = token
    return response
