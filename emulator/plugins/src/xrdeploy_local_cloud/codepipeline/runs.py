"""Starting (by API, by EventBridge, at creation), stopping and retrying executions."""

from __future__ import annotations

import copy
import uuid
from typing import Any

from localstack.aws.api import RequestContext, ServiceException

from xrdeploy_local_cloud.codepipeline import (
    control,
    engine,
    git_sources,
    models,
    rollback,
    source_s3,
)
from xrdeploy_local_cloud.codepipeline.control import pipeline_of
from xrdeploy_local_cloud.codepipeline.errors import execution_not_found, validation
from xrdeploy_local_cloud.guards import trust
from xrdeploy_local_cloud.kit.errors import ServiceError

Request = dict[str, Any]
EVENTS_PRINCIPALS = ("events", "events.amazonaws.com")


def trigger_of(context: RequestContext) -> dict[str, str]:
    """How an execution was started: by an EventBridge rule (its target sends the rule's ARN
    along) or by a StartPipelineExecution call (the caller's ARN), as ListPipelineExecutions
    reports it."""
    params = context.internal_request_params
    if params and params.get("service_principal") in EVENTS_PRINCIPALS and params.get("source_arn"):
        return {"triggerType": "CloudWatchEvent", "triggerDetail": str(params["source_arn"])}
    caller = trust.caller_of(context)
    return {"triggerType": "StartPipelineExecution", "triggerDetail": caller.arn if caller else ""}


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
        if item["revisionType"] not in ("S3_OBJECT_VERSION_ID", "COMMIT_ID"):
            raise validation(f"Revision type {item['revisionType']} does not apply to the source")
        overrides[item["actionName"]] = item["revisionValue"]
    return overrides


def start_pipeline_execution(context: RequestContext, request: Request) -> dict[str, Any]:
    pipeline = pipeline_of(context, request["name"])
    token = request.get("clientRequestToken")
    if token and token in pipeline.started_by_token:  # a retried request starts nothing new
        return {"pipelineExecutionId": pipeline.started_by_token[token]}
    variables = variables_for(pipeline.declaration, request.get("variables"))
    execution = start_execution(
        context, pipeline, trigger_of(context), variables, _overrides(request)
    )
    if token:
        pipeline.started_by_token[token] = execution.id
    return {"pipelineExecutionId": execution.id}


def create_pipeline(context: RequestContext, request: Request) -> dict[str, Any]:
    """CreatePipeline, and the execution AWS starts for every new pipeline (trigger
    ``CreatePipeline``): it runs the source's current revision, and fails at the source when
    there is none yet."""
    response = control.create_pipeline(context, request)
    pipeline = pipeline_of(context, request["pipeline"]["name"])
    try:
        variables = variables_for(pipeline.declaration, None)
    except ServiceException:
        return response  # a variable without a default: no value to start with
    caller = trust.caller_of(context)
    trigger = {"triggerType": "CreatePipeline", "triggerDetail": caller.arn if caller else ""}
    start_execution(context, pipeline, trigger, variables, {})
    return response


def start_execution(
    context: RequestContext,
    pipeline: models.Pipeline,
    trigger: dict[str, str],
    variables: dict[str, str],
    overrides: dict[str, str],
) -> models.Execution:
    declaration = copy.deepcopy(pipeline.declaration)
    execution = models.Execution(
        id=str(uuid.uuid4()),
        account_id=context.account_id,
        region=context.region,
        pipeline_name=pipeline.name,
        pipeline_version=int(declaration["version"]),
        declaration=declaration,
        trigger=trigger,
        variables=variables,
        source_revisions={},
    )
    source_s3.pin_revisions(execution, overrides)
    git_sources.pin_revisions(execution, overrides)
    with models.CHANGED:
        pipeline.executions.append(execution)
        models.CHANGED.notify_all()
    engine.start(pipeline, execution)
    return execution


def _execution(
    context: RequestContext, name: str, execution_id: str
) -> tuple[models.Pipeline, models.Execution]:
    pipeline = pipeline_of(context, name)
    execution = pipeline.execution(execution_id)
    if execution is None:
        raise execution_not_found(name, execution_id)
    return pipeline, execution


def stop_pipeline_execution(context: RequestContext, request: Request) -> dict[str, Any]:
    _, execution = _execution(context, request["pipelineName"], request["pipelineExecutionId"])
    with models.CHANGED:
        abandon = bool(request.get("abandon"))
        # A stop-and-wait may be escalated to abandon; any other second request is refused.
        if execution.status == models.STOPPING and (execution.stop == "abandon" or not abandon):
            raise ServiceError(
                "DuplicatedStopRequestException",
                f"Execution {execution.id} is already in a Stopping state",
            )
        if execution.status not in (models.IN_PROGRESS, models.STOPPING):
            raise ServiceError(
                "PipelineExecutionNotStoppableException",
                f"Unable to stop pipeline execution {execution.id}: it is {execution.status}",
            )
        execution.stop = "abandon" if abandon else "wait"
        execution.stop_reason = request.get("reason") or execution.stop_reason
        execution.status = models.STOPPING
        execution.touch()
        models.CHANGED.notify_all()
    return {"pipelineExecutionId": execution.id}


def retry_stage_execution(context: RequestContext, request: Request) -> dict[str, Any]:
    pipeline, execution = _execution(
        context, request["pipelineName"], request["pipelineExecutionId"]
    )
    stage = request["stageName"]
    names = [s["name"] for s in execution.declaration["stages"]]
    if stage not in names:
        raise ServiceError(
            "StageNotFoundException", f"Stage {stage} not found in pipeline {pipeline.name}"
        )
    with models.CHANGED:
        stage_run = execution.stages.get(stage)
        if (
            execution.running
            or execution.status not in (models.FAILED, models.STOPPED)
            or stage_run is None
            or stage_run.status not in (models.FAILED, models.STOPPED)
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
        execution.status = models.IN_PROGRESS
        execution.stop = None
        execution.stop_reason = None
        execution.status_summary = None
        execution.touch()
    engine.start(pipeline, execution, names.index(stage), request["retryMode"])
    return {"pipelineExecutionId": execution.id}


def rollback_stage(context: RequestContext, request: Request) -> dict[str, Any]:
    """RollbackStage: a ROLLBACK execution of the stage with the target execution's revisions."""
    pipeline, target = _execution(
        context, request["pipelineName"], request["targetPipelineExecutionId"]
    )
    stage = request["stageName"]
    names = [s["name"] for s in pipeline.declaration["stages"]]
    if stage not in names:
        raise ServiceError(
            "StageNotFoundException", f"Stage {stage} not found in pipeline {pipeline.name}"
        )
    if names.index(stage) == 0:
        raise ServiceError("UnableToRollbackStageException", "A source stage cannot be rolled back")
    with models.CHANGED:
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
    caller = trust.caller_of(context)
    trigger = {"triggerType": "ManualRollback", "triggerDetail": caller.arn if caller else ""}
    execution = rollback.new_execution(pipeline, target, stage, trigger)
    engine.start(pipeline, execution, names.index(stage))
    return {"pipelineExecutionId": execution.id}


def override_stage_condition(context: RequestContext, request: Request) -> dict[str, Any]:
    """OverrideStageCondition: the stage's BEFORE_ENTRY or ON_SUCCESS conditions still being
    evaluated for that execution are given up and count as met."""
    pipeline, execution = _execution(
        context, request["pipelineName"], request["pipelineExecutionId"]
    )
    stage, kind = request["stageName"], request["conditionType"]
    if stage not in [s["name"] for s in pipeline.declaration["stages"]]:
        raise ServiceError(
            "StageNotFoundException", f"Stage {stage} not found in pipeline {pipeline.name}"
        )
    with models.CHANGED:
        run = execution.condition_runs.get((stage, kind))
        if run is None or run.status != models.IN_PROGRESS or run.overridden:
            raise ServiceError(
                "ConditionNotOverridableException",
                f"No {kind} condition of stage {stage} is in progress for execution {execution.id}",
            )
        run.overridden = True
        models.CHANGED.notify_all()
    return {}
