"""GetBranch, ListBranches and GetCommit: what CodeCommit reads from a repository's Git data."""

from __future__ import annotations

import re
from typing import Any

from xrdeploy_local_cloud.codecommit.model import RegionState
from xrdeploy_local_cloud.codecommit.repositories import directory_of
from xrdeploy_local_cloud.git import repos
from xrdeploy_local_cloud.kit.errors import ServiceError
from xrdeploy_local_cloud.kit.paging import page

Request = dict[str, Any]
_COMMIT_ID = re.compile(r"^[0-9a-f]{40}$")


def get_branch(state: RegionState, request: Request) -> dict[str, Any]:
    with state.lock:
        repository = state.repository(request.get("repositoryName"))
    branch = request.get("branchName")
    if not branch:
        raise ServiceError("BranchNameRequiredException", "A branch name is required.")
    head = repos.branch_head(directory_of(state, repository.name), branch)
    if head is None:
        raise ServiceError(
            "BranchDoesNotExistException", f"Could not find branch {branch} in {repository.name}"
        )
    return {"branch": {"branchName": branch, "commitId": head}}


def list_branches(state: RegionState, request: Request) -> dict[str, Any]:
    with state.lock:
        repository = state.repository(request.get("repositoryName"))
    names = sorted(
        ref.removeprefix("refs/heads/")
        for ref in repos.refs(directory_of(state, repository.name))
        if ref.startswith("refs/heads/")
    )
    items, token = page(names, request, 1000)
    return {"branches": items, **({"nextToken": token} if token else {})}


def _person(person: repos.Person) -> dict[str, str]:
    return {"name": person.name, "email": person.email, "date": person.git_date}


def get_commit(state: RegionState, request: Request) -> dict[str, Any]:
    with state.lock:
        repository = state.repository(request.get("repositoryName"))
    commit_id = request.get("commitId")
    if not commit_id:
        raise ServiceError("CommitIdRequiredException", "A commit ID is required.")
    if not _COMMIT_ID.match(commit_id):
        raise ServiceError("InvalidCommitIdException", f"The commit ID {commit_id} is not valid.")
    try:
        commit = repos.commit(directory_of(state, repository.name), commit_id)
    except repos.GitError:
        raise ServiceError(
            "CommitIdDoesNotExistException",
            f"Could not find commit {commit_id} in {repository.name}",
        ) from None
    return {
        "commit": {
            "commitId": commit.id,
            "treeId": commit.tree_id,
            "parents": list(commit.parents),
            "message": commit.message + "\n",
            "author": _person(commit.author),
            "committer": _person(commit.committer),
            "additionalData": "",
        }
    }


HANDLERS = {"GetBranch": get_branch, "ListBranches": list_branches, "GetCommit": get_commit}
