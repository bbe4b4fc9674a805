"""What a request names: one execution of a pipeline, or the executions a list filter picks;
and the API's way of leaving out a field that has no value."""

from __future__ import annotations

from typing import Any

from xrdeploy_local_cloud.codepipeline import execution_states as states
from xrdeploy_local_cloud.codepipeline import models
from xrdeploy_local_cloud.codepipeline.control import pipeline_of
from xrdeploy_local_cloud.codepipeline.errors import execution_not_found
from xrdeploy_local_cloud.codepipeline.stores import State
from xrdeploy_local_cloud.kit.errors import ServiceError


def execution_of(
    state: State, name: str, execution_id: str
) -> tuple[models.Pipeline, models.Execution]:
    pipeline = pipeline_of(state, name)
    execution = pipeline.execution(execution_id)
    if execution is None:
        raise execution_not_found(name, execution_id)
    return pipeline, execution


def stage_index(pipeline: str, declaration: dict[str, Any], stage: str) -> int:
    """Where ``stage`` stands in a pipeline's declaration (AWS: StageNotFoundException)."""
    names = [s["name"] for s in declaration["stages"]]
    if stage not in names:
        raise ServiceError(
            "StageNotFoundException", f"Stage {stage} not found in pipeline {pipeline}"
        )
    return names.index(stage)


def filtered_executions(state: State, request: dict[str, Any]) -> list[models.Execution]:
    """The executions a List*Executions request's ``filter.pipelineExecutionId`` picks (all
    without one), newest first."""
    pipeline = pipeline_of(state, request["pipelineName"])
    wanted = (request.get("filter") or {}).get("pipelineExecutionId")
    if wanted and pipeline.execution(wanted) is None:
        raise execution_not_found(pipeline.name, wanted)
    with states.reading():
        return [e for e in reversed(pipeline.executions) if not wanted or e.id == wanted]


def compact(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}
