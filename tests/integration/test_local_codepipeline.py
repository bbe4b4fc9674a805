"""The local CodePipeline (emulator/plugins codepipeline): pipelines started by S3 → EventBridge,
run by the engine, driven through the real API with boto3."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.integration.codepipeline_world import (
    ACCOUNT,
    JOB_TIMEOUT_SECONDS,
    REGION,
    ClientFactory,
    Pipeline,
    World,
    clients_of,
    trust_document,
)
from tests.integration.conftest import SessionLocalCloud
from tests.integration.polling import wait_until

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def endpoint(own_cloud: SessionLocalCloud, cloud_settings: Callable[..., object]) -> str:
    cloud_settings(codepipeline_job_timeout_seconds=JOB_TIMEOUT_SECONDS)
    return own_cloud.endpoint


@pytest.fixture
def no_reply_timeout(cloud_settings: Callable[..., object]) -> Iterator[float]:
    """A job timeout of a few seconds for this test only: its function never replies."""
    seconds = 5.0
    cloud_settings(codepipeline_job_timeout_seconds=seconds)
    yield seconds
    cloud_settings(codepipeline_job_timeout_seconds=JOB_TIMEOUT_SECONDS)


@pytest.fixture(scope="module")
def aws(endpoint: str) -> ClientFactory:
    return clients_of(endpoint)


@pytest.fixture(scope="module")
def world(aws: ClientFactory) -> World:
    return World(aws)


def test_an_upload_runs_the_pipeline_through_eventbridge(world: World) -> None:
    # GIVEN a pipeline S3 source → Lambda invoke, started by an EventBridge rule
    pipeline = world.pipeline()
    # WHEN a new version of the source object is uploaded
    version = pipeline.upload("build 1")
    # THEN one execution starts, triggered by the rule, for that version
    execution_id = pipeline.wait_for_run(version)
    by_rule = [e for e in pipeline.executions() if e["trigger"]["triggerType"] == "CloudWatchEvent"]
    assert [e["pipelineExecutionId"] for e in by_rule] == [execution_id]
    assert by_rule[0]["trigger"]["triggerDetail"] == pipeline.rule_arn
    execution = pipeline.wait_for_status(execution_id, "Succeeded", "Failed")
    assert execution["status"] == "Succeeded"
    assert execution["artifactRevisions"][0]["revisionId"] == version
    # AND the source was copied into the artifact store, encrypted with the store's key
    actions = pipeline.actions(execution_id)
    assert actions["Source"]["output"]["outputVariables"]["VersionId"] == version
    location = actions["Source"]["output"]["outputArtifacts"][0]["s3location"]
    assert location["bucket"] == world.artifact_bucket
    assert location["key"].startswith(f"{pipeline.name[:20]}/SourceArti/")
    head = world.aws("s3").head_object(Bucket=location["bucket"], Key=location["key"])
    assert head["ServerSideEncryption"] == "aws:kms"
    assert head["SSEKMSKeyId"] == world.key_arn
    # AND the function got the job with the variables resolved and working artifact credentials
    promote = actions["Promote"]
    assert promote["status"] == "Succeeded"
    reported = json.loads(promote["output"]["executionResult"]["externalExecutionSummary"])
    assert reported["execution"] == execution_id
    assert reported["version"] == version
    assert reported["bytes"] == head["ContentLength"]
    assert reported["key"] == world.key_arn
    assert reported["context"]["pipelineName"] == pipeline.name
    assert reported["context"]["pipelineExecutionId"] == execution_id
    assert reported["context"]["stage"] == {"name": "Promote"}
    assert promote["output"]["executionResult"]["externalExecutionId"] == "ext-1"
    assert promote["output"]["outputVariables"] == {"Copied": "yes"}
    assert promote["input"]["resolvedConfiguration"]["FunctionName"] == world.function


def test_creating_a_pipeline_starts_an_execution_as_aws_does(world: World) -> None:
    # WHEN a pipeline is created while its source object does not exist yet
    pipeline = world.pipeline()
    # THEN AWS's first execution (trigger CreatePipeline, by the caller) fails at the source
    [created] = wait_until(pipeline.executions)
    assert created["trigger"] == {
        "triggerType": "CreatePipeline",
        "triggerDetail": f"arn:aws:iam::{ACCOUNT}:root",
    }
    execution_id = created["pipelineExecutionId"]
    assert pipeline.wait_for_status(execution_id, "Succeeded", "Failed")["status"] == "Failed"
    source = pipeline.actions(execution_id)["Source"]
    assert source["output"]["executionResult"]["errorDetails"]["message"] == (
        f"The object with key '{pipeline.key}' does not exist."
    )


def test_approval_with_the_token_from_the_state_continues(world: World) -> None:
    # GIVEN an execution waiting at a Manual approval
    pipeline = world.pipeline(approval=True)
    execution_id = pipeline.wait_for_run(pipeline.upload("build 1"))
    # WHEN it is approved with the token GetPipelineState shows
    pipeline.answer(execution_id, "Approved")
    # THEN the execution runs on to success, the approval recording who approved and why
    assert pipeline.wait_for_status(execution_id, "Succeeded", "Failed")["status"] == "Succeeded"
    approve = pipeline.actions(execution_id)["Approve"]
    assert approve["status"] == "Succeeded"
    assert (
        approve["output"]["executionResult"]["externalExecutionSummary"] == "Approved by the test"
    )
    assert approve["updatedBy"] == f"arn:aws:iam::{ACCOUNT}:root"


def test_a_rejected_approval_fails_the_execution(world: World) -> None:
    # GIVEN an execution waiting at a Manual approval
    pipeline = world.pipeline(approval=True)
    execution_id = pipeline.wait_for_run(pipeline.upload("build 1"))
    # WHEN it is rejected
    pipeline.answer(execution_id, "Rejected")
    # THEN the approval, its stage and the execution fail, and Promote never runs
    assert pipeline.wait_for_status(execution_id, "Succeeded", "Failed")["status"] == "Failed"
    actions = pipeline.actions(execution_id)
    assert actions["Approve"]["status"] == "Failed"
    assert "Promote" not in actions
    state = pipeline.client.get_pipeline_state(name=pipeline.name)
    stages = {s["stageName"]: s for s in state["stageStates"]}
    assert stages["Approve"]["latestExecution"] == {
        "pipelineExecutionId": execution_id,
        "status": "Failed",
    }
    # AND the token is spent
    with pytest.raises(ClientError) as refused:
        pipeline.client.put_approval_result(
            pipelineName=pipeline.name,
            stageName="Approve",
            actionName="Approve",
            result={"summary": "late", "status": "Approved"},
            token=str(uuid.uuid4()),
        )
    assert refused.value.response["Error"]["Code"] == "ApprovalAlreadyCompletedException"


def test_a_newer_upload_supersedes_the_one_waiting_for_a_stage(world: World) -> None:
    # GIVEN a first execution waiting at the approval (which holds the Approve stage)
    pipeline = world.pipeline(approval=True)
    first = pipeline.wait_for_run(pipeline.upload("build 1"))
    pipeline.approval_token(first)
    # WHEN two more builds arrive while it waits
    second = pipeline.wait_for_run(pipeline.upload("build 2"))
    wait_until(lambda: _inbound(pipeline) == [second])
    third = pipeline.wait_for_run(pipeline.upload("build 3"))
    # THEN the second, waiting to enter Approve, is superseded by the third
    assert pipeline.wait_for_status(second, "Superseded", "Failed")["status"] == "Superseded"
    wait_until(lambda: _inbound(pipeline) == [third])
    # AND once the first is approved it goes on, and the third enters the approval next
    pipeline.answer(first, "Approved")
    assert pipeline.wait_for_status(first, "Succeeded", "Failed")["status"] == "Succeeded"
    pipeline.answer(third, "Approved")
    assert pipeline.wait_for_status(third, "Succeeded", "Failed")["status"] == "Succeeded"
    statuses = {
        e["pipelineExecutionId"]: e["status"]
        for e in pipeline.executions()
        if e["trigger"]["triggerType"] == "CloudWatchEvent"
    }
    assert statuses == {first: "Succeeded", second: "Superseded", third: "Succeeded"}


def test_queued_executions_wait_their_turn(world: World) -> None:
    # GIVEN a QUEUED pipeline whose first execution waits at the approval
    pipeline = world.pipeline(approval=True, execution_mode="QUEUED")
    first = pipeline.wait_for_run(pipeline.upload("build 1"))
    pipeline.approval_token(first)
    # WHEN two more builds arrive
    second = pipeline.wait_for_run(pipeline.upload("build 2"))
    wait_until(lambda: _inbound(pipeline) == [second])
    third = pipeline.wait_for_run(pipeline.upload("build 3"))
    # THEN both wait, in order, and each enters the approval when the one before has left it
    wait_until(lambda: _inbound(pipeline) == [second, third])
    for execution_id in (first, second, third):
        pipeline.answer(execution_id, "Approved")
        status = pipeline.wait_for_status(execution_id, "Succeeded", "Failed", "Superseded")
        assert status["status"] == "Succeeded"


def _inbound(pipeline: Pipeline) -> list[str]:
    state = pipeline.client.get_pipeline_state(name=pipeline.name)
    stage = next(s for s in state["stageStates"] if s["stageName"] == "Approve")
    return [e["pipelineExecutionId"] for e in stage.get("inboundExecutions", [])]


def test_a_role_that_does_not_trust_codepipeline_is_refused(world: World) -> None:
    # GIVEN a role that only Lambda may assume
    role = world.aws("iam").create_role(
        RoleName=f"cp-untrusted-{uuid.uuid4().hex[:8]}",
        AssumeRolePolicyDocument=trust_document("lambda.amazonaws.com"),
    )["Role"]["Arn"]
    # WHEN a pipeline is created with it
    declaration = {
        "name": f"cp-refused-{uuid.uuid4().hex[:8]}",
        "roleArn": role,
        "pipelineType": "V2",
        "artifactStore": {"type": "S3", "location": world.artifact_bucket},
        "stages": world.stages("refused.zip", approval=False, mode="succeed"),
    }
    with pytest.raises(ClientError) as refused:
        world.aws("codepipeline").create_pipeline(pipeline=declaration)
    # THEN CodePipeline refuses it as AWS does
    assert refused.value.response["Error"] == {
        "Code": "InvalidStructureException",
        "Message": f"CodePipeline is not authorized to perform AssumeRole on role {role}",
    }


def test_a_rule_whose_role_does_not_trust_eventbridge_starts_nothing(world: World) -> None:
    # GIVEN a pipeline whose rule targets it with a role that only Lambda may assume
    untrusted = world.aws("iam").create_role(
        RoleName=f"cp-events-untrusted-{uuid.uuid4().hex[:8]}",
        AssumeRolePolicyDocument=trust_document("lambda.amazonaws.com"),
    )["Role"]["Arn"]
    pipeline = world.pipeline(events_role=untrusted)
    # AND a second target of the same rule, a log group, to see that the event was delivered
    group = f"/cp/{pipeline.name}-rule"
    logs = world.aws("logs")
    logs.create_log_group(logGroupName=group)
    world.aws("events").put_targets(
        Rule=pipeline.name,
        Targets=[{"Id": "log", "Arn": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{group}"}],
    )
    # WHEN a build arrives
    pipeline.upload("build 1")
    wait_until(lambda: logs.filter_log_events(logGroupName=group)["events"])
    # THEN the rule fired but EventBridge could not assume the role: no execution started
    triggers = [e["trigger"]["triggerType"] for e in pipeline.executions()]
    assert triggers == ["CreatePipeline"]


def test_a_job_failure_fails_the_stage_and_the_execution(world: World) -> None:
    # GIVEN a pipeline whose function reports PutJobFailureResult
    pipeline = world.pipeline(mode="fail")
    # WHEN a build arrives
    execution_id = pipeline.wait_for_run(pipeline.upload("build 1"))
    # THEN the action fails with the function's message, and so do its stage and the execution
    assert pipeline.wait_for_status(execution_id, "Succeeded", "Failed")["status"] == "Failed"
    promote = pipeline.actions(execution_id)["Promote"]
    assert promote["status"] == "Failed"
    assert promote["output"]["executionResult"]["errorDetails"] == {
        "code": "JobFailed",
        "message": "failed on purpose",
    }
    state = pipeline.client.get_pipeline_state(name=pipeline.name)
    promote_stage = state["stageStates"][-1]
    assert promote_stage["latestExecution"]["status"] == "Failed"
    assert promote_stage["actionStates"][0]["latestExecution"]["errorDetails"]["message"] == (
        "failed on purpose"
    )


def test_a_continuation_token_invokes_the_function_again(world: World) -> None:
    # GIVEN a function that first reports success with a continuation token
    pipeline = world.pipeline(mode="continue")
    # WHEN a build arrives
    execution_id = pipeline.wait_for_run(pipeline.upload("build 1"))
    # THEN CodePipeline invokes it again with that token, and the second result ends the action
    assert pipeline.wait_for_status(execution_id, "Succeeded", "Failed")["status"] == "Succeeded"
    promote = pipeline.actions(execution_id)["Promote"]
    reported = json.loads(promote["output"]["executionResult"]["externalExecutionSummary"])
    assert reported["token"] == "step-2"


def test_a_function_that_never_reports_times_the_job_out(
    world: World, no_reply_timeout: float
) -> None:
    # GIVEN a function that returns without a job result, and a job timeout of a few seconds
    pipeline = world.pipeline(mode="silent")
    execution_id = pipeline.wait_for_run(pipeline.upload("build 1"))
    # THEN after the job timeout the action fails with CodePipeline's message
    assert pipeline.wait_for_status(execution_id, "Succeeded", "Failed")["status"] == "Failed"
    promote = pipeline.actions(execution_id)["Promote"]
    assert (
        "failed to return a result"
        in promote["output"]["executionResult"]["errorDetails"]["message"]
    )
    # AND only once the timeout had passed
    assert (promote["lastUpdateTime"] - promote["startTime"]).total_seconds() >= no_reply_timeout


def test_stop_with_abandon_ends_a_waiting_approval(world: World) -> None:
    # GIVEN an execution waiting at the approval
    pipeline = world.pipeline(approval=True)
    execution_id = pipeline.wait_for_run(pipeline.upload("build 1"))
    pipeline.approval_token(execution_id)
    # WHEN it is stopped with abandon
    pipeline.client.stop_pipeline_execution(
        pipelineName=pipeline.name, pipelineExecutionId=execution_id, abandon=True, reason="no"
    )
    # THEN the approval is abandoned and the execution stopped, with the reason
    assert pipeline.wait_for_status(execution_id, "Stopped", "Failed")["status"] == "Stopped"
    assert pipeline.actions(execution_id)["Approve"]["status"] == "Abandoned"
    [summary] = [e for e in pipeline.executions() if e["pipelineExecutionId"] == execution_id]
    assert summary["stopTrigger"] == {"reason": "no"}
    # AND the stopped stage can be retried, which asks for the approval again
    pipeline.client.retry_stage_execution(
        pipelineName=pipeline.name,
        stageName="Approve",
        pipelineExecutionId=execution_id,
        retryMode="FAILED_ACTIONS",
    )
    pipeline.answer(execution_id, "Approved")
    assert pipeline.wait_for_status(execution_id, "Succeeded", "Failed")["status"] == "Succeeded"


def test_stop_and_wait_lets_the_running_action_finish(world: World) -> None:
    # GIVEN an execution waiting at the approval
    pipeline = world.pipeline(approval=True)
    execution_id = pipeline.wait_for_run(pipeline.upload("build 1"))
    pipeline.approval_token(execution_id)
    # WHEN it is stopped without abandon
    stop = {"pipelineName": pipeline.name, "pipelineExecutionId": execution_id, "abandon": False}
    pipeline.client.stop_pipeline_execution(**stop)
    # THEN it is Stopping, and a second stop-and-wait is refused as a duplicate
    assert pipeline.wait_for_status(execution_id, "Stopping")["status"] == "Stopping"
    with pytest.raises(ClientError) as duplicate:
        pipeline.client.stop_pipeline_execution(**stop)
    assert duplicate.value.response["Error"]["Code"] == "DuplicatedStopRequestException"
    # AND the approval still waits; once answered, the execution stops before Promote
    pipeline.answer(execution_id, "Approved")
    assert pipeline.wait_for_status(execution_id, "Stopped", "Succeeded")["status"] == "Stopped"
    actions = pipeline.actions(execution_id)
    assert actions["Approve"]["status"] == "Succeeded"
    assert "Promote" not in actions


def test_started_by_api_records_the_caller(world: World) -> None:
    # GIVEN a pipeline whose source object exists
    pipeline = world.pipeline()
    version = pipeline.upload("build 1")
    pipeline.wait_for_status(pipeline.wait_for_run(version), "Succeeded", "Failed")
    # WHEN it is started through the API for a given source version
    execution_id = pipeline.client.start_pipeline_execution(
        name=pipeline.name,
        sourceRevisions=[
            {
                "actionName": "Source",
                "revisionType": "S3_OBJECT_VERSION_ID",
                "revisionValue": version,
            }
        ],
    )["pipelineExecutionId"]
    # THEN its trigger names the caller
    execution = pipeline.wait_for_status(execution_id, "Succeeded", "Failed")
    assert execution["trigger"] == {
        "triggerType": "StartPipelineExecution",
        "triggerDetail": f"arn:aws:iam::{ACCOUNT}:root",
    }
    assert execution["status"] == "Succeeded"


def test_a_deployment_to_the_fleet_lets_the_execution_go_on(world: World) -> None:
    # GIVEN a pipeline whose Deploy action targets a CodeDeploy group with one instance
    fleet = f"cp-app-{uuid.uuid4().hex[:8]}"
    instance = world.instance(fleet)
    try:
        pipeline = world.pipeline(deploy=world.deployment_group(fleet))
        # WHEN a build arrives
        execution_id = pipeline.wait_for_run(pipeline.upload("build 1"))
        # THEN it is deployed to the instance, and the execution goes on to Promote
        execution = pipeline.wait_for_status(execution_id, "Succeeded", "Failed")
        assert execution["status"] == "Succeeded"
        actions = pipeline.actions(execution_id)
        deployment_id = actions["Deploy"]["output"]["executionResult"]["externalExecutionId"]
        codedeploy = world.aws("codedeploy")
        info = codedeploy.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
        assert info["status"] == "Succeeded"
        targets = codedeploy.list_deployment_instances(deploymentId=deployment_id)
        assert targets["instancesList"] == [instance]
        assert actions["Promote"]["status"] == "Succeeded"
        # AND CodePipeline lists the instance as the deploy action's target, event by event
        listed = world.aws("codepipeline").list_deploy_action_execution_targets(
            pipelineName=pipeline.name, actionExecutionId=actions["Deploy"]["actionExecutionId"]
        )["targets"]
        assert [(t["targetId"], t["status"]) for t in listed] == [(instance, "Succeeded")]
        events = {e["name"]: e["status"] for e in listed[0]["events"]}
        assert events["Install"] == "Succeeded"
        assert set(events.values()) <= {"Succeeded", "Skipped"}
    finally:
        world.aws("ec2").terminate_instances(InstanceIds=[instance])


def test_a_failed_deployment_fails_the_deploy_action(world: World) -> None:
    # GIVEN a pipeline whose Deploy action targets a CodeDeploy group that selects no instance
    pipeline = world.pipeline(deploy=world.deployment_group())
    # WHEN a build arrives
    execution_id = pipeline.wait_for_run(pipeline.upload("build 1"))
    # THEN the action created a real deployment of the source artifact, and fails as it fails
    assert pipeline.wait_for_status(execution_id, "Succeeded", "Failed")["status"] == "Failed"
    actions = pipeline.actions(execution_id)
    deploy = actions["Deploy"]
    assert deploy["status"] == "Failed"
    assert "Promote" not in actions
    deployment_id = deploy["output"]["executionResult"]["externalExecutionId"]
    info = world.aws("codedeploy").get_deployment(deploymentId=deployment_id)["deploymentInfo"]
    assert info["status"] == "Failed"
    artifact = actions["Source"]["output"]["outputArtifacts"][0]["s3location"]
    assert info["revision"]["s3Location"] == {
        "bucket": artifact["bucket"],
        "key": artifact["key"],
        "bundleType": "zip",
    }
    error = deploy["output"]["executionResult"]["errorDetails"]
    assert error["message"] == info["errorInformation"]["message"]


def _capture_events(world: World, pipeline: Pipeline) -> str:
    """A log group that receives the pipeline's events from the default bus."""
    events, group = world.aws("events"), f"/cp/{pipeline.name}"
    world.aws("logs").create_log_group(logGroupName=group)
    pattern = {"source": ["aws.codepipeline"], "detail": {"pipeline": [pipeline.name]}}
    events.put_rule(Name=f"{pipeline.name}-events", EventPattern=json.dumps(pattern))
    events.put_targets(
        Rule=f"{pipeline.name}-events",
        Targets=[{"Id": "log", "Arn": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{group}"}],
    )
    return group


def test_state_changes_reach_the_default_event_bus(world: World) -> None:
    # GIVEN a rule on the default bus for this pipeline's CodePipeline events, into a log group
    pipeline = world.pipeline()
    logs, group = world.aws("logs"), _capture_events(world, pipeline)
    # WHEN an execution runs to success
    execution_id = pipeline.wait_for_run(pipeline.upload("build 1"))
    pipeline.wait_for_status(execution_id, "Succeeded", "Failed")

    # THEN the pipeline, stage and action state changes arrive with AWS's detail shape
    def delivered() -> list[dict[str, Any]]:
        found = logs.filter_log_events(logGroupName=group)["events"]
        received = [json.loads(e["message"]) for e in found]
        done = [
            e
            for e in received
            if e["detail"]["state"] == "SUCCEEDED" and e["detail"]["execution-id"] == execution_id
        ]
        return received if len(done) == 5 else []  # pipeline, 2 stages, 2 actions

    received = wait_until(delivered)
    kinds = {
        (e["detail-type"], e["detail"]["state"])
        for e in received
        if e["detail"]["execution-id"] == execution_id
    }
    for kind in ("Pipeline", "Stage", "Action"):
        for state in ("STARTED", "SUCCEEDED"):
            assert (f"CodePipeline {kind} Execution State Change", state) in kinds
    started = next(
        e
        for e in received
        if e["detail-type"].startswith("CodePipeline Pipeline")
        and e["detail"]["execution-id"] == execution_id
        and e["detail"]["state"] == "STARTED"
    )
    assert started["resources"] == [f"arn:aws:codepipeline:{REGION}:{ACCOUNT}:{pipeline.name}"]
    assert started["detail"]["execution-id"] == execution_id
    assert started["detail"]["execution-trigger"] == {
        "trigger-type": "CloudWatchEvent",
        "trigger-detail": pipeline.rule_arn,
    }
    action = next(
        e
        for e in received
        if e["detail-type"].startswith("CodePipeline Action")
        and e["detail"]["action"] == "Promote"
        and e["detail"]["state"] == "SUCCEEDED"
    )
    assert action["detail"]["type"] == {
        "owner": "AWS",
        "provider": "Lambda",
        "category": "Invoke",
        "version": "1",
    }
    assert action["detail"]["stage"] == "Promote"
