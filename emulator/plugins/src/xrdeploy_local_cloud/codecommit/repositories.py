"""Create/Get/List/DeleteRepository, UpdateRepositoryDescription and tags.

A repository is a bare Git repository of the local cloud (:mod:`...git.repos`); its
``cloneUrlHttp`` is the local cloud's Git endpoint for it (:mod:`...git.urls`). ``cloneUrlSsh``
is AWS's form: the local cloud serves no SSH.
"""

from __future__ import annotations

import datetime
import uuid
from pathlib import Path
from typing import Any

from xrdeploy_local_cloud.codecommit.model import RegionState, Repository, check_name
from xrdeploy_local_cloud.git import repos, urls
from xrdeploy_local_cloud.kit.errors import ServiceError
from xrdeploy_local_cloud.kit.paging import page

Request = dict[str, Any]
DEFAULT_KMS_KEY = "alias/aws/codecommit"
# Where the local cloud's gateway is reached; the service sets it from LocalStack's config.
gateway_url = "http://127.0.0.1:4566"


def directory_of(state: RegionState, name: str) -> Path:
    return urls.codecommit_repository(state.account_id, state.region, name).directory(repos.root())


def clone_url(state: RegionState, name: str) -> str:
    return gateway_url + urls.codecommit_repository(state.account_id, state.region, name).url_path


def _metadata(state: RegionState, repository: Repository) -> dict[str, Any]:
    directory = directory_of(state, repository.name)
    heads = [r for r in repos.refs(directory) if r.startswith("refs/heads/")]
    head = repos.git(directory, "symbolic-ref", "HEAD").decode().strip()
    metadata: dict[str, Any] = {
        "accountId": state.account_id,
        "repositoryId": repository.id,
        "repositoryName": repository.name,
        "lastModifiedDate": repository.modified,
        "creationDate": repository.created,
        "cloneUrlHttp": clone_url(state, repository.name),
        "cloneUrlSsh": f"ssh://git-codecommit.{state.region}.amazonaws.com/v1/repos/"
        + repository.name,
        "Arn": repository.arn,
        "kmsKeyId": repository.kms_key_id,
    }
    if repository.description is not None:
        metadata["repositoryDescription"] = repository.description
    if head in heads:  # CodeCommit names a default branch once the repository has one
        metadata["defaultBranch"] = head.removeprefix("refs/heads/")
    return metadata


def create_repository(state: RegionState, request: Request) -> dict[str, Any]:
    name = check_name(request.get("repositoryName"))
    now = datetime.datetime.now(datetime.UTC)
    with state.lock:
        if name in state.repositories:
            raise ServiceError(
                "RepositoryNameExistsException", f"Repository named {name} already exists"
            )
        repository = Repository(
            id=str(uuid.uuid4()),
            name=name,
            arn=state.arn(name),
            description=request.get("repositoryDescription"),
            kms_key_id=str(request.get("kmsKeyId") or DEFAULT_KMS_KEY),
            created=now,
            modified=now,
            tags=dict(request.get("tags") or {}),
        )
        directory = directory_of(state, name)
        repos.remove(directory)  # left by a repository of that name deleted before
        repos.init_bare(directory)
        state.repositories[name] = repository
        return {"repositoryMetadata": _metadata(state, repository)}


def get_repository(state: RegionState, request: Request) -> dict[str, Any]:
    with state.lock:
        repository = state.repository(request.get("repositoryName"))
        return {"repositoryMetadata": _metadata(state, repository)}


def list_repositories(state: RegionState, request: Request) -> dict[str, Any]:
    by_date = request.get("sortBy") == "lastModifiedDate"
    with state.lock:
        listed = sorted(
            state.repositories.values(),
            key=lambda r: (r.modified, r.name) if by_date else (r.name, r.modified),
            reverse=request.get("order") == "descending",
        )
    items, token = page(
        [{"repositoryName": r.name, "repositoryId": r.id} for r in listed], request, 1000
    )
    return {"repositories": items, **({"nextToken": token} if token else {})}


def delete_repository(state: RegionState, request: Request) -> dict[str, Any]:
    name = check_name(request.get("repositoryName"))
    with state.lock:
        repository = state.repositories.pop(name, None)
        if repository is None:  # CodeCommit answers a missing repository with no id
            return {}
        repos.remove(directory_of(state, name))
    return {"repositoryId": repository.id}


def update_repository_description(state: RegionState, request: Request) -> dict[str, Any]:
    with state.lock:
        repository = state.repository(request.get("repositoryName"))
        repository.description = request.get("repositoryDescription")
        repository.modified = datetime.datetime.now(datetime.UTC)
    return {}


def tag_resource(state: RegionState, request: Request) -> dict[str, Any]:
    with state.lock:
        repository = state.by_arn(request.get("resourceArn"))
        repository.tags.update(request.get("tags") or {})
    return {}


def untag_resource(state: RegionState, request: Request) -> dict[str, Any]:
    with state.lock:
        repository = state.by_arn(request.get("resourceArn"))
        for key in request.get("tagKeys") or []:
            repository.tags.pop(key, None)
    return {}


def list_tags_for_resource(state: RegionState, request: Request) -> dict[str, Any]:
    with state.lock:
        return {"tags": dict(state.by_arn(request.get("resourceArn")).tags)}


HANDLERS = {
    "CreateRepository": create_repository,
    "GetRepository": get_repository,
    "ListRepositories": list_repositories,
    "DeleteRepository": delete_repository,
    "UpdateRepositoryDescription": update_repository_description,
    "TagResource": tag_resource,
    "UntagResource": untag_resource,
    "ListTagsForResource": list_tags_for_resource,
}
