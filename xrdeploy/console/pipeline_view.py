"""What `status` shows (pure: API answers in, text or JSON out): one stage's pipeline as the
console does, and its promotion ledger entry."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from xrdeploy.console.commits import Commit, connection_line
from xrdeploy.console.freeze import Freeze
from xrdeploy.console.pipelines import StagePipeline
from xrdeploy.console.provenance import StageLedger


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


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def ledger_json(app: str, ledgers: list[StageLedger]) -> dict[str, Any]:
    """`status --json`: the schema README.md documents (keys stay; new ones may be added)."""
    return {"app": app, "stages": [_stage_json(ledger) for ledger in ledgers]}


def _stage_json(ledger: StageLedger) -> dict[str, Any]:
    live = ledger.live
    return {
        "stage": ledger.pipeline.stage,
        "account_id": ledger.pipeline.account_id,
        "region": ledger.pipeline.region,
        "pipeline": ledger.pipeline.pipeline,
        "upstream": ledger.upstream,
        "live": None
        if live is None
        else {
            "version_id": live.version_id,
            "sha256": live.sha256 or None,
            "source_stage": live.source_stage,
            "source_version_id": live.source_version_id,
            "promoted_by_execution": live.promoted_by_execution,
            "execution_id": live.execution_id,
            "execution_type": live.execution_type,
            "deployment_id": live.deployment_id,
            "deployed_at": _iso(live.deployed_at),
            "commit": _commit_json(live.commit),
        },
        "descends": ledger.verdict.descends,
        "flagged": ledger.verdict.descends is False,
        "provenance": ledger.verdict.reason,
        "in_flight": [
            {
                "execution_id": f.execution_id,
                "status": f.status,
                "version_id": f.version_id or None,
                "at": f.at,
                "started_at": _iso(f.started_at),
            }
            for f in ledger.in_flight
        ],
        "frozen": None if ledger.freeze is None else _freeze_json(ledger.freeze),
        "connection": None
        if ledger.connection is None
        else {"arn": ledger.connection.arn, "status": ledger.connection.status},
        "gates": [
            {
                "kind": g.kind,
                "stage_name": g.stage_name,
                "name": g.name,
                "execution_id": g.execution_id,
                "since": _iso(g.since),
                "summary": g.summary or None,
            }
            for g in ledger.gates
        ],
    }


def _commit_json(commit: Commit | None) -> dict[str, str] | None:
    if commit is None:
        return None
    return {"id": commit.id, "branch": commit.branch, "repository": commit.repository}


def _freeze_json(freeze: Freeze) -> dict[str, Any]:
    return {
        "stage_name": freeze.stage_name,
        "reason": freeze.reason,
        "by": freeze.by or None,
        "since": _iso(freeze.since),
        "waiting": list(freeze.waiting),
    }


def describe_freeze(freeze: Freeze) -> str:
    """One line: why the stage is frozen, by whom, since when, and who waits in front of it."""
    waiting = ", ".join(freeze.waiting) or "no build yet"
    return (
        f"FROZEN before {freeze.stage_name} by {freeze.by or '-'} at {_when(freeze.since)}: "
        f"{freeze.reason or '(no reason given)'}; waiting: {waiting}"
    )


def ledger_lines(ledger: StageLedger) -> list[str]:
    """The ledger part of one stage's `status`: live revision, provenance, in flight, gates."""
    live = ledger.live
    if live is None:
        lines = ["  live: nothing deployed yet"]
    else:
        origin = (
            f"from {live.source_stage} version {live.source_version_id} "
            f"(execution {live.promoted_by_execution})"
            if live.source_stage
            else ("not promoted" if ledger.upstream else "entered here")
        )
        lines = [
            f"  live: version {live.version_id} sha256 {live.sha256[:12] or 'unknown'} {origin}; "
            f"deployed by execution {live.execution_id} at {_when(live.deployed_at)}"
        ]
        if live.commit is not None:
            commit = live.commit
            lines.append(f"  commit: {commit.id} of {commit.repository} branch {commit.branch}")
    if ledger.connection is not None:
        lines.append(f"  {connection_line(ledger.connection)}")
    mark = {True: "ok", False: "FLAGGED", None: "n/a"}[ledger.verdict.descends]
    lines.append(f"  provenance: {mark} — {ledger.verdict.reason}")
    if ledger.freeze is not None:
        lines.append(f"  {describe_freeze(ledger.freeze)}")
    for flight in ledger.in_flight:
        lines.append(
            f"  in flight: execution {flight.execution_id} {flight.status} "
            f"at {flight.at or '-'} (version {flight.version_id or '-'})"
        )
    for gate in ledger.gates:
        lines.append(
            f"  gate pending: {gate.kind} {gate.stage_name}/{gate.name} "
            f"(execution {gate.execution_id or '-'}, since {_when(gate.since)})"
        )
    return lines
