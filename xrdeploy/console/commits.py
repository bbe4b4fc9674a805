"""The commit behind each stage's build, and the state of the first stage's connection: what
`status` adds for a chain with a Git source. Pure: API answers in, typed values out.

The first stage's commit comes from its Source action's output variables (ListActionExecutions);
every later stage's from the metadata the copy function writes on the promoted object
(lambda/object_metadata.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

META_COMMIT_ID = "xrdeploy-commit-id"
META_BRANCH = "xrdeploy-branch"
META_REPOSITORY = "xrdeploy-repository"
# GetConnection's ConnectionStatus of a connection nobody has completed in the console yet.
PENDING = "PENDING"


@dataclass(frozen=True)
class Commit:
    id: str
    branch: str
    repository: str


def commit_in_metadata(metadata: Mapping[str, str]) -> Commit | None:
    """The commit a promoted object names (lower-case x-amz-meta-* keys); None for none."""
    found = [metadata.get(key) for key in (META_COMMIT_ID, META_BRANCH, META_REPOSITORY)]
    if not all(found):
        return None
    return Commit(id=str(found[0]), branch=str(found[1]), repository=str(found[2]))


def commit_in_variables(variables: Mapping[str, str]) -> Commit | None:
    """The commit a Git Source action read, from its output variables: FullRepositoryName for a
    connection source, RepositoryName for CodeCommit."""
    repository = variables.get("FullRepositoryName") or variables.get("RepositoryName")
    commit_id, branch = variables.get("CommitId"), variables.get("BranchName")
    if not (commit_id and branch and repository):
        return None
    return Commit(id=commit_id, branch=branch, repository=repository)


@dataclass(frozen=True)
class ConnectionState:
    arn: str
    status: str  # GetConnection's ConnectionStatus (PENDING, AVAILABLE, ERROR), or why unknown

    @property
    def pending(self) -> bool:
        return self.status == PENDING


def connection_line(state: ConnectionState) -> str:
    if state.pending:
        return (
            f"connection {state.arn}: PENDING — complete it once in the AWS console (Developer "
            "Tools → Settings → Connections → Update pending connection); until then the Source "
            "action fails"
        )
    return f"connection {state.arn}: {state.status}"


def source_connection_arn(pipeline: Mapping[str, Any]) -> str | None:
    """The ConnectionArn of a GetPipeline answer's Source action; None without one."""
    for stage in pipeline.get("stages") or []:
        for action in stage.get("actions") or []:
            arn = (action.get("configuration") or {}).get("ConnectionArn")
            if (action.get("actionTypeId") or {}).get("category") == "Source" and arn:
                return str(arn)
    return None
