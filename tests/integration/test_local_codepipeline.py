"""The local CodePipeline (emulator/plugins codepipeline): pipelines started by S3 → EventBridge,
run by the engine, driven through the real API with boto3."""

from __future__ import annotations

import io
import json
import textwrap
import time
import uuid
import zipfile
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from emulator.launcher import LocalStackServer, ensure_environment

pytestmark = pytest.mark.integration

REGION = "us-east-1"
ACCOUNT = "424242424242"
WAIT_SECONDS = 60.0
JOB_TIMEOUT_SECONDS = 8  # the local cloud's no-reply timeout for Lambda jobs (AWS: 1 hour)

# The job worker: what it reports is chosen by the action's UserParameters.
WORKER_SOURCE = textwrap.dedent(
    """
    import json

    import boto3
    from botocore.config import Config


    def handler(event, context):
        job = event["CodePipeline.job"]
        data = job["data"]
        params = json.loads(data["actionConfiguration"]["configuration"]["UserParameters"])
        codepipeline = boto3.client("codepipeline")
        if params["mode"] == "fail":
            codepipeline.put_job_failure_result(
                jobId=job["id"],
                failureDetails={"type": "JobFailed", "message": "failed on purpose"},
            )
            return
        if params["mode"] == "silent":
            return
        if params["mode"] == "continue" and "continuationToken" not in data:
            codepipeline.put_job_success_result(
                jobId=job["id"],
                continuationToken="step-2",
                executionDetails={"summary": "halfway", "percentComplete": 50},
            )
            return
        credentials = data["artifactCredentials"]
        s3 = boto3.client(
            "s3",
            aws_access_key_id=credentials["accessKeyId"],
            aws_secret_access_key=credentials["secretAccessKey"],
            aws_session_token=credentials["sessionToken"],
            config=Config(s3={"addressing_style": "path"}),
        )
        location = data["inputArtifacts"][0]["location"]["s3Location"]
        body = s3.get_object(Bucket=location["bucketName"], Key=location["objectKey"])["Body"]
        summary = {
            "bytes": len(body.read()),
            "token": data.get("continuationToken"),
            "execution": params["execution"],
            "version": params["version"],
            "key": data["encryptionKey"]["id"],
            "context": codepipeline.get_job_details(jobId=job["id"])["jobDetails"]["data"][
                "pipelineContext"
            ],
        }
        codepipeline.put_job_success_result(
            jobId=job["id"],
            executionDetails={"summary": json.dumps(summary), "externalExecutionId": "ext-1"},
            outputVariables={"Copied": "yes"},
        )
    """
)

APPSPEC = "version: 0.0\nos: linux\nfiles:\n  - source: app.txt\n    destination: /opt/app\n"

ClientFactory = Callable[[str], Any]
T = TypeVar("T")


def _trust(service: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": [service]}, "Action": "sts:AssumeRole"}
            ],
        }
    )


def _zip(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    env = {"XRDEPLOY_CODEPIPELINE_JOB_TIMEOUT_SECONDS": str(JOB_TIMEOUT_SECONDS)}
    with LocalStackServer(ensure_environment(), extra_env=env) as server:
        yield server.endpoint


@pytest.fixture(scope="module")
def aws(endpoint: str) -> ClientFactory:
    def client(service: str) -> Any:
        return boto3.client(
            service,  # type: ignore[call-overload]
            endpoint_url=endpoint,
            region_name=REGION,
            aws_access_key_id=ACCOUNT,
            aws_secret_access_key="test",
            config=Config(s3={"addressing_style": "path"}),
        )

    return client


class World:
    """What every pipeline of this module shares: buckets, key, roles, the job worker."""

    def __init__(self, aws: ClientFactory) -> None:
        self.aws = aws
        suffix = uuid.uuid4().hex[:8]
        self.source_bucket = f"cp-source-{suffix}"
        self.artifact_bucket = f"cp-artifacts-{suffix}"
        s3, iam = aws("s3"), aws("iam")
        for bucket in (self.source_bucket, self.artifact_bucket):
            s3.create_bucket(Bucket=bucket)
            s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        s3.put_bucket_notification_configuration(
            Bucket=self.source_bucket,
            NotificationConfiguration={"EventBridgeConfiguration": {}},
        )
        self.key_arn = aws("kms").create_key()["KeyMetadata"]["Arn"]
        self.pipeline_role = iam.create_role(
            RoleName=f"cp-pipeline-{suffix}",
            AssumeRolePolicyDocument=_trust("codepipeline.amazonaws.com"),
        )["Role"]["Arn"]
        self.events_role = iam.create_role(
            RoleName=f"cp-events-{suffix}", AssumeRolePolicyDocument=_trust("events.amazonaws.com")
        )["Role"]["Arn"]
        self.lambda_role = iam.create_role(
            RoleName=f"cp-worker-{suffix}", AssumeRolePolicyDocument=_trust("lambda.amazonaws.com")
        )["Role"]["Arn"]
        self.function = f"cp-worker-{suffix}"
        functions = aws("lambda")
        functions.create_function(
            FunctionName=self.function,
            Runtime="python3.12",
            Role=self.lambda_role,
            Handler="worker.handler",
            Code={"ZipFile": _zip({"worker.py": WORKER_SOURCE})},
            Timeout=30,
        )
        functions.get_waiter("function_active_v2").wait(FunctionName=self.function)

    def deployment_group(self, name: str | None = None) -> tuple[str, str]:
        """A CodeDeploy application and a group of the instances tagged ``fleet=<name>``."""
        codedeploy = self.aws("codedeploy")
        name = name or f"cp-app-{uuid.uuid4().hex[:8]}"
        role = self.aws("iam").create_role(
            RoleName=f"{name}-deployer", AssumeRolePolicyDocument=_trust("codedeploy.amazonaws.com")
        )["Role"]["Arn"]
        codedeploy.create_application(applicationName=name, computePlatform="Server")
        codedeploy.create_deployment_group(
            applicationName=name,
            deploymentGroupName=f"{name}-fleet",
            serviceRoleArn=role,
            ec2TagFilters=[{"Key": "fleet", "Value": name, "Type": "KEY_AND_VALUE"}],
        )
        return name, f"{name}-fleet"

    def instance(self, fleet: str) -> str:
        """A running EC2 instance (a local one) tagged ``fleet=<fleet>``, with a profile."""
        iam, ec2 = self.aws("iam"), self.aws("ec2")
        role = f"{fleet}-instance"
        iam.create_role(RoleName=role, AssumeRolePolicyDocument=_trust("ec2.amazonaws.com"))
        iam.create_instance_profile(InstanceProfileName=role)
        iam.add_role_to_instance_profile(InstanceProfileName=role, RoleName=role)
        instance = ec2.run_instances(
            ImageId=ec2.describe_images()["Images"][0]["ImageId"],
            MinCount=1,
            MaxCount=1,
            InstanceType="t3.micro",
            IamInstanceProfile={"Name": role},
            TagSpecifications=[
                {"ResourceType": "instance", "Tags": [{"Key": "fleet", "Value": fleet}]}
            ],
        )["Instances"][0]["InstanceId"]
        ec2.get_waiter("instance_running").wait(InstanceIds=[instance])
        return str(instance)

    def stages(
        self, key: str, approval: bool, mode: str, deploy: tuple[str, str] | None = None
    ) -> list[dict[str, Any]]:
        def action(name: str, category: str, provider: str, **fields: Any) -> dict[str, Any]:
            type_id = {"category": category, "owner": "AWS", "provider": provider, "version": "1"}
            return {"name": name, "actionTypeId": type_id, **fields}

        parameters = {
            "mode": mode,
            "execution": "#{codepipeline.PipelineExecutionId}",
            "version": "#{SourceVariables.VersionId}",
        }
        stages = [
            {
                "name": "Source",
                "actions": [
                    action(
                        "Source",
                        "Source",
                        "S3",
                        configuration={
                            "S3Bucket": self.source_bucket,
                            "S3ObjectKey": key,
                            "PollForSourceChanges": "false",
                        },
                        outputArtifacts=[{"name": "SourceArtifact"}],
                        namespace="SourceVariables",
                    )
                ],
            }
        ]
        if deploy is not None:
            configuration = {"ApplicationName": deploy[0], "DeploymentGroupName": deploy[1]}
            deploy_action = action(
                "Deploy",
                "Deploy",
                "CodeDeploy",
                configuration=configuration,
                inputArtifacts=[{"name": "SourceArtifact"}],
            )
            stages.append({"name": "Deploy", "actions": [deploy_action]})
        if approval:
            approve = action("Approve", "Approval", "Manual", configuration={"CustomData": "Go?"})
            stages.append({"name": "Approve", "actions": [approve]})
        promote = action(
            "Promote",
            "Invoke",
            "Lambda",
            configuration={"FunctionName": self.function, "UserParameters": json.dumps(parameters)},
            inputArtifacts=[{"name": "SourceArtifact"}],
            namespace="PromoteVariables",
        )
        stages.append({"name": "Promote", "actions": [promote]})
        return stages

    def pipeline(
        self,
        *,
        approval: bool = False,
        mode: str = "succeed",
        deploy: tuple[str, str] | None = None,
        events_role: str | None = None,
        execution_mode: str = "SUPERSEDED",
    ) -> Pipeline:
        """A pipeline with its own source key, started by S3 → EventBridge as generated."""
        name = f"cp-{mode}-{uuid.uuid4().hex[:8]}"
        key = f"{name}/app.zip"
        codepipeline, events = self.aws("codepipeline"), self.aws("events")
        arn = codepipeline.create_pipeline(
            pipeline={
                "name": name,
                "roleArn": self.pipeline_role,
                "pipelineType": "V2",
                "executionMode": execution_mode,
                "artifactStore": {
                    "type": "S3",
                    "location": self.artifact_bucket,
                    "encryptionKey": {"id": self.key_arn, "type": "KMS"},
                },
                "stages": self.stages(key, approval, mode, deploy),
            }
        )["pipeline"]["name"]
        pattern = {
            "source": ["aws.s3"],
            "detail-type": ["Object Created"],
            "detail": {"bucket": {"name": [self.source_bucket]}, "object": {"key": [key]}},
        }
        rule_arn = events.put_rule(Name=name, EventPattern=json.dumps(pattern))["RuleArn"]
        events.put_targets(
            Rule=name,
            Targets=[
                {
                    "Id": "pipeline",
                    "Arn": f"arn:aws:codepipeline:{REGION}:{ACCOUNT}:{arn}",
                    "RoleArn": events_role or self.events_role,
                }
            ],
        )
        return Pipeline(self, name, key, rule_arn)


class Pipeline:
    def __init__(self, world: World, name: str, key: str, rule_arn: str) -> None:
        self.world, self.name, self.key, self.rule_arn = world, name, key, rule_arn
        self.client = world.aws("codepipeline")

    def upload(self, content: str) -> str:
        s3 = self.world.aws("s3")
        body = _zip({"app.txt": content, "appspec.yml": APPSPEC})
        put = s3.put_object(Bucket=self.world.source_bucket, Key=self.key, Body=body)
        return str(put["VersionId"])

    def executions(self) -> list[dict[str, Any]]:
        response = self.client.list_pipeline_executions(pipelineName=self.name)
        return list(response["pipelineExecutionSummaries"])

    def wait_for_run(self, version: str) -> str:
        """The id of the execution the upload of ``version`` started through EventBridge."""

        def started() -> str | None:
            for execution in self.executions():
                revisions = [r["revisionId"] for r in execution.get("sourceRevisions", [])]
                if execution["trigger"]["triggerType"] == "CloudWatchEvent" and revisions == [
                    version
                ]:
                    return str(execution["pipelineExecutionId"])
            return None

        return wait_for(started)

    def wait_for_status(self, execution_id: str, *statuses: str) -> dict[str, Any]:
        def status() -> dict[str, Any] | None:
            execution = self.client.get_pipeline_execution(
                pipelineName=self.name, pipelineExecutionId=execution_id
            )["pipelineExecution"]
            return dict(execution) if execution["status"] in statuses else None

        return wait_for(status)

    def approval_token(self, execution_id: str) -> str:
        def token() -> str | None:
            state = self.client.get_pipeline_state(name=self.name)
            stage = next(s for s in state["stageStates"] if s["stageName"] == "Approve")
            latest = stage.get("latestExecution", {})
            action = stage["actionStates"][0].get("latestExecution", {})
            if latest.get("pipelineExecutionId") != execution_id:
                return None
            return str(action["token"]) if action.get("token") else None

        return wait_for(token)

    def answer(self, execution_id: str, status: str) -> None:
        self.client.put_approval_result(
            pipelineName=self.name,
            stageName="Approve",
            actionName="Approve",
            result={"summary": f"{status} by the test", "status": status},
            token=self.approval_token(execution_id),
        )

    def actions(self, execution_id: str) -> dict[str, dict[str, Any]]:
        details = self.client.list_action_executions(
            pipelineName=self.name, filter={"pipelineExecutionId": execution_id}
        )["actionExecutionDetails"]
        return {d["actionName"]: d for d in details}


def wait_for(probe: Callable[[], T | None], timeout: float = WAIT_SECONDS) -> T:
    """The first truthy answer of ``probe`` (polled: the API has no waiter for executions)."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(0.25)


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
    [created] = wait_for(pipeline.executions)
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
    wait_for(lambda: _inbound(pipeline) == [second])
    third = pipeline.wait_for_run(pipeline.upload("build 3"))
    # THEN the second, waiting to enter Approve, is superseded by the third
    assert pipeline.wait_for_status(second, "Superseded", "Failed")["status"] == "Superseded"
    wait_for(lambda: _inbound(pipeline) == [third])
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
    wait_for(lambda: _inbound(pipeline) == [second])
    third = pipeline.wait_for_run(pipeline.upload("build 3"))
    # THEN both wait, in order, and each enters the approval when the one before has left it
    wait_for(lambda: _inbound(pipeline) == [second, third])
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
        AssumeRolePolicyDocument=_trust("lambda.amazonaws.com"),
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
        AssumeRolePolicyDocument=_trust("lambda.amazonaws.com"),
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
    wait_for(lambda: logs.filter_log_events(logGroupName=group)["events"])
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


def test_a_function_that_never_reports_times_the_job_out(world: World) -> None:
    # GIVEN a function that returns without a job result
    pipeline = world.pipeline(mode="silent")
    execution_id = pipeline.wait_for_run(pipeline.upload("build 1"))
    # THEN after the job timeout the action fails with CodePipeline's message
    assert pipeline.wait_for_status(execution_id, "Succeeded", "Failed")["status"] == "Failed"
    error = pipeline.actions(execution_id)["Promote"]["output"]["executionResult"]["errorDetails"]
    assert "failed to return a result" in error["message"]


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

    received = wait_for(delivered)
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
