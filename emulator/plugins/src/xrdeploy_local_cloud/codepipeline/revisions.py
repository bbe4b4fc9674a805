"""PutActionRevision: a source action's new revision starts an execution that runs it.

As on AWS: the pipeline, stage and action must exist (``PipelineNotFoundException``,
``StageNotFoundException``, ``ActionNotFoundException``) and the action is a source action.
A revision that the pipeline's latest execution already runs for that action is no new
revision (``newRevision`` false, no execution started); any other starts an execution
(trigger ``PutActionRevision``) pinned to it. The local S3 source takes the ``revisionId``
as the object's version id.
"""

from __future__ import annotations

from typing import Any

from xrdeploy_local_cloud.codepipeline import execution_states as states
from xrdeploy_local_cloud.codepipeline import models, runs
from xrdeploy_local_cloud.codepipeline.control import pipeline_of
from xrdeploy_local_cloud.codepipeline.errors import validation
from xrdeploy_local_cloud.codepipeline.stores import State
from xrdeploy_local_cloud.kit.errors import ServiceError

Request = dict[str, Any]


def _source_action(pipeline: models.Pipeline, stage: str, action: str) -> dict[str, Any]:
    stages = {s["name"]: s for s in pipeline.declaration["stages"]}
    if stage not in stages:
        raise ServiceError(
            "StageNotFoundException", f"Stage {stage} not found in pipeline {pipeline.name}"
        )
    declared = next((a for a in stages[stage]["actions"] if a["name"] == action), None)
    if declared is None:
        raise ServiceError("ActionNotFoundException", f"Action {action} not found in stage {stage}")
    if declared["actionTypeId"]["category"] != "Source":
        raise validation(f"Action {action} is not a source action")
    return dict(declared)


def _current(pipeline: models.Pipeline, action: str) -> models.Execution | None:
    with states.reading():
        standard = [e for e in pipeline.executions if e.execution_type == models.STANDARD]
    return standard[-1] if standard else None


def put_action_revision(state: State, request: Request) -> dict[str, Any]:
    pipeline = pipeline_of(state, request["pipelineName"])
    action = _source_action(pipeline, request["stageName"], request["actionName"])["name"]
    revision = request["actionRevision"]["revisionId"]
    latest = _current(pipeline, action)
    if latest is not None and latest.source_revisions.get(action, {}).get("revisionId") == revision:
        return {"newRevision": False, "pipelineExecutionId": latest.id}
    trigger = {"triggerType": "PutActionRevision", "triggerDetail": state.caller_arn or ""}
    variables = runs.variables_for(pipeline.declaration, None)
    execution = runs.start_execution(state, pipeline, trigger, variables, {action: revision})
    return {"newRevision": True, "pipelineExecutionId": execution.id}
