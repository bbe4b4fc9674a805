"""Stage rollback: a new execution (type ROLLBACK) that runs one stage again with the source
revisions, artifacts and variables of an earlier execution that succeeded in that stage.

As on AWS: the target must be a STANDARD execution of the pipeline's current version that
succeeded in the stage; the source stage cannot be rolled back; the automatic target (onSuccess
or onFailure result ROLLBACK) is the latest such execution.
"""

from __future__ import annotations

import copy
import uuid

from xrdeploy_local_cloud.codepipeline import execution_states as states
from xrdeploy_local_cloud.codepipeline import models
from xrdeploy_local_cloud.codepipeline.execution_states import StageStatus


def stage_index(execution: models.Execution, stage: str) -> int:
    names = [s["name"] for s in execution.declaration["stages"]]
    return names.index(stage)


def eligible(pipeline: models.Pipeline, stage: str, target: models.Execution) -> str | None:
    """Why ``target`` cannot be rolled back to in ``stage`` (None: it can)."""
    if target.execution_type != models.STANDARD:
        return f"Execution {target.id} is a rollback execution"
    if target.pipeline_version != pipeline.declaration["version"]:
        return f"Execution {target.id} ran an earlier version of the pipeline"
    run = target.stages.get(stage)
    if run is None or run.status != StageStatus.SUCCEEDED:
        return f"Execution {target.id} did not succeed in stage {stage}"
    return None


def target_for(
    pipeline: models.Pipeline, stage: str, failed: models.Execution
) -> models.Execution | None:
    """The latest execution (other than ``failed``) a rollback of ``stage`` may go back to."""
    with states.reading():
        for candidate in sorted(pipeline.executions, key=lambda e: e.started, reverse=True):
            if candidate is not failed and eligible(pipeline, stage, candidate) is None:
                return candidate
    return None


def new_execution(
    pipeline: models.Pipeline, target: models.Execution, stage: str, trigger: dict[str, str]
) -> models.Execution:
    """A rollback execution of ``stage`` to ``target``, recorded in the pipeline."""
    with states.changing():
        execution = models.Execution(
            id=str(uuid.uuid4()),
            account_id=target.account_id,
            region=target.region,
            pipeline_name=pipeline.name,
            pipeline_version=int(pipeline.declaration["version"]),
            declaration=copy.deepcopy(pipeline.declaration),
            trigger=trigger,
            variables=dict(target.variables),
            source_revisions=copy.deepcopy(target.source_revisions),
            artifacts=copy.deepcopy(target.artifacts),
            namespaces=copy.deepcopy(target.namespaces),
            execution_type=models.ROLLBACK,
            rollback_target=target.id,
        )
        pipeline.executions.append(execution)
    return execution
