"""Lines that show one stage's pipeline as the console does (pure: state in, text out)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from xrdeploy.pipelines import StagePipeline


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if isinstance(value, datetime) else "-"


def render_stage(
    pipeline: StagePipeline, state: dict[str, Any], latest: list[dict[str, Any]]
) -> list[str]:
    lines = [f"{pipeline.stage} ({pipeline.account_id}/{pipeline.region}) {pipeline.pipeline}"]
    if latest:
        execution = latest[0]
        revisions = ", ".join(
            f"{r.get('actionName')}={r.get('revisionId', '')[:16]}"
            for r in execution.get("sourceRevisions", [])
        )
        trigger = (execution.get("trigger") or {}).get("triggerType", "-")
        lines.append(
            f"  latest execution {execution['pipelineExecutionId']} {execution['status']} "
            f"(trigger {trigger}; {revisions or 'no revision'}; "
            f"updated {_when(execution.get('lastUpdateTime'))})"
        )
    else:
        lines.append("  no execution yet")
    for stage in state.get("stageStates", []):
        stage_status = (stage.get("latestExecution") or {}).get("status", "-")
        lines.append(f"  {stage['stageName']}: {stage_status}")
        for action in stage.get("actionStates", []):
            latest_action = action.get("latestExecution") or {}
            summary = latest_action.get("summary") or ""
            revision = (action.get("currentRevision") or {}).get("revisionId", "")
            lines.append(
                f"    {action['actionName']}: {latest_action.get('status', '-')}"
                + (f" revision {revision[:16]}" if revision else "")
                + f" at {_when(latest_action.get('lastStatusChange'))}"
                + (f" — {summary}" if summary else "")
            )
    return lines
