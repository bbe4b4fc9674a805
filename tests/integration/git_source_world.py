"""What the local Git source tests share: pushing with plain ``git`` to the local cloud, a job
worker that reports the commit it was handed, and pipelines sourced from Git."""

from __future__ import annotations

import json
import subprocess
import textwrap
import uuid
from pathlib import Path
from typing import Any

from tests.integration.codepipeline_world import ACCOUNT, REGION, World, allow, zip_of

GIT_ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "HOME": "/",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "Ada",
    "GIT_AUTHOR_EMAIL": "ada@example.com",
    "GIT_COMMITTER_NAME": "Ada",
    "GIT_COMMITTER_EMAIL": "ada@example.com",
}

# Reports the input artifact's revision (the commit id) and the files of its zip.
REPORTER_SOURCE = textwrap.dedent(
    """
    import io
    import json
    import zipfile

    import boto3
    from botocore.config import Config


    def handler(event, context):
        job = event["CodePipeline.job"]
        data = job["data"]
        credentials = data["artifactCredentials"]
        s3 = boto3.client(
            "s3",
            aws_access_key_id=credentials["accessKeyId"],
            aws_secret_access_key=credentials["secretAccessKey"],
            aws_session_token=credentials["sessionToken"],
            config=Config(s3={"addressing_style": "path"}),
        )
        artifact = data["inputArtifacts"][0]
        location = artifact["location"]["s3Location"]
        body = s3.get_object(Bucket=location["bucketName"], Key=location["objectKey"])["Body"]
        names = sorted(zipfile.ZipFile(io.BytesIO(body.read())).namelist())
        summary = {"revision": artifact["revision"], "files": names}
        boto3.client("codepipeline").put_job_success_result(
            jobId=job["id"], executionDetails={"summary": json.dumps(summary)}
        )
    """
)


class WorkingCopy:
    """A local clone that commits and pushes with plain ``git``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        self.git("init", "--quiet", "--initial-branch=main")

    def git(self, *args: str) -> str:
        done = subprocess.run(
            ["git", *args], cwd=self.path, env=GIT_ENV, capture_output=True, text=True, check=True
        )
        return done.stdout.strip()

    def commit(self, message: str, files: dict[str, str]) -> str:
        for name, text in files.items():
            (self.path / name).parent.mkdir(parents=True, exist_ok=True)
            (self.path / name).write_text(text)
        self.git("add", "--all")
        self.git("commit", "--quiet", "-m", message)
        return self.git("rev-parse", "HEAD")

    def push(self, url: str, refspec: str) -> None:
        self.git("push", "--quiet", url, refspec)


def reporter(world: World) -> str:
    """The reporting job worker, and the grants the pipeline role needs for Git sources."""
    name = f"git-reporter-{uuid.uuid4().hex[:8]}"
    functions = world.aws("lambda")
    functions.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=world.lambda_role,
        Handler="reporter.handler",
        Code={"ZipFile": zip_of({"reporter.py": REPORTER_SOURCE})},
        Timeout=30,
    )
    functions.get_waiter("function_active_v2").wait(FunctionName=name)
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            allow(
                ["lambda:InvokeFunction"], [f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"]
            ),
            # CodeCommit repositories named cc-*: others show the IAM guard refusing the read.
            allow(["codecommit:GetCommit"], [f"arn:aws:codecommit:{REGION}:{ACCOUNT}:cc-*"]),
        ],
    }
    world.aws("iam").put_role_policy(
        RoleName=world.pipeline_role.rsplit("/", 1)[1],
        PolicyName=f"git-{name}",
        PolicyDocument=json.dumps(policy),
    )
    return name


def git_pipeline(
    world: World,
    function: str,
    source: tuple[str, dict[str, str]],
    triggers: list[dict[str, Any]] | None = None,
) -> str:
    """A V2 pipeline: a Git source action (provider, configuration) → the reporter."""
    name = f"git-{uuid.uuid4().hex[:8]}"
    type_id = {"category": "Source", "owner": "AWS", "provider": source[0], "version": "1"}
    invoke_id = {"category": "Invoke", "owner": "AWS", "provider": "Lambda", "version": "1"}
    world.aws("codepipeline").create_pipeline(
        pipeline={
            "name": name,
            "roleArn": world.pipeline_role,
            "pipelineType": "V2",
            "artifactStore": {
                "type": "S3",
                "location": world.artifact_bucket,
                "encryptionKey": {"id": world.key_arn, "type": "KMS"},
            },
            "stages": [
                {
                    "name": "Source",
                    "actions": [
                        {
                            "name": "Source",
                            "actionTypeId": type_id,
                            "configuration": source[1],
                            "outputArtifacts": [{"name": "SourceArtifact"}],
                            "namespace": "SourceVariables",
                        }
                    ],
                },
                {
                    "name": "Report",
                    "actions": [
                        {
                            "name": "Report",
                            "actionTypeId": invoke_id,
                            "configuration": {"FunctionName": function},
                            "inputArtifacts": [{"name": "SourceArtifact"}],
                        }
                    ],
                },
            ],
            "triggers": triggers or [],
        }
    )
    return name
