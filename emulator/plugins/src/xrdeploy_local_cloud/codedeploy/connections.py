"""GitHub account connections and resources created under an external id, as the local cloud has
them: none.

A GitHub connection is made by authorizing CodeDeploy in the AWS console (an OAuth hand-off the
API cannot do), and DeleteResourcesByExternalId removes what CodeDeploy created for an external
id (AWS CodeStar, CloudFormation hooks); nothing in the local cloud makes either, so the list is
empty, a named token does not exist and there is nothing to delete. Pure: no LocalStack.
"""

from __future__ import annotations

from typing import Any

from xrdeploy_local_cloud.codedeploy import control
from xrdeploy_local_cloud.codedeploy.model import RegionState
from xrdeploy_local_cloud.kit import paging
from xrdeploy_local_cloud.kit.errors import ServiceError


def list_github_account_token_names(state: RegionState, request: dict[str, Any]) -> dict[str, Any]:
    # The local cloud keeps no GitHub connections: the one page is empty, and any token refused.
    names, _ = paging.page(list[str](), request)
    return {"tokenNameList": names}


def delete_github_account_token(state: RegionState, request: dict[str, Any]) -> dict[str, Any]:
    name = request.get("tokenName")
    if not name:
        raise ServiceError(
            "GitHubAccountTokenNameRequiredException",
            "The call is missing a required GitHub account connection name.",
        )
    raise ServiceError(
        "GitHubAccountTokenDoesNotExistException",
        f"No GitHub account connection exists with the name {name}.",
    )


def delete_resources_by_external_id(state: RegionState, request: dict[str, Any]) -> dict[str, Any]:
    return {}


HANDLERS: dict[str, control.Handler] = {
    "ListGitHubAccountTokenNames": list_github_account_token_names,
    "DeleteGitHubAccountToken": delete_github_account_token,
    "DeleteResourcesByExternalId": delete_resources_by_external_id,
}
