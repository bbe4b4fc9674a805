"""The Manual approval action: waits for PutApprovalResult with the token GetPipelineState shows.

Approved → the action succeeds; Rejected → it fails (and so do its stage and the execution); no
answer within the timeout (AWS: 7 days; ``XRDEPLOY_CODEPIPELINE_APPROVAL_TIMEOUT_SECONDS``
locally) → it fails. The notification to ``NotificationArn`` is not sent.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from xrdeploy_local_cloud.codepipeline import execution_states as states
from xrdeploy_local_cloud.codepipeline import models, settings
from xrdeploy_local_cloud.codepipeline.action_types import ActionContext, Outcome, failed
from xrdeploy_local_cloud.codepipeline.control import pipeline_of
from xrdeploy_local_cloud.codepipeline.execution_states import ActionStatus
from xrdeploy_local_cloud.codepipeline.stores import State
from xrdeploy_local_cloud.kit.errors import ServiceError


def run(context: ActionContext) -> Outcome:
    action_run = context.run
    timeout = settings.approval_timeout()
    deadline = time.monotonic() + timeout
    with states.changing():  # GetPipelineState shows the token from now on
        action_run.token = str(uuid.uuid4())
    with states.changing():
        while action_run.approval is None:
            remaining = deadline - time.monotonic()
            if context.abandoned():
                action_run.token = None
                return Outcome(ActionStatus.ABANDONED)
            if remaining <= 0:
                action_run.token = None
                return failed(f"The approval timed out after {timeout:g} seconds", "TimedOut")
            states.wait(min(remaining, 1.0))
        result = action_run.approval
        action_run.token = None
    summary = result.get("summary") or None
    if result["status"] == "Approved":
        return Outcome(ActionStatus.SUCCEEDED, summary=summary)
    return failed(f"Rejected by {action_run.updated_by}", "JobFailed", summary=summary)


def _check_declared(pipeline: models.Pipeline, stage: str, action: str) -> None:
    declared = next((s for s in pipeline.declaration["stages"] if s["name"] == stage), None)
    if declared is None:
        raise ServiceError("StageNotFoundException", f"Stage {stage} not found in {pipeline.name}")
    if not any(a["name"] == action for a in declared["actions"]):
        raise ServiceError("ActionNotFoundException", f"Action {action} not found in stage {stage}")


def put_approval_result(state: State, request: dict[str, Any]) -> dict[str, Any]:
    pipeline = pipeline_of(state, request["pipelineName"])
    stage, action = request["stageName"], request["actionName"]
    _check_declared(pipeline, stage, action)
    with states.changing():
        runs = [
            r
            for e in pipeline.executions
            for r in e.actions
            if r.stage == stage and r.name == action
        ]
        pending = next((r for r in runs if r.token == request["token"]), None)
        if pending is None:
            if runs and not any(r.token for r in runs):
                raise ServiceError(
                    "ApprovalAlreadyCompletedException",
                    f"The approval action {action} in stage {stage} is already completed",
                )
            raise ServiceError("InvalidApprovalTokenException", "The approval token is not valid")
        pending.updated_by = state.caller_arn
        pending.approval = dict(request["result"])
        return {"approvedAt": models.now()}
