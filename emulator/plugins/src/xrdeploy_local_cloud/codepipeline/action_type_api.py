"""Action types: the built-in catalogue (:mod:`.catalogue`) and an account's custom types.

ListActionTypes, GetActionType, CreateCustomActionType, DeleteCustomActionType and
UpdateActionType, with the API reference's rules: a custom type's provider and version match
``[0-9A-Za-z_-]+``, at most 10 configuration properties of which at most one is queryable (and
that one required and not secret), 0-5 artifacts each way; a deleted custom type cannot be
created again with the same version; at most 50 custom types per account and region.
"""

from __future__ import annotations

import re
from typing import Any, NoReturn

from xrdeploy_local_cloud.codepipeline import catalogue, models
from xrdeploy_local_cloud.codepipeline import execution_states as states
from xrdeploy_local_cloud.codepipeline.control import MAX_TAGS, tags_dict
from xrdeploy_local_cloud.codepipeline.errors import validation
from xrdeploy_local_cloud.codepipeline.stores import State
from xrdeploy_local_cloud.kit import paging
from xrdeploy_local_cloud.kit.errors import ServiceError
from xrdeploy_local_cloud.kit.tags import CODEPIPELINE, tag_list

Request = dict[str, Any]
_NAME = re.compile(r"[0-9A-Za-z_-]{1,35}")
_VERSION = re.compile(r"[0-9A-Za-z_-]{1,9}")
_OWNERS = ("AWS", "ThirdParty", "Custom")
_PAGE = 100
MAX_CUSTOM_TYPES = 50


def list_action_types(state: State, request: Request) -> dict[str, Any]:
    owner = request.get("actionOwnerFilter")
    if owner is not None and owner not in _OWNERS:
        raise validation(
            f"1 validation error detected: Value '{owner}' at 'actionOwnerFilter' failed to "
            "satisfy constraint: Member must satisfy enum value set: [AWS, ThirdParty, Custom]"
        )
    region = request.get("regionFilter")
    if region is not None and not re.fullmatch(r"[a-z]{2}(-[a-z]+)+-\d", region):
        raise validation(f"Invalid region: {region}")
    with states.reading():
        custom = [t.action_type for t in state.store.custom_action_types.values()]
    every = [catalogue.listed(b) for b in catalogue.BUILTIN] + custom
    chosen = [t for t in every if owner is None or t["id"]["owner"] == owner]
    # ListActionTypes takes no maxResults: AWS's pages are of its own size.
    listed, token = paging.page(chosen, {"nextToken": request.get("nextToken")}, _PAGE)
    response: dict[str, Any] = {"actionTypes": listed}
    if token:
        response["nextToken"] = token
    return response


def _type_not_found(type_id: dict[str, str]) -> NoReturn:
    raise ServiceError(
        "ActionTypeNotFoundException",
        f"Action type {type_id['category']}/{type_id['owner']}/{type_id['provider']}/"
        f"{type_id['version']} does not exist",
    )


def get_action_type(state: State, request: Request) -> dict[str, Any]:
    builtin = catalogue.find(
        request["category"], request["owner"], request["provider"], request["version"]
    )
    if builtin is None:
        _type_not_found(request)
    return {"actionType": catalogue.declaration(builtin)}


def update_action_type(state: State, request: Request) -> dict[str, Any]:
    """Only the owner of an action type (its integrator, registered with AWS) may update it;
    the built-in types belong to AWS and to the partners, never to the caller."""
    type_id = request["actionType"]["id"]
    builtin = catalogue.find(
        type_id["category"], type_id["owner"], type_id["provider"], type_id["version"]
    )
    if builtin is None:
        _type_not_found(type_id)
    raise ServiceError(
        "RequestFailedException",
        f"Account {state.account_id} does not own the action type "
        f"{type_id['category']}/{type_id['owner']}/{type_id['provider']}/{type_id['version']}",
    )


def _artifact_details(request: Request, field: str) -> dict[str, int]:
    details = request[field]
    low, high = int(details["minimumCount"]), int(details["maximumCount"])
    if not (0 <= low <= high <= 5):
        raise validation(f"{field}: minimumCount and maximumCount must be 0-5, minimum first")
    return {"minimumCount": low, "maximumCount": high}


def _properties(request: Request) -> list[dict[str, Any]]:
    properties = [dict(p) for p in request.get("configurationProperties") or []]
    if len(properties) > 10:
        raise validation("A custom action type has at most 10 configuration properties")
    queryable = [p for p in properties if p.get("queryable")]
    if len(queryable) > 1:
        raise validation("A custom action type has at most one queryable property")
    for prop in queryable:
        if not prop["required"] or prop["secret"]:
            raise validation(
                f"The queryable property {prop['name']} must be required and not secret"
            )
    return properties


def _key(request: Request) -> tuple[str, str, str]:
    if not _NAME.fullmatch(request["provider"]):
        raise validation(f"Invalid provider name: {request['provider']}")
    if not _VERSION.fullmatch(request["version"]):
        raise validation(f"Invalid version: {request['version']}")
    return request["category"], request["provider"], request["version"]


def create_custom_action_type(state: State, request: Request) -> dict[str, Any]:
    key = _key(request)
    category, provider, version = key
    action_type = {
        "id": {"category": category, "owner": "Custom", "provider": provider, "version": version},
        "settings": dict(request.get("settings") or {}),
        "actionConfigurationProperties": _properties(request),
        "inputArtifactDetails": _artifact_details(request, "inputArtifactDetails"),
        "outputArtifactDetails": _artifact_details(request, "outputArtifactDetails"),
    }
    tags = tags_dict(request.get("tags"))
    if len(tags) > MAX_TAGS:
        raise ServiceError("TooManyTagsException", "Tag limit exceeded")
    store = state.store
    with states.changing():
        if key in store.custom_action_types or key in store.deleted_action_types:
            raise validation(
                f"Action type {category}/Custom/{provider}/{version} already exists or was "
                "deleted: create it with a new version"
            )
        if len(store.custom_action_types) >= MAX_CUSTOM_TYPES:
            raise ServiceError(
                "LimitExceededException", "The number of custom action types exceeds the limit"
            )
        store.custom_action_types[key] = models.CustomActionType(action_type, tags)
    response: dict[str, Any] = {"actionType": action_type}
    if tags:
        response["tags"] = tag_list(tags, CODEPIPELINE)
    return response


def delete_custom_action_type(state: State, request: Request) -> dict[str, Any]:
    key = _key(request)
    store = state.store
    with states.changing():
        if store.custom_action_types.pop(key, None) is None:
            raise validation(f"Action type {key[0]}/Custom/{key[1]}/{key[2]} does not exist")
        store.deleted_action_types.add(key)
    return {}
