"""State-change events to the account's default EventBridge bus, as CodePipeline sends them.

Detail types "CodePipeline Pipeline Execution State Change", "CodePipeline Stage Execution State
Change" and "CodePipeline Action Execution State Change", source ``aws.codepipeline``, the
pipeline's ARN as resource and AWS's detail fields, sent through the kit's ordered sender
(:mod:`xrdeploy_local_cloud.kit.events`), so the engine never waits for EventBridge.
"""

from __future__ import annotations

import json
from typing import Any

from xrdeploy_local_cloud.codepipeline import models
from xrdeploy_local_cloud.codepipeline.execution_states import ActionStatus
from xrdeploy_local_cloud.kit import events as bus

PIPELINE = "CodePipeline Pipeline Execution State Change"
STAGE = "CodePipeline Stage Execution State Change"
ACTION = "CodePipeline Action Execution State Change"


def _base(execution: models.Execution, state: str) -> dict[str, Any]:
    return {
        "pipeline": execution.pipeline_name,
        "execution-id": execution.id,
        "start-time": execution.started.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "state": state,
        "version": float(execution.pipeline_version),
        "pipeline-execution-attempt": 1.0,
    }


def pipeline_changed(execution: models.Execution, state: str) -> None:
    detail = _base(execution, state)
    detail["execution-trigger"] = {
        "trigger-type": execution.trigger["triggerType"],
        "trigger-detail": execution.trigger.get("triggerDetail", ""),
    }
    _send(execution, PIPELINE, detail)


def stage_changed(execution: models.Execution, stage: str, state: str) -> None:
    _send(execution, STAGE, {**_base(execution, state), "stage": stage})


def action_changed(execution: models.Execution, run: models.ActionRun, state: str) -> None:
    type_id = run.declaration["actionTypeId"]
    detail = {
        **_base(execution, state),
        "stage": run.stage,
        "action": run.name,
        "region": execution.region,
        "type": {key: type_id[key] for key in ("owner", "provider", "category", "version")},
    }
    if run.input_artifacts:
        detail["input-artifacts"] = run.input_artifacts
    if run.output_artifacts:
        detail["output-artifacts"] = run.output_artifacts
    if run.status != ActionStatus.IN_PROGRESS:
        result: dict[str, str] = {"external-execution-state": run.status}
        for key, value in (
            ("external-execution-id", run.external_id),
            ("external-execution-url", run.external_url),
            ("external-execution-summary", run.summary),
            ("error-code", (run.error or {}).get("code")),
        ):
            if value:
                result[key] = value
        detail["execution-result"] = result
    _send(execution, ACTION, detail)


def _send(execution: models.Execution, detail_type: str, detail: dict[str, Any]) -> None:
    arn = (
        f"arn:aws:codepipeline:{execution.region}:{execution.account_id}:{execution.pipeline_name}"
    )
    entry = {
        "Source": "aws.codepipeline",
        "DetailType": detail_type,
        "Resources": [arn],
        "Detail": json.dumps(detail),
    }
    bus.put(execution.account_id, execution.region, entry)
