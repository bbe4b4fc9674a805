"""Reading the wave chain through the AWS APIs: executions and their type, stage conditions,
the pages the fleets serve, and the notices in the queue."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.integration.chain_runs import execution_ids, pipeline_of, quiesce, upload_bytes
from tests.integration.polling import wait_until
from tests.integration.wave.conftest import QUEUE, QUEUE_PLACE
from xrdeploy.console.pipelines import PipelineConsole
from xrdeploy.rehearsal.local_chain import LocalDeployment
from xrdeploy.rehearsal.local_cloud import local_instances
from xrdeploy.rehearsal.pages import instance_stage_tags, read_page


def executions(chain: LocalDeployment, stage: str, **filters: Any) -> list[dict[str, Any]]:
    pipeline = pipeline_of(chain, stage)
    codepipeline = chain.client("codepipeline", pipeline.account_id, pipeline.region)
    listed = codepipeline.list_pipeline_executions(
        pipelineName=pipeline.pipeline, maxResults=100, **filters
    )
    return list(listed["pipelineExecutionSummaries"])


def wait_for_end(chain: LocalDeployment, stage: str, execution_id: str) -> dict[str, Any]:
    console = PipelineConsole(chain.clients)

    def ended() -> dict[str, Any] | None:
        execution = console.execution(pipeline_of(chain, stage), execution_id)
        return execution if execution["status"] not in ("InProgress", "Stopping") else None

    found: dict[str, Any] = wait_until(ended, f"{stage} execution {execution_id} to end", 600)
    return found


def stage_state(chain: LocalDeployment, stage: str, pipeline_stage: str) -> dict[str, Any]:
    state = PipelineConsole(chain.clients).state(pipeline_of(chain, stage))
    found: dict[str, Any] = next(
        s for s in state["stageStates"] if s["stageName"] == pipeline_stage
    )
    return found


def action_details(chain: LocalDeployment, stage: str, execution_id: str) -> list[dict[str, Any]]:
    pipeline = pipeline_of(chain, stage)
    codepipeline = chain.client("codepipeline", pipeline.account_id, pipeline.region)
    return list(
        codepipeline.list_action_executions(
            pipelineName=pipeline.pipeline, filter={"pipelineExecutionId": execution_id}
        )["actionExecutionDetails"]
    )


def pages(chain: LocalDeployment, stage: str) -> list[str]:
    """The version each instance of the stage serves."""
    config = next(s for s in chain.chain.stages if s.name == stage)
    urls = {i["instance_id"]: i["page_url"] for i in local_instances(chain.endpoint)}
    tagged = instance_stage_tags(
        chain.client("ec2", config.account_id, config.region), chain.chain.app.name
    )
    ours = sorted(i for i, s in tagged.items() if s == stage)
    assert len(ours) == config.fleet.instance_count, stage
    shown = []
    for instance_id in ours:
        page = read_page(instance_id, urls[instance_id])
        assert (page.stage, page.region) == (stage, config.region)
        shown.append(page.version)
    return shown


def queue(chain: LocalDeployment) -> tuple[Any, str]:
    sqs = chain.client("sqs", *QUEUE_PLACE)
    return sqs, str(sqs.get_queue_url(QueueName=QUEUE)["QueueUrl"])


def drain(chain: LocalDeployment) -> None:
    """Empty the queue of earlier tests' notices (by receiving: PurgeQueue allows one purge a
    minute)."""
    notices(chain, wait_seconds=1)


def notices(chain: LocalDeployment, wait_seconds: int = 2) -> list[str]:
    """Every message waiting in the queue (deleted once read), until a long poll of
    `wait_seconds` finds none."""
    sqs, url = queue(chain)
    found: list[str] = []
    while True:
        messages = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=wait_seconds
        ).get("Messages", [])
        if not messages:
            return found
        for message in messages:
            found.append(readable(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def readable(body: str) -> str:
    # EventBridge delivers a string input template as a JSON string.
    return str(json.loads(body)) if body.startswith('"') else body


def new_standard_execution(chain: LocalDeployment, stage: str, known: set[str]) -> str:
    """The first execution started since `known` that is not a rollback (a stage that failed may
    have started its rollback execution too by the time this looks)."""

    def started() -> str | None:
        new = [
            e
            for e in executions(chain, stage)
            if e["pipelineExecutionId"] not in known
            and e.get("executionType", "STANDARD") == "STANDARD"
        ]
        return str(new[-1]["pipelineExecutionId"]) if new else None  # listed newest first

    found: str = wait_until(started, f"a new execution of {stage}", 600)
    return found


def rollbacks_of(chain: LocalDeployment, stage: str, failed_execution: str) -> list[dict[str, Any]]:
    """The rollback executions CodePipeline started because `failed_execution` failed."""
    return [
        e
        for e in executions(chain, stage)
        if e.get("executionType") == "ROLLBACK"
        and e["trigger"].get("triggerDetail") == failed_execution
    ]


def rule_runs(chain: LocalDeployment, stage: str, execution_id: str) -> list[dict[str, Any]]:
    """The condition rules one execution ran (ListRuleExecutions)."""
    pipeline = pipeline_of(chain, stage)
    codepipeline = chain.client("codepipeline", pipeline.account_id, pipeline.region)
    return list(
        codepipeline.list_rule_executions(
            pipelineName=pipeline.pipeline, filter={"pipelineExecutionId": execution_id}
        )["ruleExecutionDetails"]
    )


def live_build(
    chain: LocalDeployment, stage: str, make_build: Callable[..., Path]
) -> tuple[str, str]:
    """The STANDARD execution whose revision the stage runs, and the version its fleet serves;
    deploys a good build there first when the stage never ran one (a test arranging this in a
    run where it comes first)."""
    succeeded = [
        e
        for e in executions(chain, stage, filter={"succeededInStage": {"stageName": "Deploy"}})
        if e.get("executionType", "STANDARD") == "STANDARD"
    ]
    if succeeded:
        [version] = set(pages(chain, stage))
        return str(succeeded[0]["pipelineExecutionId"]), version
    known = execution_ids(chain, stage)
    upload_bytes(chain, stage, make_build(f"0.9-{time.time_ns() % 10**10}").read_bytes())
    first = new_standard_execution(chain, stage, known)
    assert wait_for_end(chain, stage, first)["status"] == "Succeeded"
    quiesce(chain)  # what the stage promoted runs on too
    return live_build(chain, stage, make_build)
