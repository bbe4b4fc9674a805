"""What the engine shows: GetPipelineState, GetPipelineExecution, ListPipelineExecutions,
ListActionExecutions, in the API's shapes."""

from __future__ import annotations

from typing import Any

from xrdeploy_local_cloud.codepipeline import execution_states as states
from xrdeploy_local_cloud.codepipeline import lanes, models, transitions
from xrdeploy_local_cloud.codepipeline.condition_views import condition_states
from xrdeploy_local_cloud.codepipeline.control import pipeline_of
from xrdeploy_local_cloud.codepipeline.execution_states import ActionStatus, StageStatus
from xrdeploy_local_cloud.codepipeline.lookups import compact, execution_of, filtered_executions
from xrdeploy_local_cloud.codepipeline.source_s3 import source_actions
from xrdeploy_local_cloud.codepipeline.stores import State
from xrdeploy_local_cloud.kit import paging

Request = dict[str, Any]


def _latest_action_run(
    pipeline: models.Pipeline, stage: str, action: str
) -> models.ActionRun | None:
    runs = [
        r for e in pipeline.executions for r in e.actions if r.stage == stage and r.name == action
    ]
    return max(runs, key=lambda r: r.started, default=None)


def _action_state(pipeline: models.Pipeline, stage: str, action: dict[str, Any]) -> dict[str, Any]:
    state: dict[str, Any] = {"actionName": action["name"]}
    run = _latest_action_run(pipeline, stage, action["name"])
    if run is None:
        return state
    state["latestExecution"] = compact(
        {
            "actionExecutionId": run.action_execution_id,
            "status": run.status,
            "summary": run.summary,
            "lastStatusChange": run.updated,
            "token": run.token,
            "lastUpdatedBy": run.updated_by,
            "externalExecutionId": run.external_id,
            "externalExecutionUrl": run.external_url,
            "percentComplete": run.percent,
            "errorDetails": run.error,
        }
    )
    if (
        run.declaration["actionTypeId"]["category"] == "Source"
        and run.status == ActionStatus.SUCCEEDED
    ):
        state["currentRevision"] = {"revisionId": run.external_id or ""}
    return state


def _stage_state(pipeline: models.Pipeline, stage: dict[str, Any]) -> dict[str, Any]:
    name = stage["name"]
    state: dict[str, Any] = {
        "stageName": name,
        "inboundTransitionState": transitions.inbound_state(pipeline, name),
        "actionStates": [_action_state(pipeline, name, a) for a in stage["actions"]],
    }
    inbound = [e for e in map(pipeline.execution, lanes.waiting(pipeline, name)) if e is not None]
    if inbound:
        summaries = [{"pipelineExecutionId": e.id, "status": e.status} for e in inbound]
        state["inboundExecution"] = summaries[-1]
        state["inboundExecutions"] = summaries
    latest = pipeline.execution(pipeline.latest_in_stage.get(name, ""))
    if latest is not None and name in latest.stages:
        state["latestExecution"] = {
            "pipelineExecutionId": latest.id,
            "status": latest.stages[name].status,
        }
        if latest.execution_type == models.ROLLBACK:  # a standard one shows no type here
            state["latestExecution"]["type"] = models.ROLLBACK
        state.update(condition_states(latest, name))
    return state


def get_pipeline_state(state: State, request: Request) -> dict[str, Any]:
    pipeline = pipeline_of(state, request["name"])
    with states.reading():
        return {
            "pipelineName": pipeline.name,
            "pipelineVersion": pipeline.declaration["version"],
            "stageStates": [_stage_state(pipeline, s) for s in pipeline.declaration["stages"]],
            "created": pipeline.created,
            "updated": pipeline.updated,
        }


def _artifact_revisions(execution: models.Execution) -> list[dict[str, Any]]:
    revisions = []
    for action in source_actions(execution.declaration):
        pinned = execution.source_revisions.get(action["name"], {})
        if "revisionId" not in pinned:
            continue
        for artifact in action["outputArtifacts"]:
            revisions.append(
                compact(
                    {
                        "name": artifact["name"],
                        "revisionId": pinned["revisionId"],
                        "revisionSummary": pinned["summary"] or None,
                        "created": pinned["created"],
                    }
                )
            )
    return revisions


def _source_revisions(execution: models.Execution) -> list[dict[str, Any]]:
    return [
        compact(
            {
                "actionName": name,
                "revisionId": pinned["revisionId"],
                "revisionSummary": pinned["summary"] or None,
            }
        )
        for name, pinned in execution.source_revisions.items()
        if "revisionId" in pinned
    ]


def _rollback_metadata(execution: models.Execution) -> dict[str, str] | None:
    if execution.rollback_target is None:
        return None
    return {"rollbackTargetPipelineExecutionId": execution.rollback_target}


def get_pipeline_execution(state: State, request: Request) -> dict[str, Any]:
    pipeline, execution = execution_of(
        state, request["pipelineName"], request["pipelineExecutionId"]
    )
    with states.reading():
        return {
            "pipelineExecution": compact(
                {
                    "pipelineName": pipeline.name,
                    "pipelineVersion": execution.pipeline_version,
                    "pipelineExecutionId": execution.id,
                    "status": execution.status,
                    "statusSummary": execution.status_summary,
                    "artifactRevisions": _artifact_revisions(execution),
                    "variables": [
                        {"name": k, "resolvedValue": v} for k, v in execution.variables.items()
                    ],
                    "trigger": execution.trigger,
                    "executionMode": execution.mode,
                    "executionType": execution.execution_type,
                    "rollbackMetadata": _rollback_metadata(execution),
                }
            )
        }


def list_pipeline_executions(state: State, request: Request) -> dict[str, Any]:
    pipeline = pipeline_of(state, request["pipelineName"])
    succeeded_in = ((request.get("filter") or {}).get("succeededInStage") or {}).get("stageName")
    with states.reading():
        chosen = [
            e
            for e in reversed(pipeline.executions)
            if not succeeded_in
            or (succeeded_in in e.stages and e.stages[succeeded_in].status == StageStatus.SUCCEEDED)
        ]
        summaries = [
            compact(
                {
                    "pipelineExecutionId": e.id,
                    "status": e.status,
                    "statusSummary": e.status_summary,
                    "startTime": e.started,
                    "lastUpdateTime": e.updated,
                    "sourceRevisions": _source_revisions(e),
                    "trigger": e.trigger,
                    "stopTrigger": {"reason": e.stop_reason or ""} if e.stop else None,
                    "executionMode": e.mode,
                    "executionType": e.execution_type,
                    "rollbackMetadata": _rollback_metadata(e),
                }
            )
            for e in chosen
        ]
    page, token = paging.page(summaries, request)
    return compact({"pipelineExecutionSummaries": page, "nextToken": token})


def _action_detail(execution: models.Execution, run: models.ActionRun) -> dict[str, Any]:
    declaration = run.declaration
    return compact(
        {
            "pipelineExecutionId": execution.id,
            "actionExecutionId": run.action_execution_id,
            "pipelineVersion": execution.pipeline_version,
            "stageName": run.stage,
            "actionName": run.name,
            "startTime": run.started,
            "lastUpdateTime": run.updated,
            "updatedBy": run.updated_by,
            "status": run.status,
            "input": compact(
                {
                    "actionTypeId": declaration["actionTypeId"],
                    "configuration": declaration.get("configuration", {}),
                    "resolvedConfiguration": run.resolved_configuration,
                    "roleArn": declaration.get("roleArn"),
                    "region": declaration.get("region", execution.region),
                    "inputArtifacts": run.input_artifacts,
                    "namespace": declaration.get("namespace"),
                }
            ),
            "output": {
                "outputArtifacts": run.output_artifacts,
                "executionResult": compact(
                    {
                        "externalExecutionId": run.external_id,
                        "externalExecutionSummary": run.summary,
                        "externalExecutionUrl": run.external_url,
                        "errorDetails": run.error,
                    }
                ),
                "outputVariables": run.output_variables,
            },
        }
    )


def list_action_executions(state: State, request: Request) -> dict[str, Any]:
    executions = filtered_executions(state, request)
    with states.reading():
        details = [
            _action_detail(e, r)
            for e in executions
            for r in sorted(e.actions, key=lambda r: r.started, reverse=True)
        ]
    page, token = paging.page(details, request)
    return compact({"actionExecutionDetails": page, "nextToken": token})
