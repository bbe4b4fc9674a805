"""Where a Git source action's repository is, and which commit an execution runs (pinning).

* ``CodeStarSourceConnection``: the connection (``ConnectionArn``) must exist and be AVAILABLE;
  ``FullRepositoryId`` (``owner/name``) is a repository of the connection provider's local host.
* ``CodeCommit``: ``RepositoryName`` is a repository of CodeCommit in the execution's account and
  region.

The commit is pinned when the execution starts: the one a push or ``sourceRevisions``
(``COMMIT_ID``) names, else the head of ``BranchName``. The pinned revision carries what the
action, the execution's ``artifactRevisions`` and the output variables need.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from xrdeploy_local_cloud.codecommit.store import region_state as codecommit_state
from xrdeploy_local_cloud.codeconnections.model import AVAILABLE
from xrdeploy_local_cloud.codeconnections.store import connection_of
from xrdeploy_local_cloud.codepipeline import models
from xrdeploy_local_cloud.git import repos, urls

CONNECTION = "CodeStarSourceConnection"
CODECOMMIT = "CodeCommit"
PROVIDERS = (CONNECTION, CODECOMMIT)
_COMMIT_PAGES = {
    "github": "https://github.com/{owner}/{name}/commit/{id}",
    "gitlab": "https://gitlab.com/{owner}/{name}/-/commit/{id}",
    "bitbucket": "https://bitbucket.org/{owner}/{name}/commits/{id}",
}


class SourceUnavailable(Exception):
    """The action's repository cannot be read; the message says why."""


def git_actions(declaration: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        action
        for action in declaration["stages"][0]["actions"]
        if action["actionTypeId"]["provider"] in PROVIDERS
        and action["actionTypeId"]["owner"] == "AWS"
    ]


def repository_of(
    action: dict[str, Any], account_id: str, region: str
) -> tuple[urls.RepositoryAddress, str]:
    """The action's repository, and for a connection its ARN (else the empty string)."""
    config = action.get("configuration", {})
    if action["actionTypeId"]["provider"] == CODECOMMIT:
        name = str(config.get("RepositoryName", ""))
        state = codecommit_state(account_id, region)
        with state.lock:
            if name not in state.repositories:
                raise SourceUnavailable(f"The repository {name} does not exist in CodeCommit")
        return urls.codecommit_repository(account_id, region, name), ""
    arn = str(config.get("ConnectionArn", ""))
    connection = connection_of(arn)
    if connection is None:
        raise SourceUnavailable(f"Connection {arn} does not exist")
    if connection.status != AVAILABLE:
        raise SourceUnavailable(f"Connection {arn} is not available: it is {connection.status}")
    full_id = str(config.get("FullRepositoryId", ""))
    address = urls.connection_repository(connection.provider_type, full_id)
    if address is None:
        raise SourceUnavailable(f"FullRepositoryId {full_id!r} is not of the form owner/name")
    return address, arn


def _branch_of(directory: Path, commit_id: str, configured: str) -> str:
    """The branch a pinned commit is taken from: the configured one if its head is that commit,
    else a branch whose head it is (a push to another branch a trigger admits)."""
    heads = {
        ref.removeprefix("refs/heads/"): head
        for ref, head in repos.refs(directory).items()
        if ref.startswith("refs/heads/")
    }
    if heads.get(configured) == commit_id:
        return configured
    return next((b for b, head in sorted(heads.items()) if head == commit_id), configured)


def commit_page(address: urls.RepositoryAddress, commit_id: str) -> str:
    """Where the provider shows the commit (the revision URL AWS gives)."""
    if address.host == urls.CODECOMMIT:
        return (
            f"https://{address.region}.console.aws.amazon.com/codesuite/codecommit/repositories/"
            f"{address.name}/commit/{commit_id}?region={address.region}"
        )
    template = _COMMIT_PAGES.get(address.host, "{url}/commit/{id}")
    return template.format(
        owner=address.owner, name=address.name, id=commit_id, url=address.url_path
    )


def pin(
    action: dict[str, Any], execution: models.Execution, commit_id: str | None
) -> dict[str, str]:
    address, connection_arn = repository_of(action, execution.account_id, execution.region)
    directory = address.directory(repos.root())
    configured = str(action.get("configuration", {}).get("BranchName", ""))
    if commit_id is None:
        commit_id = repos.branch_head(directory, configured) if repos.exists(directory) else None
        if commit_id is None:
            raise SourceUnavailable(
                f"The branch {configured} does not exist in the repository {address.url_path}"
            )
    try:
        commit = repos.commit(directory, commit_id)
    except repos.GitError:
        raise SourceUnavailable(f"The commit {commit_id} is not in {address.url_path}") from None
    provider = urls.provider_type(address.host) if connection_arn else ""
    summary = (
        json.dumps({"ProviderType": provider, "CommitMessage": commit.message})
        if connection_arn
        else commit.message
    )
    return {
        "revisionId": commit.id,
        "summary": summary,
        "created": commit.committer.when.isoformat(),
        "url": commit_page(address, commit.id),
        "directory": str(directory),
        "branch": _branch_of(directory, commit.id, configured),
        "repository": address.full_repository_id if connection_arn else address.name,
        "connectionArn": connection_arn,
        "message": commit.message,
        "authorDate": commit.author.when.isoformat(),
        "committerDate": commit.committer.when.isoformat(),
    }


def pin_revisions(execution: models.Execution, overrides: dict[str, str]) -> None:
    """Record which commit each Git source action of ``execution`` will use."""
    for action in git_actions(execution.declaration):
        try:
            pinned = pin(action, execution, overrides.get(action["name"]))
        except (SourceUnavailable, repos.GitError) as error:
            pinned = {"error": str(error)}
        execution.source_revisions[action["name"]] = pinned
