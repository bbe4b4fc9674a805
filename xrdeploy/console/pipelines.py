"""Each stage's CodePipeline as the console shows it, through the CodePipeline API only (so it
works the same against AWS and the local cloud): the latest executions, action by action, the
pending approval and its answer, and a watch that reports changes as they happen."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from xrdeploy.aws_clients import AwsClients
from xrdeploy.config.model import ChainConfig
from xrdeploy.config.naming import Naming
from xrdeploy.console.commits import ConnectionState, source_connection_arn
from xrdeploy.errors import ToolError, UserError

# The pipeline stage whose success puts a revision on the fleet (modules/pipeline.py).
DEPLOY_STAGE = "Deploy"
# HeadObject of a version that is gone or never was: 404, or 400 for a malformed version id.
_NO_SUCH_VERSION = frozenset({"404", "NoSuchKey", "NoSuchVersion", "400", "InvalidArgument"})
TERMINAL = frozenset({"Succeeded", "Failed", "Stopped", "Superseded", "Cancelled"})


@dataclass(frozen=True)
class StagePipeline:
    stage: str
    account_id: str
    region: str
    pipeline: str
    source_bucket: str
    source_key: str
    # The stage promoting into this one (None for the first stage).
    upstream: str | None = None
    # The first stage of a chain with a Git source: its Source action reads the repository, and
    # it has no source bucket (source_bucket and source_key name nothing).
    reads_git: bool = False


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
            upstream=upstream.name if (upstream := chain.upstream_of(stage.name)) else None,
            reads_git=chain.app.source.is_git and upstream is None,
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
    external_id: str = ""  # the CodeDeploy deployment id of a Deploy action, for instance
    # The action's output variables (a Git Source action's CommitId, BranchName...).
    variables: Mapping[str, str] = field(default_factory=dict)


class PipelineConsole:
    """Read and answer one chain's pipelines; `clients` decides the target."""

    def __init__(self, clients: AwsClients, *, poll_interval: float = 1.0) -> None:
        self._clients = clients
        # How often the waits (`wait_for_new_execution`, `watch`) read the pipeline: a person
        # watching needs no more than once a second; a test harness may ask for more.
        self._poll_interval = poll_interval

    def _client(self, service: str, pipeline: StagePipeline) -> Any:
        # AwsClients makes each (service, account, region)'s client once.
        return self._clients.client(service, pipeline.account_id, pipeline.region)

    def _codepipeline(self, pipeline: StagePipeline) -> Any:
        return self._client("codepipeline", pipeline)

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

    def live_execution(self, pipeline: StagePipeline) -> dict[str, Any] | None:
        """The newest execution that passed the Deploy stage: its revision is on the fleet."""
        listed = self._codepipeline(pipeline).list_pipeline_executions(
            pipelineName=pipeline.pipeline,
            maxResults=1,
            filter={"succeededInStage": {"stageName": DEPLOY_STAGE}},
        )
        summaries = listed.get("pipelineExecutionSummaries") or [None]
        found: dict[str, Any] | None = summaries[0]
        return found

    def execution_or_none(
        self, pipeline: StagePipeline, execution_id: str
    ) -> dict[str, Any] | None:
        try:
            return self.execution(pipeline, execution_id)
        except ClientError as error:
            if error.response["Error"]["Code"] == "PipelineExecutionNotFoundException":
                return None
            raise

    def source_head(self, pipeline: StagePipeline, version_id: str) -> dict[str, Any] | None:
        """HeadObject of one version of the stage's source object; None once it is gone (old
        versions expire) or when no such version ever existed."""
        try:
            head: dict[str, Any] = self._client("s3", pipeline).head_object(
                Bucket=pipeline.source_bucket,
                Key=pipeline.source_key,
                VersionId=version_id,
                ChecksumMode="ENABLED",
            )
        except ClientError as error:
            if error.response["Error"]["Code"] in _NO_SUCH_VERSION:
                return None
            raise
        return head

    def source_sha256(self, pipeline: StagePipeline, version_id: str) -> str:
        """SHA-256 of one version's bytes, streamed (for objects that carry no checksum)."""
        body = self._client("s3", pipeline).get_object(
            Bucket=pipeline.source_bucket, Key=pipeline.source_key, VersionId=version_id
        )["Body"]
        digest = hashlib.sha256()
        for chunk in body.iter_chunks(1024 * 1024):
            digest.update(chunk)
        return digest.hexdigest()

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
                    external_id=result.get("externalExecutionId", ""),
                    variables=dict((detail.get("output") or {}).get("outputVariables") or {}),
                )
            )
        return sorted(runs, key=lambda run: run.updated or datetime.min)

    def connection_state(self, pipeline: StagePipeline) -> ConnectionState | None:
        """The state of the connection the pipeline's Source action reads through (GetPipeline,
        then GetConnection); None for a source without one."""
        declared = self._codepipeline(pipeline).get_pipeline(name=pipeline.pipeline)
        arn = source_connection_arn(declared.get("pipeline") or {})
        if arn is None:
            return None
        # Connections are global, but their data is updated in the Region in their ARN.
        home = replace(pipeline, region=arn.split(":")[3] or pipeline.region)
        try:
            found = self._client("codestar-connections", home).get_connection(ConnectionArn=arn)
        except ClientError as error:
            return ConnectionState(arn, f"unknown ({error.response['Error']['Code']})")
        return ConnectionState(arn, str(found["Connection"]["ConnectionStatus"]))

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

    def disable_inbound(self, pipeline: StagePipeline, stage_name: str, reason: str) -> None:
        self._codepipeline(pipeline).disable_stage_transition(
            pipelineName=pipeline.pipeline,
            stageName=stage_name,
            transitionType="Inbound",
            reason=reason,
        )

    def enable_inbound(self, pipeline: StagePipeline, stage_name: str) -> None:
        self._codepipeline(pipeline).enable_stage_transition(
            pipelineName=pipeline.pipeline, stageName=stage_name, transitionType="Inbound"
        )

    def wait_for_new_execution(
        self, pipeline: StagePipeline, known: set[str], timeout: float
    ) -> dict[str, Any]:
        """The oldest execution whose id is not in `known` and that is not a rollback: the one the
        upload or promotion started (a stage rolling back a failure starts a ROLLBACK execution
        after it, which may be there already when a wave's stages are read one after another)."""
        waiting = f"{pipeline.stage}: no pipeline execution started"
        for _ in _ticks(timeout, waiting, self._poll_interval):
            started = [
                summary
                for summary in self.executions(pipeline)
                if summary["pipelineExecutionId"] not in known
                and summary.get("executionType", "STANDARD") != "ROLLBACK"
            ]
            if started:
                return started[-1]  # ListPipelineExecutions answers newest first
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
        unfinished = f"{pipeline.stage}: execution {execution_id} did not finish"
        for _ in _ticks(timeout, unfinished, self._poll_interval):
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


def _ticks(timeout: float, what: str, interval: float) -> Iterator[None]:
    deadline = time.monotonic() + timeout
    while True:
        yield
        if time.monotonic() > deadline:
            raise ToolError(f"{what} within {timeout:.0f}s")
        time.sleep(interval)
