"""The shared set-up of the local CodePipeline tests: buckets, key, roles, a job worker function,
and a pipeline handle driven through the real API."""

from __future__ import annotations

import functools
import io
import json
import textwrap
import uuid
import zipfile
from collections.abc import Callable
from typing import Any, TypeVar

from tests.integration.polling import wait_until
from xrdeploy.aws_clients import local_cloud_client

REGION = "us-east-1"
ACCOUNT = "424242424242"
WAIT_SECONDS = 60.0
# The local cloud's no-reply timeout for Lambda jobs (AWS: 1 hour): short enough that a function
# that never reports fails within WAIT_SECONDS, long enough for a cold start on a loaded machine
# (at 8 s one CI run failed a passing job). The no-reply test sets a shorter one for itself.
JOB_TIMEOUT_SECONDS = 45

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


def clients_of(endpoint: str) -> ClientFactory:
    """boto3 clients of the world's account and region on the local cloud at `endpoint`, each
    service's made once (making one costs more CPU than most of the calls the tests make)."""
    from botocore.config import Config

    @functools.cache
    def client(service: str) -> Any:
        return local_cloud_client(
            service,
            endpoint=endpoint,
            account_id=ACCOUNT,
            region=REGION,
            config=Config(s3={"addressing_style": "path"}),
        )

    return client


def trust_document(service: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": [service]}, "Action": "sts:AssumeRole"}
            ],
        }
    )


def grant(aws: ClientFactory, role: str, *statements: dict[str, Any]) -> None:
    """An inline policy for ``role``: the local cloud enforces IAM, as AWS does."""
    document = {"Version": "2012-10-17", "Statement": list(statements)}
    aws("iam").put_role_policy(
        RoleName=role, PolicyName="permissions", PolicyDocument=json.dumps(document)
    )


def allow(actions: list[str], resources: list[str]) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": actions, "Resource": resources}


def zip_of(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


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
            AssumeRolePolicyDocument=trust_document("codepipeline.amazonaws.com"),
        )["Role"]["Arn"]
        self.events_role = iam.create_role(
            RoleName=f"cp-events-{suffix}",
            AssumeRolePolicyDocument=trust_document("events.amazonaws.com"),
        )["Role"]["Arn"]
        self.lambda_role = iam.create_role(
            RoleName=f"cp-worker-{suffix}",
            AssumeRolePolicyDocument=trust_document("lambda.amazonaws.com"),
        )["Role"]["Arn"]
        self.function = f"cp-worker-{suffix}"
        functions = aws("lambda")
        functions.create_function(
            FunctionName=self.function,
            Runtime="python3.12",
            Role=self.lambda_role,
            Handler="worker.handler",
            Code={"ZipFile": zip_of({"worker.py": WORKER_SOURCE})},
            Timeout=30,
        )
        functions.get_waiter("function_active_v2").wait(FunctionName=self.function)
        self._grant_roles(suffix)

    def _grant_roles(self, suffix: str) -> None:
        """What AWS requires of each role for the actions these pipelines run."""
        buckets = [f"arn:aws:s3:::{b}" for b in (self.source_bucket, self.artifact_bucket)]
        objects = [f"{bucket}/*" for bucket in buckets]
        grant(
            self.aws,
            f"cp-pipeline-{suffix}",
            allow(["s3:GetObject", "s3:GetObjectVersion", "s3:GetBucketVersioning"], buckets),
            allow(["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"], objects),
            allow(["kms:GenerateDataKey", "kms:Decrypt"], [self.key_arn]),
            allow(
                ["lambda:InvokeFunction"],
                [f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{self.function}"],
            ),
            allow(["codedeploy:*"], ["*"]),
        )
        grant(
            self.aws,
            f"cp-events-{suffix}",
            allow(
                ["codepipeline:StartPipelineExecution"],
                [f"arn:aws:codepipeline:{REGION}:{ACCOUNT}:*"],
            ),
        )
        grant(
            self.aws,
            f"cp-worker-{suffix}",
            allow(
                [
                    "codepipeline:PutJobSuccessResult",
                    "codepipeline:PutJobFailureResult",
                    "codepipeline:GetJobDetails",
                ],
                ["*"],
            ),
            allow(["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"], ["*"]),
        )

    def deployment_group(self, name: str | None = None) -> tuple[str, str]:
        """A CodeDeploy application and a group of the instances tagged ``fleet=<name>``."""
        codedeploy = self.aws("codedeploy")
        name = name or f"cp-app-{uuid.uuid4().hex[:8]}"
        role = self.aws("iam").create_role(
            RoleName=f"{name}-deployer",
            AssumeRolePolicyDocument=trust_document("codedeploy.amazonaws.com"),
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
        iam.create_role(RoleName=role, AssumeRolePolicyDocument=trust_document("ec2.amazonaws.com"))
        # The agent downloads the revision from the artifact store with the instance's role.
        grant(
            self.aws,
            role,
            allow(
                ["s3:GetObject", "s3:GetObjectVersion"], [f"arn:aws:s3:::{self.artifact_bucket}/*"]
            ),
            allow(["kms:Decrypt"], [self.key_arn]),
        )
        iam.create_instance_profile(InstanceProfileName=role)
        iam.add_role_to_instance_profile(InstanceProfileName=role, RoleName=role)
        linux = [i for i in ec2.describe_images()["Images"] if i.get("Platform") != "windows"]
        instance = ec2.run_instances(
            ImageId=linux[0]["ImageId"],  # the local cloud runs no Windows image
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
        body = zip_of({"app.txt": content, "appspec.yml": APPSPEC})
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

        return wait_until(started)

    def wait_for_status(self, execution_id: str, *statuses: str) -> dict[str, Any]:
        def status() -> dict[str, Any] | None:
            execution = self.client.get_pipeline_execution(
                pipelineName=self.name, pipelineExecutionId=execution_id
            )["pipelineExecution"]
            return dict(execution) if execution["status"] in statuses else None

        return wait_until(status)

    def approval_token(self, execution_id: str) -> str:
        def token() -> str | None:
            state = self.client.get_pipeline_state(name=self.name)
            stage = next(s for s in state["stageStates"] if s["stageName"] == "Approve")
            latest = stage.get("latestExecution", {})
            action = stage["actionStates"][0].get("latestExecution", {})
            if latest.get("pipelineExecutionId") != execution_id:
                return None
            return str(action["token"]) if action.get("token") else None

        return wait_until(token)

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
