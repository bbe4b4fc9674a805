"""DisableStageTransition and EnableStageTransition, with the API reference's validation."""

from __future__ import annotations

import re
from typing import Any

from localstack.aws.api import RequestContext

from xrdeploy_local_cloud.codepipeline import models, transitions
from xrdeploy_local_cloud.codepipeline.control import pipeline_of
from xrdeploy_local_cloud.codepipeline.errors import validation
from xrdeploy_local_cloud.guards import trust
from xrdeploy_local_cloud.kit.errors import ServiceError

Request = dict[str, Any]
_REASON = re.compile(r"[a-zA-Z0-9!@ \(\)\.\*\?\-]{1,300}")


def _target(context: RequestContext, request: Request) -> tuple[models.Pipeline, str, str]:
    kind = request["transitionType"]
    if kind not in (transitions.INBOUND, transitions.OUTBOUND):
        raise validation(
            f"1 validation error detected: Value '{kind}' at 'transitionType' failed to satisfy "
            "constraint: Member must satisfy enum value set: [Inbound, Outbound]"
        )
    pipeline = pipeline_of(context, request["pipelineName"])
    stage = request["stageName"]
    if stage not in [s["name"] for s in pipeline.declaration["stages"]]:
        raise ServiceError(
            "StageNotFoundException", f"Stage {stage} not found in pipeline {pipeline.name}"
        )
    return pipeline, stage, kind


def _caller(context: RequestContext) -> str:
    caller = trust.caller_of(context)
    return caller.arn if caller else f"arn:{context.partition}:iam::{context.account_id}:root"


def disable_stage_transition(context: RequestContext, request: Request) -> dict[str, Any]:
    reason = request["reason"]
    if not _REASON.fullmatch(reason):
        raise validation(
            f"1 validation error detected: Value '{reason}' at 'reason' failed to satisfy "
            r"constraint: Member must satisfy regular expression pattern: "
            r"[a-zA-Z0-9!@ \(\)\.\*\?\-]+ (at most 300 characters)"
        )
    pipeline, stage, kind = _target(context, request)
    transition = models.Transition(enabled=False, changed_by=_caller(context), reason=reason)
    transitions.set_state(pipeline, stage, kind, transition)
    return {}


def enable_stage_transition(context: RequestContext, request: Request) -> dict[str, Any]:
    pipeline, stage, kind = _target(context, request)
    transitions.set_state(
        pipeline, stage, kind, models.Transition(enabled=True, changed_by=_caller(context))
    )
    return {}
