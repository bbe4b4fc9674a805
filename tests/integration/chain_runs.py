"""Helpers for tests that run the deployed chain's pipelines through the CodePipeline API."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from functools import partial
from typing import Any

from tests.integration.polling import INTERVAL, wait_until
from xrdeploy.config.model import Stage
from xrdeploy.config.naming import Naming
from xrdeploy.console.pipelines import PipelineConsole, StagePipeline, find_stage, stage_pipelines
from xrdeploy.rehearsal.local_chain import LocalDeployment

STAGE_TIMEOUT = 600.0


@dataclass(frozen=True)
class ActionOutcome:
    status: str
    summary: str
    error_code: str
    error_message: str


@dataclass(frozen=True)
class StageRun:
    execution_id: str
    status: str
    actions: dict[str, ActionOutcome]
    seconds: float


def pipeline_of(deployment: LocalDeployment, stage: str) -> StagePipeline:
    return find_stage(stage_pipelines(deployment.chain), stage)


def console(deployment: LocalDeployment) -> PipelineConsole:
    # The tests' own probe interval, not a person's once a second: a chain test waits for tens of
    # runs one after another, each a new execution to appear and then to end.
    return PipelineConsole(deployment.clients, poll_interval=INTERVAL)


def execution_ids(deployment: LocalDeployment, stage: str) -> set[str]:
    pipeline = pipeline_of(deployment, stage)
    return {e["pipelineExecutionId"] for e in console(deployment).executions(pipeline, 100)}


def outcomes(
    deployment: LocalDeployment, stage: str, execution_id: str
) -> dict[str, ActionOutcome]:
    pipeline = pipeline_of(deployment, stage)
    codepipeline = deployment.client("codepipeline", pipeline.account_id, pipeline.region)
    listed = codepipeline.list_action_executions(
        pipelineName=pipeline.pipeline, filter={"pipelineExecutionId": execution_id}
    )["actionExecutionDetails"]
    found: dict[str, ActionOutcome] = {}
    for detail in listed:
        result = (detail.get("output") or {}).get("executionResult") or {}
        error = result.get("errorDetails") or {}
        found[detail["actionName"]] = ActionOutcome(
            status=detail["status"],
            summary=result.get("externalExecutionSummary", ""),
            error_code=error.get("code", ""),
            error_message=error.get("message", ""),
        )
    return found


def wait_for_run(
    deployment: LocalDeployment,
    stage: str,
    known: set[str],
    *,
    approve: bool | None = True,
    before_answer: Any = None,
) -> StageRun:
    """Wait for the stage's next execution (one not in `known`) to finish. A waiting approval is
    answered with `approve` (None: left waiting, so the run ends only by itself or a timeout);
    `before_answer()` runs first."""
    pipeline = pipeline_of(deployment, stage)
    watcher = console(deployment)
    started = time.monotonic()
    summary = watcher.wait_for_new_execution(pipeline, known, STAGE_TIMEOUT)
    execution_id = summary["pipelineExecutionId"]

    def answer(pending: Any) -> None:
        if approve is None:
            return
        if before_answer is not None:
            before_answer(pending)
        watcher.answer_approval(pipeline, approve=approve, comment="answered by the test")

    status = watcher.watch(
        pipeline,
        execution_id,
        on_action=lambda _: None,
        on_approval=answer,
        timeout=STAGE_TIMEOUT,
    )
    return StageRun(
        execution_id,
        status,
        outcomes(deployment, stage, execution_id),
        time.monotonic() - started,
    )


def start_and_wait(deployment: LocalDeployment, stage: str, **kwargs: Any) -> StageRun:
    """Start the stage's pipeline by hand (StartPipelineExecution), as an operator re-running it
    would, and wait for that execution."""
    known = execution_ids(deployment, stage)
    pipeline = pipeline_of(deployment, stage)
    deployment.client(
        "codepipeline", pipeline.account_id, pipeline.region
    ).start_pipeline_execution(name=pipeline.pipeline)
    return wait_for_run(deployment, stage, known, **kwargs)


def retry_failed_and_wait(deployment: LocalDeployment, stage: str, run: StageRun) -> StageRun:
    """RetryStageExecution of the failed stage with FAILED_ACTIONS, as from the console."""
    pipeline = pipeline_of(deployment, stage)
    codepipeline = deployment.client("codepipeline", pipeline.account_id, pipeline.region)
    failed_stage = next(
        s["stageName"]
        for s in codepipeline.get_pipeline_state(name=pipeline.pipeline)["stageStates"]
        if (s.get("latestExecution") or {}).get("status") == "Failed"
    )
    codepipeline.retry_stage_execution(
        pipelineName=pipeline.pipeline,
        stageName=failed_stage,
        pipelineExecutionId=run.execution_id,
        retryMode="FAILED_ACTIONS",
    )
    watcher = console(deployment)
    status = watcher.watch(
        pipeline,
        run.execution_id,
        on_action=lambda _: None,
        on_approval=lambda _: None,
        timeout=STAGE_TIMEOUT,
    )
    return StageRun(run.execution_id, status, outcomes(deployment, stage, run.execution_id), 0.0)


def stage_outputs(deployment: LocalDeployment, stage: str) -> dict[str, Any]:
    return deployment.outputs[stage]


def s3_of(deployment: LocalDeployment, stage: str) -> Any:
    outputs = stage_outputs(deployment, stage)
    return deployment.client("s3", outputs["account_id"], outputs["region"])


def versions(deployment: LocalDeployment, stage: str) -> list[dict[str, Any]]:
    outputs = stage_outputs(deployment, stage)
    listed = s3_of(deployment, stage).list_object_versions(
        Bucket=outputs["source_bucket"], Prefix=outputs["source_key"]
    )
    return [v for v in listed.get("Versions", []) if v["Key"] == outputs["source_key"]]


def current_sha(deployment: LocalDeployment, stage: str) -> str:
    outputs = stage_outputs(deployment, stage)
    head = s3_of(deployment, stage).head_object(
        Bucket=outputs["source_bucket"], Key=outputs["source_key"]
    )
    return str(head["Metadata"].get("xrdeploy-sha256", ""))


def upload_bytes(deployment: LocalDeployment, stage: str, body: bytes) -> str:
    """Put a build into a stage's source bucket (this starts its pipeline); returns sha256."""
    outputs = stage_outputs(deployment, stage)
    s3_of(deployment, stage).put_object(
        Bucket=outputs["source_bucket"], Key=outputs["source_key"], Body=body
    )
    return hashlib.sha256(body).hexdigest()


def quiesce(deployment: LocalDeployment) -> None:
    """Stop (abandon) every execution still in progress, so a test starts from quiet pipelines:
    a build left waiting at beta's approval would otherwise hold later executions back."""
    for pipeline in stage_pipelines(deployment.chain):
        codepipeline = deployment.client("codepipeline", pipeline.account_id, pipeline.region)
        for summary in console(deployment).executions(pipeline, 100):
            if summary["status"] in ("InProgress", "Stopping"):
                codepipeline.stop_pipeline_execution(
                    pipelineName=pipeline.pipeline,
                    pipelineExecutionId=summary["pipelineExecutionId"],
                    abandon=True,
                    reason="test isolation",
                )
    names = Naming(deployment.chain.app.name)
    for stage in deployment.chain.stages:
        pipeline = find_stage(stage_pipelines(deployment.chain), stage.name)
        wait_until(
            partial(_executions_stopped, deployment, pipeline),
            f"{pipeline.stage}'s executions to stop",
            180,
        )
        # An abandoned execution's deployment goes on (as on AWS), and a group takes one
        # deployment at a time: wait for it, and for its rollback, to end.
        wait_until(
            partial(_deployments_ended, deployment, stage, names),
            f"{stage.name}'s deployments to end",
            180,
        )


def _executions_stopped(deployment: LocalDeployment, pipeline: StagePipeline) -> bool:
    return not any(
        e["status"] in ("InProgress", "Stopping")
        for e in console(deployment).executions(pipeline, 100)
    )


def _deployments_ended(deployment: LocalDeployment, stage: Stage, names: Naming) -> bool:
    codedeploy = deployment.client("codedeploy", stage.account_id, stage.region)
    return not codedeploy.list_deployments(
        applicationName=names.codedeploy_app(stage),
        deploymentGroupName=names.deployment_group(stage),
        includeOnlyStatuses=["Created", "Queued", "InProgress", "Baking", "Ready"],
    )["deployments"]


def promote_of(run: StageRun) -> ActionOutcome:
    """The Promote action's outcome; a run that never got there says how far it got."""
    assert "Promote" in run.actions, f"no Promote in {run.status} run: {run.actions}"
    return run.actions["Promote"]


def latest_deployment(deployment: LocalDeployment, stage: str) -> dict[str, Any]:
    names = Naming(deployment.chain.app.name)
    config = next(s for s in deployment.chain.stages if s.name == stage)
    codedeploy = deployment.client("codedeploy", config.account_id, config.region)
    ids = codedeploy.list_deployments(
        applicationName=names.codedeploy_app(config),
        deploymentGroupName=names.deployment_group(config),
    )["deployments"]
    infos = [codedeploy.get_deployment(deploymentId=i)["deploymentInfo"] for i in ids]
    return max(infos, key=lambda info: info["createTime"])
