"""Starting (by API, by EventBridge, at creation), stopping and retrying executions."""

from __future__ import annotations

import copy
import uuid
from typing import Any

from localstack.aws.api import ServiceException

from xrdeploy_local_cloud.codepipeline import control, engine, models, rollback, source_s3
from xrdeploy_local_cloud.codepipeline import execution_states as states
from xrdeploy_local_cloud.codepipeline.control import pipeline_of
from xrdeploy_local_cloud.codepipeline.errors import validation
from xrdeploy_local_cloud.codepipeline.execution_states import (
    PipelineStatus,
    StageStatus,
)
from xrdeploy_local_cloud.codepipeline.lookups import execution_of, stage_index
from xrdeploy_local_cloud.codepipeline.stores import State
from xrdeploy_local_cloud.kit.errors import ServiceError

Request = dict[str, Any]


def trigger_of(state: State) -> dict[str, str]:
    """How an execution was started: by an EventBridge rule (its target sends the rule's ARN
    along) or by a StartPipelineExecution call (the caller's ARN), as ListPipelineExecutions
    reports it."""
    if state.event_rule_arn:
        return {"triggerType": "CloudWatchEvent", "triggerDetail": state.event_rule_arn}
    return {"triggerType": "StartPipelineExecution", "triggerDetail": state.caller_arn or ""}


def variables_for(
    declaration: dict[str, Any], given: list[dict[str, str]] | None
) -> dict[str, str]:
    declared = {v["name"]: v for v in declaration.get("variables", [])}
    values = {name: v["defaultValue"] for name, v in declared.items() if "defaultValue" in v}
    for item in given or []:
        if item["name"] not in declared:
            raise validation(f"Variable {item['name']} is not declared in the pipeline")
        values[item["name"]] = item["value"]
    missing = sorted(set(declared) - set(values))
    if missing:
        raise validation(f"No value given for the pipeline variables {', '.join(missing)}")
    return values


def _overrides(request: Request) -> dict[str, str]:
    overrides = {}
    for item in request.get("sourceRevisions") or []:
        if item["revisionType"] != "S3_OBJECT_VERSION_ID":
            raise validation(f"Revision type {item['revisionType']} does not apply to S3 sources")
        overrides[item["actionName"]] = item["revisionValue"]
    return overrides


def start_pipeline_execution(state: State, request: Request) -> dict[str, Any]:
    pipeline = pipeline_of(state, request["name"])
    token = request.get("clientRequestToken")
    if token and token in pipeline.started_by_token:  # a retried request starts nothing new
        return {"pipelineExecutionId": pipeline.started_by_token[token]}
    variables = variables_for(pipeline.declaration, request.get("variables"))
    execution = start_execution(state, pipeline, trigger_of(state), variables, _overrides(request))
    if token:
        pipeline.started_by_token[token] = execution.id
    return {"pipelineExecutionId": execution.id}


def create_pipeline(state: State, request: Request) -> dict[str, Any]:
    """CreatePipeline, and the execution AWS starts for every new pipeline (trigger
    ``CreatePipeline``): it runs the source's current revision, and fails at the source when
    there is none yet."""
    response = control.create_pipeline(state, request)
    pipeline = pipeline_of(state, request["pipeline"]["name"])
    try:
        variables = variables_for(pipeline.declaration, None)
    except ServiceException:
        return response  # a variable without a default: no value to start with
    trigger = {"triggerType": "CreatePipeline", "triggerDetail": state.caller_arn or ""}
    start_execution(state, pipeline, trigger, variables, {})
    return response


def start_execution(
    state: State,
    pipeline: models.Pipeline,
    trigger: dict[str, str],
    variables: dict[str, str],
    overrides: dict[str, str],
) -> models.Execution:
    declaration = copy.deepcopy(pipeline.declaration)
    execution = models.Execution(
        id=str(uuid.uuid4()),
        account_id=state.account_id,
        region=state.region,
        pipeline_name=pipeline.name,
        pipeline_version=int(declaration["version"]),
        declaration=declaration,
        trigger=trigger,
        variables=variables,
        source_revisions={},
    )
    source_s3.pin_revisions(execution, overrides)
    with states.changing():
        pipeline.executions.append(execution)
    engine.start(pipeline, execution)
    return execution


def stop_pipeline_execution(state: State, request: Request) -> dict[str, Any]:
    _, execution = execution_of(state, request["pipelineName"], request["pipelineExecutionId"])
    with states.changing():
        abandon = bool(request.get("abandon"))
        # A stop-and-wait may be escalated to abandon; any other second request is refused.
        if execution.status == PipelineStatus.STOPPING and (
            execution.stop == "abandon" or not abandon
        ):
            raise ServiceError(
                "DuplicatedStopRequestException",
                f"Execution {execution.id} is already in a Stopping state",
            )
        if execution.status not in (PipelineStatus.IN_PROGRESS, PipelineStatus.STOPPING):
            raise ServiceError(
                "PipelineExecutionNotStoppableException",
                f"Unable to stop pipeline execution {execution.id}: it is {execution.status}",
            )
        states.request_stop(execution, abandon, request.get("reason"))
    return {"pipelineExecutionId": execution.id}


def retry_stage_execution(state: State, request: Request) -> dict[str, Any]:
    pipeline, execution = execution_of(
        state, request["pipelineName"], request["pipelineExecutionId"]
    )
    stage = request["stageName"]
    index = stage_index(pipeline.name, execution.declaration, stage)
    with states.changing():
        stage_run = execution.stages.get(stage)
        if (
            execution.running
            or execution.status not in (PipelineStatus.FAILED, PipelineStatus.STOPPED)
            or stage_run is None
            or stage_run.status not in (StageStatus.FAILED, StageStatus.STOPPED)
        ):
            raise ServiceError(
                "StageNotRetryableException",
                f"Stage {stage} of execution {execution.id} cannot be retried",
            )
        if pipeline.declaration["version"] != execution.pipeline_version:
            raise ServiceError(
                "NotLatestPipelineExecutionException",
                "The pipeline was updated since this execution started",
            )
        states.retry(execution)
    engine.start(pipeline, execution, index, request["retryMode"])
    return {"pipelineExecutionId": execution.id}


def rollback_stage(state: State, request: Request) -> dict[str, Any]:
    """RollbackStage: a ROLLBACK execution of the stage with the target execution's revisions."""
    pipeline, target = execution_of(
        state, request["pipelineName"], request["targetPipelineExecutionId"]
    )
    stage = request["stageName"]
    index = stage_index(pipeline.name, pipeline.declaration, stage)
    if index == 0:
        raise ServiceError("UnableToRollbackStageException", "A source stage cannot be rolled back")
    with states.changing():
        if target.pipeline_version != pipeline.declaration["version"]:
            raise ServiceError(
                "PipelineExecutionOutdatedException",
                f"Execution {target.id} ran an earlier version of the pipeline",
            )
        refused = rollback.eligible(pipeline, stage, target)
        if refused is None and stage in pipeline.occupants:
            refused = f"Stage {stage} is running execution {pipeline.occupants[stage]}"
        if refused is not None:
            raise ServiceError("UnableToRollbackStageException", refused)
    trigger = {"triggerType": "ManualRollback", "triggerDetail": state.caller_arn or ""}
    execution = rollback.new_execution(pipeline, target, stage, trigger)
    engine.start(pipeline, execution, index)
    return {"pipelineExecutionId": execution.id}


def override_stage_condition(state: State, request: Request) -> dict[str, Any]:
    """OverrideStageCondition: the stage's BEFORE_ENTRY or ON_SUCCESS conditions still being
    evaluated for that execution are given up and count as met."""
    pipeline, execution = execution_of(
        state, request["pipelineName"], request["pipelineExecutionId"]
    )
    stage, kind = request["stageName"], request["conditionType"]
    stage_index(pipeline.name, pipeline.declaration, stage)
    with states.changing():
        run = execution.condition_runs.get((stage, kind))
        if run is None or not states.overridable(run):
            raise ServiceError(
                "ConditionNotOverridableException",
                f"No {kind} condition of stage {stage} is in progress for execution {execution.id}",
            )
        states.request_override(run)
    return {}
