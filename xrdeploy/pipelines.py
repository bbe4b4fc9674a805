"""Each stage's CodePipeline as the console shows it, through the CodePipeline API only (so it
works the same against AWS and the local cloud): the latest executions, action by action, the
pending approval and its answer, and a watch that reports changes as they happen."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from xrdeploy.aws_clients import AwsClients
from xrdeploy.config import ChainConfig
from xrdeploy.errors import ToolError, UserError
from xrdeploy.naming import Naming

TERMINAL = frozenset({"Succeeded", "Failed", "Stopped", "Superseded", "Cancelled"})


@dataclass(frozen=True)
class StagePipeline:
    stage: str
    account_id: str
    region: str
    pipeline: str
    source_bucket: str
    source_key: str


def stage_pipelines(chain: ChainConfig) -> list[StagePipeline]:
    names = Naming(chain.app.name)
    return [
        StagePipeline(
            stage=stage.name,
            account_id=stage.account_id,
            region=stage.region,
            pipeline=names.pipeline(stage),
            source_bucket=names.source_bucket(stage),
            source_key=chain.app.source_object_key,
        )
        for stage in chain.stages
    ]


def find_stage(pipelines: list[StagePipeline], name: str) -> StagePipeline:
    for pipeline in pipelines:
        if pipeline.stage == name:
            return pipeline
    known = ", ".join(p.stage for p in pipelines)
    raise UserError(f"STAGE: no stage named {name!r}; stages are {known}")


@dataclass(frozen=True)
class PendingApproval:
    stage_name: str
    action_name: str
    token: str
    execution_id: str


@dataclass(frozen=True)
class ActionRun:
    stage_name: str
    action_name: str
    status: str
    summary: str
    updated: datetime | None
    error: str = ""


class PipelineConsole:
    """Read and answer one chain's pipelines; `clients` decides the target."""

    def __init__(self, clients: AwsClients) -> None:
        self._clients = clients

    def _codepipeline(self, pipeline: StagePipeline) -> Any:
        return self._clients.client("codepipeline", pipeline.account_id, pipeline.region)

    def state(self, pipeline: StagePipeline) -> dict[str, Any]:
        state: dict[str, Any] = self._codepipeline(pipeline).get_pipeline_state(
            name=pipeline.pipeline
        )
        return state

    def executions(self, pipeline: StagePipeline, limit: int = 10) -> list[dict[str, Any]]:
        listed = self._codepipeline(pipeline).list_pipeline_executions(
            pipelineName=pipeline.pipeline, maxResults=limit
        )
        return list(listed.get("pipelineExecutionSummaries", []))

    def execution(self, pipeline: StagePipeline, execution_id: str) -> dict[str, Any]:
        found: dict[str, Any] = self._codepipeline(pipeline).get_pipeline_execution(
            pipelineName=pipeline.pipeline, pipelineExecutionId=execution_id
        )["pipelineExecution"]
        return found

    def action_runs(self, pipeline: StagePipeline, execution_id: str) -> list[ActionRun]:
        listed = self._codepipeline(pipeline).list_action_executions(
            pipelineName=pipeline.pipeline, filter={"pipelineExecutionId": execution_id}
        )
        runs = []
        for detail in listed.get("actionExecutionDetails", []):
            result = (detail.get("output") or {}).get("executionResult") or {}
            runs.append(
                ActionRun(
                    stage_name=detail["stageName"],
                    action_name=detail["actionName"],
                    status=detail["status"],
                    summary=result.get("externalExecutionSummary", ""),
                    updated=detail.get("lastUpdateTime"),
                    error=(result.get("errorDetails") or {}).get("message", ""),
                )
            )
        return sorted(runs, key=lambda run: run.updated or datetime.min)

    def pending_approval(self, pipeline: StagePipeline) -> PendingApproval | None:
        for stage in self.state(pipeline).get("stageStates", []):
            execution_id = (stage.get("latestExecution") or {}).get("pipelineExecutionId", "")
            for action in stage.get("actionStates", []):
                latest = action.get("latestExecution") or {}
                if latest.get("status") == "InProgress" and latest.get("token"):
                    return PendingApproval(
                        stage["stageName"], action["actionName"], latest["token"], execution_id
                    )
        return None

    def answer_approval(
        self, pipeline: StagePipeline, *, approve: bool, comment: str
    ) -> PendingApproval:
        pending = self.pending_approval(pipeline)
        if pending is None:
            raise UserError(f"{pipeline.stage}: no approval is waiting in {pipeline.pipeline}")
        self._codepipeline(pipeline).put_approval_result(
            pipelineName=pipeline.pipeline,
            stageName=pending.stage_name,
            actionName=pending.action_name,
            result={"summary": comment, "status": "Approved" if approve else "Rejected"},
            token=pending.token,
        )
        return pending

    def wait_for_new_execution(
        self, pipeline: StagePipeline, known: set[str], timeout: float
    ) -> dict[str, Any]:
        """The first execution whose id is not in `known` (started by the upload or promotion)."""
        for _ in _ticks(timeout, f"{pipeline.stage}: no pipeline execution started"):
            for summary in self.executions(pipeline):
                if summary["pipelineExecutionId"] not in known:
                    return summary
        raise AssertionError("unreachable")

    def watch(
        self,
        pipeline: StagePipeline,
        execution_id: str,
        *,
        on_action: Callable[[ActionRun], None],
        on_approval: Callable[[PendingApproval], None],
        timeout: float,
    ) -> str:
        """Report every action status change of one execution until it ends; returns its final
        status. `on_approval` is called once per approval that waits for an answer."""
        seen: dict[tuple[str, str], str] = {}
        asked: set[str] = set()
        for _ in _ticks(timeout, f"{pipeline.stage}: execution {execution_id} did not finish"):
            for run in self.action_runs(pipeline, execution_id):
                key = (run.stage_name, run.action_name)
                if seen.get(key) != run.status:
                    seen[key] = run.status
                    on_action(run)
            pending = self.pending_approval(pipeline)
            if pending and pending.execution_id == execution_id and pending.token not in asked:
                asked.add(pending.token)
                on_approval(pending)
            status = str(self.execution(pipeline, execution_id)["status"])
            if status in TERMINAL:
                for run in self.action_runs(pipeline, execution_id):
                    if seen.get((run.stage_name, run.action_name)) != run.status:
                        on_action(run)
                return status
        raise AssertionError("unreachable")


def _ticks(timeout: float, what: str, interval: float = 1.0) -> Iterator[None]:
    deadline = time.monotonic() + timeout
    while True:
        yield
        if time.monotonic() > deadline:
            raise ToolError(f"{what} within {timeout:.0f}s")
        time.sleep(interval)
