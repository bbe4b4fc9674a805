"""The main job: the whole chain in the local cloud. Create every stage at once (no stack needs
another to exist first), upload one build to the first stage's bucket, and watch it flow by itself
— each pipeline started by S3 → EventBridge, deployed by CodeDeploy onto the stage's local
instances, approved where the chain asks, promoted by the copy function — then show each stage's
page and clean up: a local cloud the demo started is discarded whole; in one that was already
running, the demo destroys what it created, every stack at once."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from xrdeploy.config.model import ChainConfig
from xrdeploy.config.naming import Naming
from xrdeploy.console.chain_run import ChainFollower, StageResult
from xrdeploy.console.pipelines import (
    ActionRun,
    PendingApproval,
    PipelineConsole,
    StagePipeline,
    stage_pipelines,
)
from xrdeploy.rehearsal.local_chain import (
    LocalDeployment,
    sha256_of,
    upload_build,
    with_emulator_state,
)
from xrdeploy.rehearsal.local_cloud import (
    RunningLocalCloud,
    ensure_local_cloud,
    local_instances,
    stop_local_cloud,
)
from xrdeploy.rehearsal.pages import Page, instance_stage_tags, read_page


class DemoReporter(Protocol):
    def progress(self, message: str) -> None: ...
    def line(self, message: str) -> None: ...
    def approve(self, stage: str, pending: PendingApproval) -> tuple[bool, str]: ...
    # The wall time of one of PHASES, when it ends (benchmarks/bench_demo.py reads these).
    def phase(self, name: str, seconds: float) -> None: ...


PHASES = ("local cloud start", "synth", "apply", "upload to last stage", "teardown")


@contextmanager
def _timed(report: DemoReporter, name: str) -> Iterator[None]:
    started = time.monotonic()
    try:
        yield
    finally:
        report.phase(name, time.monotonic() - started)


@dataclass(frozen=True)
class DemoRequest:
    chain: ChainConfig
    build: Path
    workdir: Path
    keep: bool = False


def run_demo(request: DemoRequest, report: DemoReporter) -> int:
    """0 when the build reached and passed every stage, 1 otherwise."""
    with _timed(report, "local cloud start"):
        cloud = ensure_local_cloud()
    report.progress(f"local cloud at {cloud.endpoint}")
    chain = with_emulator_state(request.chain)
    deployment = LocalDeployment(chain, cloud.endpoint, request.workdir, progress=report.progress)
    try:
        with _timed(report, "synth"):
            deployment.synthesize()
        with _timed(report, "apply"):
            deployment.deploy(concurrently=True)
        with _timed(report, "upload to last stage"):
            results = _promote(deployment, request.build, report)
        _report_pages(deployment, report)
    finally:
        with _timed(report, "teardown"):
            _clean_up(request, cloud, deployment, report)
    reached_all = len(results) == len(chain.stages) and all(
        r.status == "Succeeded" for r in results
    )
    report.line(
        "done: the build passed every stage"
        if reached_all
        else "done: the chain stopped at " + results[-1].stage
        if results
        else "done: nothing ran"
    )
    return 0 if reached_all else 1


def _clean_up(
    request: DemoRequest,
    cloud: RunningLocalCloud,
    deployment: LocalDeployment,
    report: DemoReporter,
) -> None:
    if request.keep:
        report.line(f"left running: the stacks and the local cloud at {cloud.endpoint}")
    elif cloud.started_here:
        # Stopping the local cloud the demo started discards everything in it: destroying stack
        # by stack first would only spend a minute on what is thrown away anyway.
        report.progress("cleaning up: discarding the local cloud this demo started")
        stop_local_cloud()
    else:
        report.progress("cleaning up: destroying every stage this demo created, all at once")
        deployment.destroy(concurrently=True)


def _promote(deployment: LocalDeployment, build: Path, report: DemoReporter) -> list[StageResult]:
    pipelines = stage_pipelines(deployment.chain)
    console = PipelineConsole(deployment.clients)
    follower = ChainFollower(
        pipelines,
        deployment.clients,
        on_action=lambda p, run: report.line(_action_line(p, run)),
        on_approval=_answer_with(report, console),
    )
    known = follower.known_executions()
    version = upload_build(deployment, build)
    report.line(
        f"uploaded {build.name} sha256 {sha256_of(build)[:16]}… to "
        f"s3://{pipelines[0].source_bucket}/{pipelines[0].source_key} (version {version})"
    )
    results, hops = follower.follow(known)
    for result in results:
        report.line(f"stage {result.stage}: {result.status} in {result.seconds:.0f}s")
    failed_deploys = [
        r
        for r in results
        if any(a.action_name == "Deploy" and a.status == "Failed" for a in r.actions)
    ]
    for result in failed_deploys:
        report.line(f"stage {result.stage}: {rollback_outcome(deployment, result.stage)}")
    for hop in hops:
        report.line(
            f"{hop.source_stage} → {hop.destination_stage}: s3://{hop.bucket}/{hop.key} "
            f"version {hop.version_id} sha256 {hop.sha256[:12]}…"
        )
    return results


def rollback_outcome(deployment: LocalDeployment, stage_name: str, timeout: float = 600) -> str:
    """What CodeDeploy did after the stage's failed deployment: the rollback's result (waited
    for), or that there was no earlier successful revision to roll back to."""
    stage = next(s for s in deployment.chain.stages if s.name == stage_name)
    names = Naming(deployment.chain.app.name)
    codedeploy = deployment.client("codedeploy", stage.account_id, stage.region)
    group = {
        "applicationName": names.codedeploy_app(stage),
        "deploymentGroupName": names.deployment_group(stage),
    }
    deadline = time.monotonic() + timeout
    while True:
        ids = codedeploy.list_deployments(**group)["deployments"]
        infos = [codedeploy.get_deployment(deploymentId=i)["deploymentInfo"] for i in ids]
        latest = max(infos, key=lambda info: info["createTime"])
        if latest.get("creator") != "codeDeployRollback":
            return "deployment failed; no earlier successful revision to roll back to"
        if latest["status"] in ("Succeeded", "Failed", "Stopped") or time.monotonic() > deadline:
            return f"rolled back to its last good revision: {latest['deploymentId']} " + str(
                latest["status"]
            )
        time.sleep(1)


def _answer_with(
    report: DemoReporter, console: PipelineConsole
) -> Callable[[StagePipeline, PendingApproval], None]:
    def answer(pipeline: StagePipeline, pending: PendingApproval) -> None:
        approve, comment = report.approve(pipeline.stage, pending)
        console.answer_approval(pipeline, approve=approve, comment=comment)
        report.line(f"  {pipeline.stage}: {'approved' if approve else 'rejected'} ({comment})")

    return answer


def _action_line(pipeline: StagePipeline, run: ActionRun) -> str:
    detail = run.error or run.summary
    said = f" — {detail}" if detail else ""
    return f"  {pipeline.stage}: {run.stage_name}/{run.action_name} {run.status}{said}"


def _report_pages(deployment: LocalDeployment, report: DemoReporter) -> list[Page]:
    pages: list[Page] = []
    instances = local_instances(deployment.endpoint)
    for stage in deployment.chain.stages:
        ec2 = deployment.client("ec2", stage.account_id, stage.region)
        tagged = instance_stage_tags(ec2, deployment.chain.app.name)
        for instance in instances:
            # A local instance no deployment has reached yet has no page.
            if tagged.get(instance["instance_id"]) != stage.name or not instance["page_url"]:
                continue
            page = read_page(instance["instance_id"], instance["page_url"])
            pages.append(page)
            shows = page.error or f"version {page.version}, stage {page.stage}, {page.region}"
            report.line(f"page of {stage.name} ({page.instance_id}): {page.url} → {shows}")
    return pages
