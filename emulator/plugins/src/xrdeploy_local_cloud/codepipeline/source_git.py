"""The CodeStarSourceConnection and CodeCommit source actions: the pinned commit
(:mod:`.git_sources`) as a zip of its tree (``CODE_ZIP``) in the artifact store.

The artifact's revision is the commit id (what an Invoke action's job data shows as its input
artifact's revision); the action's summary is the commit message and its external URL the
commit's page. Output variables as AWS's action references list them. A CodeCommit action reads
the commit as the pipeline role (``codecommit:GetCommit``), so the IAM guard judges that grant;
a connection's ``UseConnection`` grant is not checked (emulator/README.md says so).
"""

from __future__ import annotations

from pathlib import Path

from botocore.exceptions import ClientError

from xrdeploy_local_cloud.codepipeline.action_types import ActionContext, Outcome, failed
from xrdeploy_local_cloud.codepipeline.clients import role_clients
from xrdeploy_local_cloud.codepipeline.execution_states import ActionStatus
from xrdeploy_local_cloud.codepipeline.git_sources import CODECOMMIT
from xrdeploy_local_cloud.git import repos

CODE_ZIP = "CODE_ZIP"


def _output_variables(provider: str, revision: dict[str, str]) -> dict[str, str]:
    common = {
        "AuthorDate": revision["authorDate"],
        "BranchName": revision["branch"],
        "CommitId": revision["revisionId"],
        "CommitMessage": revision["message"],
    }
    if provider == CODECOMMIT:
        return {
            **common,
            "CommitterDate": revision["committerDate"],
            "RepositoryName": revision["repository"],
        }
    return {
        **common,
        "ConnectionArn": revision["connectionArn"],
        "FullRepositoryName": revision["repository"],
    }


def run(context: ActionContext) -> Outcome:
    revision = context.execution.source_revisions.get(context.run.name, {})
    if "revisionId" not in revision:
        return failed(revision.get("error", "The source revision could not be read"))
    if context.configuration.get("OutputArtifactFormat", CODE_ZIP) != CODE_ZIP:
        return failed(
            "The local cloud makes CODE_ZIP artifacts only: a full clone is read by CodeBuild, "
            "which it does not run",
            "ConfigurationError",
        )
    provider = context.run.declaration["actionTypeId"]["provider"]
    clients = role_clients(context.execution)
    if provider == CODECOMMIT:
        try:
            clients.codecommit.get_commit(
                repositoryName=revision["repository"], commitId=revision["revisionId"]
            )
        except ClientError as error:
            return failed(f"Could not read the commit from CodeCommit: {error}")
    try:
        body = repos.archive_zip(Path(revision["directory"]), revision["revisionId"])
        outputs = {}
        for artifact in context.run.declaration["outputArtifacts"]:
            location = context.new_artifact_location(artifact["name"])
            extra: dict[str, str] = {}
            if key_id := context.kms_key_id():
                extra = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": key_id}
            clients.s3.put_object(
                Bucket=location["bucket"], Key=location["key"], Body=body, **extra
            )
            outputs[artifact["name"]] = {**location, "revision": revision["revisionId"]}
    except ClientError as error:
        return failed(f"Could not put the commit into the artifact store: {error}")
    except repos.GitError as error:
        return failed(f"Could not read the commit {revision['revisionId']}: {error}")
    return Outcome(
        ActionStatus.SUCCEEDED,
        summary=revision["message"][:2048] or None,
        external_id=revision["revisionId"],
        external_url=revision["url"],
        output_artifacts=outputs,
        output_variables=_output_variables(provider, revision),
    )
