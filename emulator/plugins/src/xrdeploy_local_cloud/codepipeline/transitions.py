"""Stage transitions (DisableStageTransition / EnableStageTransition) and what they hold back.

An Inbound transition is the way into a stage; an Outbound one the way out of a stage into the
next. An execution that has finished a stage and finds the way on disabled waits there, in the
next stage's inbound executions (:mod:`.lanes` holds it); enabling the transition lets the
waiting execution through (in SUPERSEDED mode only the newest one still waits). GetPipelineState
shows each stage's inbound transition: enabled, and who changed it, when and why.
"""

from __future__ import annotations

from typing import Any

from xrdeploy_local_cloud.codepipeline import execution_states as states
from xrdeploy_local_cloud.codepipeline import models

INBOUND = "Inbound"
OUTBOUND = "Outbound"


def set_state(
    pipeline: models.Pipeline, stage: str, kind: str, transition: models.Transition
) -> None:
    with states.changing():
        pipeline.transitions[(stage, kind)] = transition


def _enabled(pipeline: models.Pipeline, stage: str, kind: str) -> bool:
    transition = pipeline.transitions.get((stage, kind))
    return transition is None or transition.enabled


def open_into(pipeline: models.Pipeline, stage: str) -> bool:
    """Whether an execution may pass into ``stage``: its inbound transition and the previous
    stage's outbound one are both enabled (call within :func:`.execution_states.reading`)."""
    names = [s["name"] for s in pipeline.declaration.get("stages", [])]
    if stage in names and names.index(stage) > 0:
        previous = names[names.index(stage) - 1]
        if not _enabled(pipeline, previous, OUTBOUND):
            return False
    return _enabled(pipeline, stage, INBOUND)


def inbound_state(pipeline: models.Pipeline, stage: str) -> dict[str, Any]:
    """A stage's ``inboundTransitionState`` as GetPipelineState shows it."""
    transition = pipeline.transitions.get((stage, INBOUND))
    if transition is None:
        return {"enabled": True}
    state: dict[str, Any] = {
        "enabled": transition.enabled,
        "lastChangedBy": transition.changed_by,
        "lastChangedAt": transition.changed_at,
    }
    if transition.reason is not None:
        state["disabledReason"] = transition.reason
    return state
