"""Where a stage's pipeline gets its build, as plain data: the Source action, what the pipeline's
role needs to run it, and what starts the pipeline.

- S3 (every stage but a Git-sourced first one): the S3 action on the stage's source bucket,
  started by EventBridge when the object gets a new version.
- A connection (GitHub through AWS CodeConnections): the CodeStarSourceConnection action, started
  by the pipeline's own V2 trigger on push, with its branch and file-path filters. CodePipeline
  offers triggers for this action type only.
- CodeCommit: the CodeCommit action, started by EventBridge on the branch's reference events,
  as the CodePipeline console sets it up.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from modules.policy import Statement

SOURCE_ACTION = "Source"
# The Source action's output variable holding the revision, and those naming the commit
# (the action references' "Output variables").
S3_REVISION_VARIABLE = "VersionId"
COMMIT_VARIABLE = "CommitId"
BRANCH_VARIABLE = "BranchName"
CONNECTION_REPOSITORY_VARIABLE = "FullRepositoryName"
CODECOMMIT_REPOSITORY_VARIABLE = "RepositoryName"
# The zip of the commit (a full clone would be CODEBUILD_CLONE_REF, which only CodeBuild reads).
CODE_ZIP = "CODE_ZIP"
TRIGGER_PROVIDER = "CodeStarSourceConnection"


@dataclass(frozen=True)
class GitFilter:
    includes: tuple[str, ...] = ()
    excludes: tuple[str, ...] = ()


@dataclass(frozen=True)
class S3Source:
    bucket: str
    bucket_arn: str
    key: str
    # Set in a chain whose first stage reads Git: the promoted object's commit metadata is
    # carried on to the next stage (the copy function reads it from this bucket).
    carries_commit: bool = False


@dataclass(frozen=True)
class ConnectionSource:
    # An existing connection's ARN, or the new connection's (a Terraform reference).
    connection_arn: str
    repository: str  # owner/name
    branch: str
    branches: GitFilter
    file_paths: GitFilter | None = None


@dataclass(frozen=True)
class CodeCommitSource:
    repository: str
    repository_arn: str
    branch: str


PipelineSource = S3Source | ConnectionSource | CodeCommitSource


def source_configuration(source: PipelineSource) -> tuple[str, dict[str, str]]:
    """The Source action's provider and configuration, keys as CodePipeline names them."""
    if isinstance(source, ConnectionSource):
        return "CodeStarSourceConnection", {
            "ConnectionArn": source.connection_arn,
            "FullRepositoryId": source.repository,
            "BranchName": source.branch,
            "OutputArtifactFormat": CODE_ZIP,
        }
    if isinstance(source, CodeCommitSource):
        return "CodeCommit", {
            "RepositoryName": source.repository,
            "BranchName": source.branch,
            # The EventBridge rule starts the pipeline; polling would start it a second time.
            "PollForSourceChanges": "false",
            "OutputArtifactFormat": CODE_ZIP,
        }
    return "S3", {
        "S3Bucket": source.bucket,
        "S3ObjectKey": source.key,
        "PollForSourceChanges": "false",
    }


def revision_variable(source: PipelineSource) -> str:
    """The output variable that names the revision a run deployed."""
    return S3_REVISION_VARIABLE if isinstance(source, S3Source) else COMMIT_VARIABLE


def commit_variables(source: PipelineSource) -> dict[str, str] | None:
    """Output variables naming the commit (id, branch, repository); None for an S3 source."""
    if isinstance(source, S3Source):
        return None
    repository = (
        CONNECTION_REPOSITORY_VARIABLE
        if isinstance(source, ConnectionSource)
        else CODECOMMIT_REPOSITORY_VARIABLE
    )
    return {"id": COMMIT_VARIABLE, "branch": BRANCH_VARIABLE, "repository": repository}


def read_source_statements(source: PipelineSource) -> tuple[Statement, ...]:
    """What the pipeline's role needs to run the Source action, on that source only."""
    if isinstance(source, ConnectionSource):
        # Connections made since the CodeConnections rename have codeconnections ARNs, older
        # ones codestar-connections ARNs; IAM matches the action's prefix to the ARN's, so both
        # actions are granted, on this one connection.
        return (
            Statement(
                sid="UseConnection",
                actions=("codeconnections:UseConnection", "codestar-connections:UseConnection"),
                resources=(source.connection_arn,),
            ),
        )
    if isinstance(source, CodeCommitSource):
        # The CodeCommit action reference's list: read the branch and commit, and archive it.
        return (
            Statement(
                sid="ReadRepository",
                actions=(
                    "codecommit:CancelUploadArchive",
                    "codecommit:GetBranch",
                    "codecommit:GetCommit",
                    "codecommit:GetUploadArchiveStatus",
                    "codecommit:UploadArchive",
                ),
                resources=(source.repository_arn,),
            ),
        )
    return (
        Statement(
            sid="ReadSource",
            actions=("s3:GetObject", "s3:GetObjectVersion", "s3:GetBucketVersioning"),
            resources=(source.bucket_arn, f"{source.bucket_arn}/{source.key}"),
        ),
    )


def start_event_pattern(source: S3Source | CodeCommitSource) -> str:
    """The EventBridge pattern of a change that starts the pipeline."""
    if isinstance(source, CodeCommitSource):
        return json.dumps(
            {
                "source": ["aws.codecommit"],
                "detail-type": ["CodeCommit Repository State Change"],
                "resources": [source.repository_arn],
                "detail": {
                    "event": ["referenceCreated", "referenceUpdated"],
                    "referenceType": ["branch"],
                    "referenceName": [source.branch],
                },
            }
        )
    return json.dumps(
        {
            "source": ["aws.s3"],
            "detail-type": ["Object Created"],
            "detail": {"bucket": {"name": [source.bucket]}, "object": {"key": [source.key]}},
        }
    )


def start_description(source: S3Source | CodeCommitSource, pipeline: str) -> str:
    if isinstance(source, CodeCommitSource):
        return f"A push to {source.branch} of {source.repository} starts {pipeline}"
    return f"A new build in {source.bucket} starts {pipeline}"
