"""The connection operations both APIs answer: Create/Get/List/DeleteConnection and tags.

A connection is AVAILABLE as soon as it is created: on AWS it stays PENDING until someone
completes the handshake with the provider in the console, which the local cloud has nothing to
stand for (emulator/README.md lists this difference).
"""

from __future__ import annotations

import uuid
from functools import partial
from typing import Any

from xrdeploy_local_cloud.codeconnections.model import Connection, RegionState
from xrdeploy_local_cloud.git.urls import PROVIDER_TYPES
from xrdeploy_local_cloud.kit.errors import ServiceError
from xrdeploy_local_cloud.kit.paging import page
from xrdeploy_local_cloud.kit.tags import TagFields, tag_list, tags_of

Request = dict[str, Any]
TAGS = TagFields("Key", "Value")
MAX_TAGS = 200
MAX_NAME = 32


def _validation(message: str) -> ServiceError:
    return ServiceError("ValidationException", message)


def _connection(state: RegionState, arn: str | None) -> Connection:
    found = state.find(arn or "")
    if found is None:
        raise ServiceError("ResourceNotFoundException", f"Connection {arn} does not exist")
    return found


def _checked_tags(entries: list[dict[str, str]] | None) -> dict[str, str]:
    tags = tags_of(entries, TAGS)
    for key, value in tags.items():
        if not 1 <= len(key) <= 128 or len(value) > 256:
            raise _validation(f"Tag {key!r}: keys have 1 to 128 characters, values at most 256")
    return tags


def create_connection(prefix: str, state: RegionState, request: Request) -> dict[str, Any]:
    name = str(request.get("ConnectionName") or "")
    provider = request.get("ProviderType")
    if not 1 <= len(name) <= MAX_NAME:
        raise _validation(f"ConnectionName must have 1 to {MAX_NAME} characters")
    if provider is None and not request.get("HostArn"):
        raise _validation("Either ProviderType or HostArn must be specified")
    if provider is not None and provider not in PROVIDER_TYPES:
        raise _validation(f"ProviderType must be one of {', '.join(PROVIDER_TYPES)}")
    tags = _checked_tags(request.get("Tags"))
    if len(tags) > MAX_TAGS:
        raise ServiceError("TooManyTagsException", f"A resource can have at most {MAX_TAGS} tags")
    connection_id = str(uuid.uuid4())
    connection = Connection(
        id=connection_id,
        arn=state.arn(prefix, connection_id),
        name=name,
        # A host (self-managed GitHub Enterprise or GitLab) is not emulated: its connections
        # are taken as GitHubEnterpriseServer ones.
        provider_type=str(provider or "GitHubEnterpriseServer"),
        owner_account_id=state.account_id,
        host_arn=request.get("HostArn"),
        tags=tags,
    )
    with state.lock:
        state.connections[connection_id] = connection
    answer: dict[str, Any] = {"ConnectionArn": connection.arn}
    if tags:
        answer["Tags"] = tag_list(tags, TAGS)
    return answer


def _view(connection: Connection) -> dict[str, Any]:
    view = {
        "ConnectionName": connection.name,
        "ConnectionArn": connection.arn,
        "ProviderType": connection.provider_type,
        "OwnerAccountId": connection.owner_account_id,
        "ConnectionStatus": connection.status,
    }
    if connection.host_arn:
        view["HostArn"] = connection.host_arn
    return view


def get_connection(state: RegionState, request: Request) -> dict[str, Any]:
    with state.lock:
        return {"Connection": _view(_connection(state, request.get("ConnectionArn")))}


def list_connections(state: RegionState, request: Request) -> dict[str, Any]:
    size = request.get("MaxResults")
    if size is not None and not 0 <= int(size) <= 100:
        raise _validation("MaxResults must be between 0 and 100")
    provider, host = request.get("ProviderTypeFilter"), request.get("HostArnFilter")
    with state.lock:
        listed = [
            _view(c)
            for c in state.connections.values()
            if (provider is None or c.provider_type == provider)
            and (host is None or c.host_arn == host)
        ]
    items, token = page(listed, request, 100, token_key="NextToken", size_key="MaxResults")
    return {"Connections": items, **({"NextToken": token} if token else {})}


def delete_connection(state: RegionState, request: Request) -> dict[str, Any]:
    with state.lock:
        connection = _connection(state, request.get("ConnectionArn"))
        del state.connections[connection.id]
    return {}


def tag_resource(state: RegionState, request: Request) -> dict[str, Any]:
    with state.lock:
        connection = _connection(state, request.get("ResourceArn"))
        tags = {**connection.tags, **_checked_tags(request.get("Tags"))}
        if len(tags) > MAX_TAGS:
            raise ServiceError(
                "TooManyTagsException", f"A resource can have at most {MAX_TAGS} tags"
            )
        connection.tags = tags
    return {}


def untag_resource(state: RegionState, request: Request) -> dict[str, Any]:
    with state.lock:
        connection = _connection(state, request.get("ResourceArn"))
        for key in request.get("TagKeys") or []:
            connection.tags.pop(key, None)
    return {}


def list_tags_for_resource(state: RegionState, request: Request) -> dict[str, Any]:
    with state.lock:
        connection = _connection(state, request.get("ResourceArn"))
        return {"Tags": tag_list(connection.tags, TAGS)}


def handlers(prefix: str) -> dict[str, Any]:
    """The operations of the API whose ARNs start ``arn:aws:<prefix>``."""
    return {
        "CreateConnection": partial(create_connection, prefix),
        "GetConnection": get_connection,
        "ListConnections": list_connections,
        "DeleteConnection": delete_connection,
        "TagResource": tag_resource,
        "UntagResource": untag_resource,
        "ListTagsForResource": list_tags_for_resource,
    }
