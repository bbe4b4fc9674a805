"""A small pipeline for the operation tests: an S3 source, then a stage whose one action is of a
custom action type, moved by the test as its job worker (PollForJobs and the job calls)."""

from __future__ import annotations

import uuid
from typing import Any

from tests.integration.codepipeline_world import (
    ACCOUNT,
    REGION,
    ClientFactory,
    allow,
    grant,
    trust_document,
    zip_of,
)
from tests.integration.polling import wait_until

WORK_STAGE = "Work"
EXECUTION_URL = "https://ci.example.com/{Config:Project}/runs/{ExternalExecutionId}"


class WorkerWorld:
    """Buckets, the pipeline role and a custom action type of this module's account."""

    def __init__(self, aws: ClientFactory) -> None:
        self.aws = aws
        suffix = uuid.uuid4().hex[:8]
        self.source_bucket = f"op-source-{suffix}"
        self.artifact_bucket = f"op-artifacts-{suffix}"
        s3 = aws("s3")
        for bucket in (self.source_bucket, self.artifact_bucket):
            s3.create_bucket(Bucket=bucket)
            s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        role = f"op-pipeline-{suffix}"
        self.pipeline_role = aws("iam").create_role(
            RoleName=role, AssumeRolePolicyDocument=trust_document("codepipeline.amazonaws.com")
        )["Role"]["Arn"]
        buckets = [f"arn:aws:s3:::{b}" for b in (self.source_bucket, self.artifact_bucket)]
        grant(
            aws,
            role,
            allow(["s3:GetObject", "s3:GetObjectVersion", "s3:GetBucketVersioning"], buckets),
            allow(
                ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"],
                [f"{b}/*" for b in buckets],
            ),
        )
        self.type_id = {
            "category": "Build",
            "owner": "Custom",
            "provider": f"Worker{suffix}",
            "version": "1",
        }
        aws("codepipeline").create_custom_action_type(
            category="Build",
            provider=self.type_id["provider"],
            version="1",
            settings={"executionUrlTemplate": EXECUTION_URL},
            configurationProperties=[
                {
                    "name": "Project",
                    "required": True,
                    "key": True,
                    "secret": False,
                    "queryable": True,
                    "type": "String",
                },
            ],
            inputArtifactDetails={"minimumCount": 1, "maximumCount": 1},
            outputArtifactDetails={"minimumCount": 0, "maximumCount": 1},
        )

    def declaration(self, name: str, key: str, project: str) -> dict[str, Any]:
        source = {
            "name": "Source",
            "actionTypeId": {
                "category": "Source",
                "owner": "AWS",
                "provider": "S3",
                "version": "1",
            },
            "configuration": {
                "S3Bucket": self.source_bucket,
                "S3ObjectKey": key,
                "PollForSourceChanges": "false",
            },
            "outputArtifacts": [{"name": "SourceArtifact"}],
        }
        work = {
            "name": "Build",
            "actionTypeId": self.type_id,
            "configuration": {"Project": project},
            "inputArtifacts": [{"name": "SourceArtifact"}],
            "outputArtifacts": [{"name": "BuildArtifact"}],
        }
        return {
            "name": name,
            "roleArn": self.pipeline_role,
            "pipelineType": "V2",
            "executionMode": "SUPERSEDED",
            "artifactStore": {"type": "S3", "location": self.artifact_bucket},
            "stages": [
                {"name": "Source", "actions": [source]},
                {"name": WORK_STAGE, "actions": [work]},
            ],
        }

    def pipeline(self) -> WorkerPipeline:
        """A new pipeline whose source object does not exist yet: the execution CreatePipeline
        starts fails at the source, so the next execution is the test's own."""
        name = f"op-{uuid.uuid4().hex[:8]}"
        project = f"project-{name}"
        self.aws("codepipeline").create_pipeline(
            pipeline=self.declaration(name, f"{name}/app.zip", project)
        )
        return WorkerPipeline(self, name, project)


class WorkerPipeline:
    def __init__(self, world: WorkerWorld, name: str, project: str) -> None:
        self.world, self.name, self.project = world, name, project
        self.client = world.aws("codepipeline")

    def upload(self, content: str) -> str:
        body = zip_of({"app.txt": content})
        put = self.world.aws("s3").put_object(
            Bucket=self.world.source_bucket, Key=f"{self.name}/app.zip", Body=body
        )
        return str(put["VersionId"])

    def action_status(self, execution_id: str, action: str) -> str | None:
        details = self.client.list_action_executions(
            pipelineName=self.name, filter={"pipelineExecutionId": execution_id}
        )["actionExecutionDetails"]
        return next((d["status"] for d in details if d["actionName"] == action), None)

    def work_stage(self) -> dict[str, Any]:
        states = self.client.get_pipeline_state(name=self.name)["stageStates"]
        return dict(next(s for s in states if s["stageName"] == WORK_STAGE))

    def status(self, execution_id: str) -> str:
        return str(
            self.client.get_pipeline_execution(
                pipelineName=self.name, pipelineExecutionId=execution_id
            )["pipelineExecution"]["status"]
        )

    def poll_job(self) -> dict[str, Any]:
        """The job worker's poll: this pipeline's job (selected by the queryable property)."""

        def poll() -> dict[str, Any] | None:
            jobs = self.client.poll_for_jobs(
                actionTypeId=self.world.type_id,
                maxBatchSize=1,
                queryParam={"Project": self.project},
            )["jobs"]
            return dict(jobs[0]) if jobs else None

        return wait_until(poll, "a job for the worker")


__all__ = ["ACCOUNT", "REGION", "WORK_STAGE", "WorkerPipeline", "WorkerWorld"]
