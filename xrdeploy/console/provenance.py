"""The promotion ledger: for every stage, the revision live there and where it came from, the
revisions in flight, the gates holding them, and whether the live revision descends from its
upstream's. Only AWS APIs are read (CodePipeline and S3), so it works the same on AWS and in the
local cloud. The decisions are pure functions over the APIs' answers; `read_ledger` gathers
those through `LedgerReads` (`PipelineConsole` in the app, an in-memory fake in the tests)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from xrdeploy.config.model import ChainConfig
from xrdeploy.console.commits import (
    Commit,
    ConnectionState,
    commit_in_metadata,
    commit_in_variables,
)
from xrdeploy.console.freeze import Freeze, freeze_of
from xrdeploy.console.pipelines import DEPLOY_STAGE, ActionRun, StagePipeline, stage_pipelines
from xrdeploy.console.source_objects import (
    META_EXECUTION_ID,
    META_SOURCE_STAGE,
    META_SOURCE_VERSION_ID,
    SourceObject,
    SourceObjects,
)

IN_FLIGHT = frozenset({"InProgress", "Stopping"})
CONDITION_KINDS = (
    ("beforeEntryConditionState", "before_entry"),
    ("onSuccessConditionState", "on_success"),
    ("onFailureConditionState", "on_failure"),
)


@dataclass(frozen=True)
class LiveRevision:
    version_id: str
    sha256: str
    source_stage: str | None
    source_version_id: str | None
    promoted_by_execution: str | None
    execution_id: str
    execution_type: str
    deployment_id: str | None
    deployed_at: datetime | None
    # The Git commit the build was made from, in a chain with a Git source.
    commit: Commit | None = None


def live_revision(
    summary: Mapping[str, Any],
    deploy: ActionRun | None,
    obj: SourceObject | None,
    sha256: str,
    commit: Commit | None = None,
) -> LiveRevision:
    """The revision of the newest execution that passed Deploy; `sha256` as resolved by the
    caller (metadata, S3's checksum or the object's bytes)."""
    meta = obj.metadata if obj is not None else {}
    return LiveRevision(
        version_id=source_version(summary),
        sha256=sha256,
        source_stage=meta.get(META_SOURCE_STAGE),
        source_version_id=meta.get(META_SOURCE_VERSION_ID),
        promoted_by_execution=meta.get(META_EXECUTION_ID),
        execution_id=str(summary["pipelineExecutionId"]),
        execution_type=str(summary.get("executionType") or "STANDARD"),
        deployment_id=(deploy.external_id or None) if deploy else None,
        deployed_at=deploy.updated if deploy else summary.get("lastUpdateTime"),
        commit=commit,
    )


def source_version(summary: Mapping[str, Any]) -> str:
    """The S3 version id (or, from a Git source, the commit) an execution runs
    (ListPipelineExecutions' sourceRevisions)."""
    for revision in summary.get("sourceRevisions") or []:
        if revision.get("revisionId"):
            return str(revision["revisionId"])
    return ""


def revisions_of(execution: Mapping[str, Any]) -> set[str]:
    """The revision ids a GetPipelineExecution answer ran (its artifactRevisions)."""
    return {
        str(r["revisionId"])
        for r in execution.get("artifactRevisions") or []
        if r.get("revisionId")
    }


@dataclass(frozen=True)
class InFlight:
    execution_id: str
    status: str
    version_id: str
    # The pipeline stage it runs in, or waits to enter ("waiting for Deploy"); None if unknown.
    at: str | None
    started_at: datetime | None


def in_flight(summaries: Sequence[Mapping[str, Any]], state: Mapping[str, Any]) -> list[InFlight]:
    where: dict[str, str] = {}
    for stage in state.get("stageStates") or []:
        for waiting in stage.get("inboundExecutions") or []:
            where.setdefault(waiting["pipelineExecutionId"], f"waiting for {stage['stageName']}")
        latest = stage.get("latestExecution") or {}
        if latest.get("status") == "InProgress":
            where[latest["pipelineExecutionId"]] = str(stage["stageName"])
    return [
        InFlight(
            execution_id=str(s["pipelineExecutionId"]),
            status=str(s["status"]),
            version_id=source_version(s),
            at=where.get(s["pipelineExecutionId"]),
            started_at=s.get("startTime"),
        )
        for s in summaries
        if s.get("status") in IN_FLIGHT
    ]


@dataclass(frozen=True)
class Gate:
    kind: str  # manual_approval, before_entry, on_success or on_failure
    stage_name: str
    name: str  # the approval action, or the condition's rules
    execution_id: str | None
    since: datetime | None
    summary: str


def pending_gates(state: Mapping[str, Any]) -> list[Gate]:
    """Approvals waiting for an answer and stage conditions being evaluated. Conditions are V2
    features a pipeline may not use (and an older local cloud not show): absent means none."""
    gates: list[Gate] = []
    for stage in state.get("stageStates") or []:
        name = str(stage["stageName"])
        latest_id = (stage.get("latestExecution") or {}).get("pipelineExecutionId")
        for action in stage.get("actionStates") or []:
            run = action.get("latestExecution") or {}
            if run.get("status") == "InProgress" and run.get("token"):
                gates.append(
                    Gate(
                        "manual_approval",
                        name,
                        str(action["actionName"]),
                        latest_id,
                        run.get("lastStatusChange"),
                        str(run.get("summary") or ""),
                    )
                )
        for key, kind in CONDITION_KINDS:
            gate = _condition_gate(kind, name, stage, stage.get(key) or {})
            if gate is not None:
                gates.append(gate)
    return gates


def _condition_gate(
    kind: str, stage_name: str, stage: Mapping[str, Any], condition: Mapping[str, Any]
) -> Gate | None:
    latest = condition.get("latestExecution") or {}
    if latest.get("status") != "InProgress":
        return None
    rules: list[str] = []
    changes: list[datetime] = []
    for state in condition.get("conditionStates") or []:
        if (state.get("latestExecution") or {}).get("lastStatusChange"):
            changes.append(state["latestExecution"]["lastStatusChange"])
        for rule in state.get("ruleStates") or []:
            status = (rule.get("latestExecution") or {}).get("status", "-")
            rules.append(f"{rule.get('ruleName', '?')}={status}")
    # Entry conditions hold the execution waiting to enter; the others the one inside.
    holder = stage.get("inboundExecution") if kind == "before_entry" else None
    holder = holder or stage.get("latestExecution") or {}
    return Gate(
        kind,
        stage_name,
        ", ".join(rules) or "-",
        holder.get("pipelineExecutionId"),
        min(changes, default=None),
        str(latest.get("summary") or ""),
    )


@dataclass(frozen=True)
class UpstreamEvidence:
    """What the upstream stage's APIs say about the execution and version a promoted object
    names: its GetPipelineExecution answer (None: no such execution), the status of that
    execution's Deploy action, and the named version of its source object with its SHA-256."""

    execution: Mapping[str, Any] | None
    deploy_status: str
    obj: SourceObject | None
    sha256: str
    # The upstream stage reads Git: the version is a commit, with no source object to compare.
    reads_git: bool = False


@dataclass(frozen=True)
class Verdict:
    descends: bool | None  # None: nothing to judge (first stage, nothing deployed)
    reason: str


def judge(
    live: LiveRevision | None,
    obj: SourceObject | None,
    upstream: str | None,
    evidence: UpstreamEvidence | None,
) -> Verdict:
    """Whether the live revision passed the upstream stage: promoted from it (metadata), by an
    execution of it that deployed exactly that version, with the bytes that version holds."""
    if live is None:
        return Verdict(None, "nothing deployed yet")
    if obj is not None and obj.checksum_sha256 and obj.sha256 != obj.checksum_sha256:
        return Verdict(False, "its xrdeploy-sha256 metadata disagrees with S3's own checksum")
    if upstream is None:
        return Verdict(None, "first stage: builds enter the chain here")
    if obj is None:
        return Verdict(None, f"version {live.version_id} is no longer in the bucket")
    if not obj.promoted:
        return Verdict(False, f"no promotion metadata: uploaded directly, never passed {upstream}")
    if live.source_stage != upstream:
        return Verdict(False, f"promoted from {live.source_stage}, but its upstream is {upstream}")
    return _judge_upstream(live, upstream, evidence)


def _judge_upstream(
    live: LiveRevision, upstream: str, evidence: UpstreamEvidence | None
) -> Verdict:
    by, version = live.promoted_by_execution, live.source_version_id
    if evidence is None or evidence.execution is None:
        return Verdict(False, f"{upstream} has no execution {by}")
    if version not in revisions_of(evidence.execution):
        ran = ", ".join(sorted(revisions_of(evidence.execution))) or "no revision"
        return Verdict(False, f"{upstream}'s execution {by} ran {ran}, not version {version}")
    if evidence.deploy_status != "Succeeded":
        status = evidence.deploy_status or "not run"
        return Verdict(False, f"{upstream}'s execution {by} did not pass Deploy ({status})")
    if evidence.reads_git:
        # The copy function checked the bytes it wrote against the artifact of that commit.
        return Verdict(True, f"promoted from {upstream} commit {version} by execution {by}")
    if evidence.obj is None:
        return Verdict(False, f"{upstream}'s bucket has no version {version}")
    if evidence.sha256 != live.sha256:
        return Verdict(
            False,
            f"SHA-256 {live.sha256[:12]} is not what {upstream} deployed "
            f"({evidence.sha256[:12] or 'unknown'})",
        )
    return Verdict(True, f"promoted from {upstream} version {version} by execution {by}")


@dataclass(frozen=True)
class StageLedger:
    pipeline: StagePipeline
    upstream: str | None
    live: LiveRevision | None
    verdict: Verdict
    in_flight: tuple[InFlight, ...]
    gates: tuple[Gate, ...]
    freeze: Freeze | None = None  # the line into the stage, when `freeze` stopped it
    # The connection a Git-sourced first stage reads through (PENDING until completed).
    connection: ConnectionState | None = None


class LedgerReads(Protocol):
    """The API reads the ledger needs (PipelineConsole implements them)."""

    def live_execution(self, pipeline: StagePipeline) -> dict[str, Any] | None: ...
    def executions(self, pipeline: StagePipeline, limit: int = 10) -> list[dict[str, Any]]: ...
    def execution_or_none(
        self, pipeline: StagePipeline, execution_id: str
    ) -> dict[str, Any] | None: ...
    def action_runs(self, pipeline: StagePipeline, execution_id: str) -> list[ActionRun]: ...
    def state(self, pipeline: StagePipeline) -> dict[str, Any]: ...
    def source_head(self, pipeline: StagePipeline, version_id: str) -> dict[str, Any] | None: ...
    def source_sha256(self, pipeline: StagePipeline, version_id: str) -> str: ...
    def connection_state(self, pipeline: StagePipeline) -> ConnectionState | None: ...


def read_ledger(reads: LedgerReads, chain: ChainConfig) -> list[StageLedger]:
    """Every stage's ledger entry, in config order."""
    pipelines = {p.stage: p for p in stage_pipelines(chain)}
    objects = SourceObjects(reads)
    ledgers = []
    for stage in chain.stages:
        upstream = chain.upstream_of(stage.name)
        ledgers.append(
            _stage_ledger(
                reads,
                objects,
                pipelines[stage.name],
                pipelines[upstream.name] if upstream is not None else None,
            )
        )
    return ledgers


def _stage_ledger(
    reads: LedgerReads,
    objects: SourceObjects,
    pipeline: StagePipeline,
    upstream: StagePipeline | None,
) -> StageLedger:
    state = reads.state(pipeline)
    summary = reads.live_execution(pipeline)
    live, obj, evidence = None, None, None
    if summary is not None:
        obj, sha256 = objects.get(pipeline, source_version(summary))
        runs = reads.action_runs(pipeline, str(summary["pipelineExecutionId"]))
        live = live_revision(summary, _deploy_run(runs), obj, sha256, _commit(pipeline, runs, obj))
        if upstream is not None:
            evidence = _evidence(reads, objects, upstream, live)
    upstream_name = upstream.stage if upstream is not None else None
    return StageLedger(
        pipeline=pipeline,
        upstream=upstream_name,
        live=live,
        verdict=judge(live, obj, upstream_name, evidence),
        in_flight=tuple(in_flight(reads.executions(pipeline, 20), state)),
        gates=tuple(pending_gates(state)),
        freeze=freeze_of(state),
        connection=reads.connection_state(pipeline) if pipeline.reads_git else None,
    )


def _commit(
    pipeline: StagePipeline, runs: list[ActionRun], obj: SourceObject | None
) -> Commit | None:
    """A Git-sourced stage's commit is its Source action's; a later stage's, its object's."""
    if pipeline.reads_git:
        sources = [r for r in runs if r.stage_name == "Source"]
        return commit_in_variables(sources[-1].variables) if sources else None
    return commit_in_metadata(obj.metadata) if obj is not None else None


def _evidence(
    reads: LedgerReads, objects: SourceObjects, upstream: StagePipeline, live: LiveRevision
) -> UpstreamEvidence | None:
    by = live.promoted_by_execution
    if not by or live.source_stage != upstream.stage:
        return None  # judge() needs no upstream reads to flag it
    execution = reads.execution_or_none(upstream, by)
    if execution is None:
        return UpstreamEvidence(None, "", None, "")
    deploy = _deploy_run(reads.action_runs(upstream, by))
    obj, sha256 = objects.get(upstream, live.source_version_id or "")
    return UpstreamEvidence(
        execution, deploy.status if deploy else "", obj, sha256, reads_git=upstream.reads_git
    )


def _deploy_run(runs: list[ActionRun]) -> ActionRun | None:
    deploys = [r for r in runs if r.stage_name == DEPLOY_STAGE]
    return deploys[-1] if deploys else None
