"""Stop the line (pure: API answers in, facts out): which transition `freeze` disables, the reason
CodePipeline accepts, and a frozen stage as GetPipelineState shows it.

The line into a chain stage is the inbound transition of its pipeline's Deploy stage. Its Source
stage has no inbound transition to disable (CodePipeline refuses one on the first stage), and the
Source action only records which revision arrived; Deploy is where a revision reaches the fleet.
So a frozen stage still takes in the next build (its upload or promotion is recorded and shown in
front of Deploy) and deploys nothing until `unfreeze`. The upstream stage's Promote is not the
line: in a wave it feeds every stage of the wave, and freezing one stage must hold only that one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from xrdeploy.console.pipelines import DEPLOY_STAGE
from xrdeploy.errors import UserError

LINE_STAGE = DEPLOY_STAGE
INBOUND = "Inbound"
# DisableStageTransition's `reason`: 1-300 characters of this set (API reference).
_REASON = re.compile(r"[a-zA-Z0-9!@ ().*?\-]{1,300}")


@dataclass(frozen=True)
class Freeze:
    """A disabled line: why, by whom, since when, and the builds waiting in front of it."""

    stage_name: str
    reason: str
    by: str
    since: datetime | None
    waiting: tuple[str, ...]  # execution ids, as GetPipelineState lists them


def check_reason(reason: str) -> str:
    """The reason as DisableStageTransition takes it, or one line saying what is wrong."""
    if not _REASON.fullmatch(reason):
        raise UserError(
            "--reason: 1 to 300 characters of letters, digits, spaces and ! @ ( ) . * ? - "
            "(what CodePipeline's DisableStageTransition accepts)"
        )
    return reason


def _line_state(state: Mapping[str, Any]) -> Mapping[str, Any]:
    for stage in state.get("stageStates", []):
        if stage.get("stageName") == LINE_STAGE:
            found: Mapping[str, Any] = stage
            return found
    return {}


def freeze_of(state: Mapping[str, Any]) -> Freeze | None:
    """The stage's freeze from its pipeline's GetPipelineState, or None when the line is open."""
    line = _line_state(state)
    transition = line.get("inboundTransitionState") or {}
    if transition.get("enabled", True):
        return None
    inbound = line.get("inboundExecutions") or (
        [line["inboundExecution"]] if line.get("inboundExecution") else []
    )
    since = transition.get("lastChangedAt")
    return Freeze(
        stage_name=LINE_STAGE,
        reason=str(transition.get("disabledReason") or ""),
        by=str(transition.get("lastChangedBy") or ""),
        since=since if isinstance(since, datetime) else None,
        waiting=tuple(str(e["pipelineExecutionId"]) for e in inbound),
    )
