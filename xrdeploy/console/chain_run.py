"""Follow one build through the chain as it flows by itself: each stage's pipeline is started by
its source bucket (S3 → EventBridge), and its Promote actions' writes start the stages after it
(one, or each stage of a wave). Only reads the pipelines and buckets through their APIs; starts
nothing."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from xrdeploy.aws_clients import AwsClients
from xrdeploy.console.pipelines import ActionRun, PendingApproval, PipelineConsole, StagePipeline


@dataclass(frozen=True)
class StageResult:
    stage: str
    execution_id: str
    status: str
    actions: tuple[ActionRun, ...]
    seconds: float


@dataclass(frozen=True)
class Hop:
    source_stage: str
    destination_stage: str
    bucket: str
    key: str
    version_id: str
    sha256: str
    source_stage_seconds: float


@dataclass
class ChainFollower:
    pipelines: list[StagePipeline]
    clients: AwsClients
    on_action: Callable[[StagePipeline, ActionRun], None]
    on_approval: Callable[[StagePipeline, PendingApproval], None]
    stage_timeout: float = 900.0

    def __post_init__(self) -> None:
        self.console = PipelineConsole(self.clients)

    def known_executions(self) -> dict[str, set[str]]:
        """Execution ids that exist now, so that the ones a new upload starts can be told apart."""
        return {
            p.stage: {e["pipelineExecutionId"] for e in self.console.executions(p, limit=100)}
            for p in self.pipelines
        }

    def follow(self, known: dict[str, set[str]]) -> tuple[list[StageResult], list[Hop]]:
        """Watch each stage whose upstream succeeded, in list order (an upstream is listed before
        the stages it promotes into), until every stage has run or cannot: a failed stage stops
        its own downstream, not the other stages of its wave."""
        results: dict[str, StageResult] = {}
        hops: list[Hop] = []
        for pipeline in self.pipelines:
            upstream = results.get(pipeline.upstream) if pipeline.upstream else None
            if pipeline.upstream is not None and (
                upstream is None or upstream.status != "Succeeded"
            ):
                continue
            if upstream is not None:
                source = next(p for p in self.pipelines if p.stage == pipeline.upstream)
                hops.append(self._hop(source, pipeline, upstream.seconds))
            results[pipeline.stage] = self._follow_stage(pipeline, known[pipeline.stage])
        return list(results.values()), hops

    def _follow_stage(self, pipeline: StagePipeline, known: set[str]) -> StageResult:
        started = time.monotonic()
        summary = self.console.wait_for_new_execution(pipeline, known, self.stage_timeout)
        execution_id = summary["pipelineExecutionId"]
        status = self.console.watch(
            pipeline,
            execution_id,
            on_action=lambda run: self.on_action(pipeline, run),
            on_approval=lambda pending: self.on_approval(pipeline, pending),
            timeout=self.stage_timeout,
        )
        actions = tuple(self.console.action_runs(pipeline, execution_id))
        return StageResult(
            pipeline.stage, execution_id, status, actions, time.monotonic() - started
        )

    def _hop(self, source: StagePipeline, destination: StagePipeline, seconds: float) -> Hop:
        s3 = self.clients.client("s3", destination.account_id, destination.region)
        head = s3.head_object(Bucket=destination.source_bucket, Key=destination.source_key)
        return Hop(
            source_stage=source.stage,
            destination_stage=destination.stage,
            bucket=destination.source_bucket,
            key=destination.source_key,
            version_id=str(head["VersionId"]),
            sha256=str(head.get("Metadata", {}).get("xrdeploy-sha256", "")),
            source_stage_seconds=seconds,
        )
