"""DisableStageTransition and EnableStageTransition, with the API reference's validation."""

from __future__ import annotations

import re
from typing import Any

from xrdeploy_local_cloud.codepipeline import models, transitions
from xrdeploy_local_cloud.codepipeline.control import pipeline_of
from xrdeploy_local_cloud.codepipeline.errors import validation
from xrdeploy_local_cloud.codepipeline.stores import State
from xrdeploy_local_cloud.kit.errors import ServiceError

Request = dict[str, Any]
_REASON = re.compile(r"[a-zA-Z0-9!@ \(\)\.\*\?\-]{1,300}")


def _target(state: State, request: Request) -> tuple[models.Pipeline, str, str]:
    kind = request["transitionType"]
    if kind not in (transitions.INBOUND, transitions.OUTBOUND):
        raise validation(
            f"1 validation error detected: Value '{kind}' at 'transitionType' failed to satisfy "
            "constraint: Member must satisfy enum value set: [Inbound, Outbound]"
        )
    pipeline = pipeline_of(state, request["pipelineName"])
    stage = request["stageName"]
    if stage not in [s["name"] for s in pipeline.declaration["stages"]]:
        raise ServiceError(
            "StageNotFoundException", f"Stage {stage} not found in pipeline {pipeline.name}"
        )
    return pipeline, stage, kind


def _caller(state: State) -> str:
    return state.caller_arn or f"arn:{state.partition}:iam::{state.account_id}:root"


def disable_stage_transition(state: State, request: Request) -> dict[str, Any]:
    reason = request["reason"]
    if not _REASON.fullmatch(reason):
        raise validation(
            f"1 validation error detected: Value '{reason}' at 'reason' failed to satisfy "
            r"constraint: Member must satisfy regular expression pattern: "
            r"[a-zA-Z0-9!@ \(\)\.\*\?\-]+ (at most 300 characters)"
        )
    pipeline, stage, kind = _target(state, request)
    transition = models.Transition(enabled=False, changed_by=_caller(state), reason=reason)
    transitions.set_state(pipeline, stage, kind, transition)
    return {}


def enable_stage_transition(state: State, request: Request) -> dict[str, Any]:
    pipeline, stage, kind = _target(state, request)
    transitions.set_state(
        pipeline, stage, kind, models.Transition(enabled=True, changed_by=_caller(state))
    )
    return {}
