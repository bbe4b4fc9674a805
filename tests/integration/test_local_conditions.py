"""V2 stage conditions of the local CodePipeline (alarm gates, deployment windows, rollbacks)
and the state-change events CodePipeline and CodeDeploy send to EventBridge, through boto3."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.integration.codepipeline_world import (
    ACCOUNT,
    JOB_TIMEOUT_SECONDS,
    REGION,
    ClientFactory,
    World,
    clients_of,
)
from tests.integration.conditions_world import (
    GATED_STAGE,
    alarm_rule,
    gated_pipeline,
    window_rule,
)
from tests.integration.conftest import SessionLocalCloud
from tests.integration.polling import wait_until

pytestmark = pytest.mark.integration

WAIT_SCALE = 0.05  # a WaitTime minute lasts 3 seconds in this local cloud
BAKE_MINUTES = 3


@pytest.fixture(scope="module")
def endpoint(own_cloud: SessionLocalCloud, cloud_settings: Callable[..., object]) -> str:
    cloud_settings(
        codepipeline_job_timeout_seconds=JOB_TIMEOUT_SECONDS, codepipeline_wait_scale=WAIT_SCALE
    )
    return own_cloud.endpoint


@pytest.fixture(scope="module")
def aws(endpoint: str) -> ClientFactory:
    return clients_of(endpoint)


@pytest.fixture(scope="module")
def world(aws: ClientFactory) -> World:
    return World(aws)


def _alarm(aws: ClientFactory) -> str:
    name = f"cp-bake-{uuid.uuid4().hex[:8]}"
    cloudwatch = aws("cloudwatch")
    cloudwatch.put_metric_alarm(
        AlarmName=name,
        Namespace="xrdeploy/test",
        MetricName="Errors",
        Statistic="Sum",
        Period=300,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
    )
    cloudwatch.set_alarm_state(AlarmName=name, StateValue="OK", StateReason="healthy")
    return name


def _bake(alarm: str) -> dict[str, Any]:
    return {
        "onSuccess": {
            "conditions": [{"result": "ROLLBACK", "rules": [alarm_rule(alarm, BAKE_MINUTES)]}]
        }
    }


def _worker_version(pipeline: Any, execution_id: str) -> str:
    summary = pipeline.actions(execution_id)[GATED_STAGE]["output"]["executionResult"]
    return str(json.loads(summary["externalExecutionSummary"])["version"])


def test_an_alarm_gate_holds_the_stage_and_passes_when_the_alarm_stays_ok(
    world: World, aws: ClientFactory
) -> None:
    # GIVEN a stage with an onSuccess CloudWatchAlarm rule (bake time) on an OK alarm
    alarm = _alarm(aws)
    pipeline = gated_pipeline(world, _bake(alarm))
    declared = aws("codepipeline").get_pipeline(name=pipeline.name)["pipeline"]["stages"][-1]
    assert declared["onSuccess"] == _bake(alarm)["onSuccess"]  # stored and returned unchanged
    # WHEN an execution's actions succeed in that stage
    pipeline.upload("build 1")
    execution_id = pipeline.start()
    # THEN the stage holds while the condition watches the alarm
    held = pipeline.wait_for_condition(execution_id, "onSuccessConditionState", "InProgress")
    assert held["conditionStates"][0]["ruleStates"][0]["ruleName"] == "Bake"
    assert pipeline.actions(execution_id)[GATED_STAGE]["status"] == "Succeeded"
    assert pipeline.stage_state()["latestExecution"]["status"] == "InProgress"
    # AND passes once the alarm stayed OK for the wait time
    assert pipeline.wait_for_status(execution_id, "Succeeded", "Failed")["status"] == "Succeeded"
    passed = pipeline.stage_state()["onSuccessConditionState"]
    assert passed["latestExecution"]["status"] == "Succeeded"
    rules = aws("codepipeline").list_rule_executions(
        pipelineName=pipeline.name, filter={"pipelineExecutionId": execution_id}
    )["ruleExecutionDetails"]
    assert [(r["ruleName"], r["status"]) for r in rules] == [("Bake", "Succeeded")]
    assert rules[0]["input"]["resolvedConfiguration"]["AlarmName"] == alarm


def test_an_alarm_during_the_bake_rolls_the_stage_back_to_the_previous_revision(
    world: World, aws: ClientFactory
) -> None:
    # GIVEN a gated stage in which build 1 passed its bake
    alarm = _alarm(aws)
    pipeline = gated_pipeline(world, _bake(alarm))
    first_version = pipeline.upload("build 1")
    first = pipeline.start()
    assert pipeline.wait_for_status(first, "Succeeded", "Failed")["status"] == "Succeeded"
    # WHEN the alarm goes to ALARM during build 2's bake
    pipeline.upload("build 2")
    second = pipeline.start()
    pipeline.wait_for_condition(second, "onSuccessConditionState", "InProgress")
    aws("cloudwatch").set_alarm_state(AlarmName=alarm, StateValue="ALARM", StateReason="errors")
    # THEN the condition fails the stage and the execution
    assert pipeline.wait_for_status(second, "Succeeded", "Failed")["status"] == "Failed"
    # AND a rollback execution runs the stage again with build 1
    rolled_back = pipeline.rollback_of(first)
    assert rolled_back["status"] == "Succeeded"
    assert rolled_back["executionType"] == "ROLLBACK"
    assert rolled_back["trigger"] == {"triggerType": "AutomatedRollback", "triggerDetail": second}
    assert [r["revisionId"] for r in rolled_back["sourceRevisions"]] == [first_version]
    assert _worker_version(pipeline, rolled_back["pipelineExecutionId"]) == first_version
    stage = pipeline.stage_state()
    assert stage["latestExecution"] == {
        "pipelineExecutionId": rolled_back["pipelineExecutionId"],
        "status": "Succeeded",
        "type": "ROLLBACK",
    }


def test_on_failure_rollback_after_a_failing_action(world: World) -> None:
    # GIVEN a stage that rolls back on failure, in which build 1 succeeded
    pipeline = gated_pipeline(world, {"onFailure": {"result": "ROLLBACK"}})
    first_version = pipeline.upload("build 1")
    first = pipeline.start()
    assert pipeline.wait_for_status(first, "Succeeded", "Failed")["status"] == "Succeeded"
    # WHEN build 2's action fails in that stage
    pipeline.upload("build 2")
    second = pipeline.start(mode="fail")
    assert pipeline.wait_for_status(second, "Succeeded", "Failed")["status"] == "Failed"
    # THEN the stage is rolled back to build 1, with build 1's variables
    rolled_back = pipeline.rollback_of(first)
    assert rolled_back["status"] == "Succeeded"
    assert [r["revisionId"] for r in rolled_back["sourceRevisions"]] == [first_version]
    execution = pipeline.client.get_pipeline_execution(
        pipelineName=pipeline.name, pipelineExecutionId=rolled_back["pipelineExecutionId"]
    )["pipelineExecution"]
    assert execution["variables"] == [{"name": "mode", "resolvedValue": "succeed"}]
    assert execution["rollbackMetadata"] == {"rollbackTargetPipelineExecutionId": first}
    # AND RollbackStage refuses a rollback execution as its target, as AWS does
    with pytest.raises(ClientError) as refused:
        pipeline.client.rollback_stage(
            pipelineName=pipeline.name,
            stageName=GATED_STAGE,
            targetPipelineExecutionId=rolled_back["pipelineExecutionId"],
        )
    assert refused.value.response["Error"]["Code"] == "UnableToRollbackStageException"


def test_rollback_stage_reruns_a_stage_with_an_earlier_execution(world: World) -> None:
    # GIVEN two executions that succeeded, build 1 then build 2
    pipeline = gated_pipeline(world, {})
    first_version = pipeline.upload("build 1")
    first = pipeline.start()
    assert pipeline.wait_for_status(first, "Succeeded", "Failed")["status"] == "Succeeded"
    pipeline.upload("build 2")
    second = pipeline.start()
    assert pipeline.wait_for_status(second, "Succeeded", "Failed")["status"] == "Succeeded"
    # WHEN the stage is rolled back to the first one
    started = pipeline.client.rollback_stage(
        pipelineName=pipeline.name, stageName=GATED_STAGE, targetPipelineExecutionId=first
    )["pipelineExecutionId"]
    # THEN a ROLLBACK execution runs the stage with build 1, triggered by the caller
    rolled_back = pipeline.rollback_of(first)
    assert rolled_back["pipelineExecutionId"] == started
    assert rolled_back["status"] == "Succeeded"
    assert rolled_back["trigger"] == {
        "triggerType": "ManualRollback",
        "triggerDetail": f"arn:aws:iam::{ACCOUNT}:root",
    }
    assert _worker_version(pipeline, started) == first_version
    assert set(pipeline.actions(started)) == {GATED_STAGE}  # the source stage did not run again
    with pytest.raises(ClientError) as refused:
        pipeline.client.rollback_stage(
            pipelineName=pipeline.name, stageName="Source", targetPipelineExecutionId=first
        )
    assert refused.value.response["Error"]["Code"] == "UnableToRollbackStageException"


def test_a_closed_deployment_window_holds_the_stage_until_overridden(world: World) -> None:
    # GIVEN a stage that may only be entered in 2199
    window = window_rule("0 * * * * ? 2199")
    pipeline = gated_pipeline(
        world, {"beforeEntry": {"conditions": [{"result": "FAIL", "rules": [window]}]}}
    )
    pipeline.upload("build 1")
    execution_id = pipeline.start()
    # THEN the execution waits before the stage: its actions do not run
    pipeline.wait_for_condition(execution_id, "beforeEntryConditionState", "InProgress")
    assert GATED_STAGE not in pipeline.actions(execution_id)
    # WHEN the entry condition is overridden THEN the stage runs
    pipeline.client.override_stage_condition(
        pipelineName=pipeline.name,
        stageName=GATED_STAGE,
        pipelineExecutionId=execution_id,
        conditionType="BEFORE_ENTRY",
    )
    assert pipeline.wait_for_status(execution_id, "Succeeded", "Failed")["status"] == "Succeeded"
    entry = pipeline.stage_state()["beforeEntryConditionState"]
    assert entry["latestExecution"]["status"] == "Overridden"
    rule_types = pipeline.client.list_rule_types()["ruleTypes"]
    assert {t["id"]["provider"] for t in rule_types} >= {"CloudWatchAlarm", "DeploymentWindow"}


def _failure_queue(aws: ClientFactory) -> str:
    """An SQS queue that an EventBridge rule feeds with pipeline and deployment failures."""
    name = f"cp-failures-{uuid.uuid4().hex[:8]}"
    sqs, events = aws("sqs"), aws("events")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    pattern = {
        "source": ["aws.codepipeline", "aws.codedeploy"],
        "detail-type": [
            "CodePipeline Pipeline Execution State Change",
            "CodeDeploy Deployment State-change Notification",
        ],
        "detail": {"state": ["FAILED", "FAILURE"]},
    }
    events.put_rule(Name=name, EventPattern=json.dumps(pattern))
    events.put_targets(Rule=name, Targets=[{"Id": "queue", "Arn": arn}])
    return str(url)


def test_failures_reach_an_sqs_queue_through_eventbridge(world: World, aws: ClientFactory) -> None:
    # GIVEN an EventBridge rule sending failures to a queue, and a group without instances
    queue = _failure_queue(aws)
    application, group = world.deployment_group()
    pipeline = gated_pipeline(world, {}, deploy=(application, group))
    # WHEN an execution's deployment fails
    pipeline.upload("build 1")
    execution_id = pipeline.start()
    assert pipeline.wait_for_status(execution_id, "Succeeded", "Failed")["status"] == "Failed"
    deployment_id = pipeline.actions(execution_id)["Deploy"]["output"]["executionResult"][
        "externalExecutionId"
    ]
    # THEN the queue receives the pipeline's FAILED and the deployment's FAILURE events
    received: dict[str, dict[str, Any]] = {}
    ours = {"execution-id": execution_id, "deploymentId": deployment_id}

    def both() -> bool:
        messages = aws("sqs").receive_message(
            QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1
        )
        for message in messages.get("Messages", []):
            event = json.loads(message["Body"])
            if any(event["detail"].get(key) == value for key, value in ours.items()):
                received[event["detail-type"]] = event
        return len(received) == 2

    wait_until(both)
    failed = received["CodePipeline Pipeline Execution State Change"]
    assert failed["source"] == "aws.codepipeline"
    assert failed["detail"]["pipeline"] == pipeline.name
    assert failed["detail"]["execution-id"] == execution_id
    assert failed["detail"]["state"] == "FAILED"
    deployment = received["CodeDeploy Deployment State-change Notification"]
    assert deployment["source"] == "aws.codedeploy"
    group_id = aws("codedeploy").get_deployment_group(
        applicationName=application, deploymentGroupName=group
    )["deploymentGroupInfo"]["deploymentGroupId"]
    assert deployment["detail"] == {
        "region": REGION,
        "deploymentId": deployment_id,
        "instanceGroupId": group_id,
        "deploymentGroup": group,
        "application": application,
        "state": "FAILURE",
    }
    assert (
        f"arn:aws:codedeploy:{REGION}:{ACCOUNT}:application:{application}"
        in (deployment["resources"])
    )
