"""The control plane: pipelines and their tags (what Terraform's aws_codepipeline calls)."""

from __future__ import annotations

from typing import Any

from xrdeploy_local_cloud.codepipeline import declarations, models, stores
from xrdeploy_local_cloud.codepipeline import execution_states as states
from xrdeploy_local_cloud.codepipeline.errors import pipeline_not_found, validation
from xrdeploy_local_cloud.codepipeline.roles import check_pipeline_role
from xrdeploy_local_cloud.codepipeline.stores import State
from xrdeploy_local_cloud.kit.errors import ServiceError
from xrdeploy_local_cloud.kit.tags import CODEPIPELINE, tag_list, tags_of

Request = dict[str, Any]
Response = dict[str, Any]
MAX_TAGS = 50


def pipeline_of(state: State, name: str) -> models.Pipeline:
    pipeline = state.store.pipelines.get(name)
    if pipeline is None:
        raise pipeline_not_found(state.account_id, name)
    return pipeline


def normalized(declaration: dict[str, Any], version: int) -> dict[str, Any]:
    try:
        return declarations.normalized(declaration, version)
    except declarations.DeclarationError as refused:
        raise ServiceError(refused.code, str(refused)) from None


def tags_dict(entries: list[dict[str, str]] | None) -> dict[str, str]:
    """A request's tags; AWS refuses the system tags (``aws:``)."""
    tags = tags_of(entries, CODEPIPELINE)
    if any(key.startswith("aws:") for key in tags):
        raise ServiceError(
            "InvalidTagsException",
            "Not allowed to modify system tags. System tags start with 'aws:'.",
        )
    return tags


def _check_custom_types(state: State, declaration: dict[str, Any]) -> None:
    """AWS refuses an action of a custom type the account does not have in that region."""
    for stage in declaration["stages"]:
        for action in stage["actions"]:
            type_id = action["actionTypeId"]
            region = action.get("region", state.region)
            if type_id["owner"] != "Custom" or stores.custom_type(
                state.account_id, region, type_id
            ):
                continue
            raise ServiceError(
                "InvalidActionDeclarationException",
                f"ActionType (Category: '{type_id['category']}', Provider: "
                f"'{type_id['provider']}', Owner: 'Custom', Version: '{type_id['version']}') "
                f"in action '{action['name']}' is not available in region "
                f"'{region.upper().replace('-', '_')}'",
            )


def create_pipeline(state: State, request: Request) -> Response:
    declaration = request["pipeline"]
    name = declaration["name"]
    store = state.store
    with states.changing():
        if name in store.pipelines:
            raise ServiceError(
                "PipelineNameInUseException",
                f"A pipeline with name '{name}' already exists in account '{state.account_id}'",
            )
    pipeline_declaration = normalized(declaration, version=1)
    _check_custom_types(state, pipeline_declaration)
    check_pipeline_role(pipeline_declaration["roleArn"])
    tags = tags_dict(request.get("tags"))
    if len(tags) > MAX_TAGS:
        raise ServiceError("TooManyTagsException", "Tag limit exceeded")
    arn = f"arn:{state.partition}:codepipeline:{state.region}:{state.account_id}:{name}"
    with states.changing():
        if name in store.pipelines:
            raise ServiceError(
                "PipelineNameInUseException", f"A pipeline with name '{name}' exists"
            )
        store.pipelines[name] = models.Pipeline(pipeline_declaration, arn, tags=tags)
    response: Response = {"pipeline": pipeline_declaration}
    if tags:
        response["tags"] = tag_list(tags, CODEPIPELINE)
    return response


def get_pipeline(state: State, request: Request) -> Response:
    pipeline = pipeline_of(state, request["name"])
    version = request.get("version")
    if version is not None and version != pipeline.declaration["version"]:
        raise ServiceError(
            "PipelineVersionNotFoundException",
            f"Pipeline {pipeline.name} does not have a version {version}",
        )
    return {
        "pipeline": pipeline.declaration,
        "metadata": {
            "pipelineArn": pipeline.arn,
            "created": pipeline.created,
            "updated": pipeline.updated,
        },
    }


def update_pipeline(state: State, request: Request) -> Response:
    declaration = request["pipeline"]
    store = state.store
    name = declaration["name"]
    current = store.pipelines.get(name)
    if current is None:
        raise ServiceError(
            "ResourceNotFoundException",
            f"The account with id '{state.account_id}' does not include a pipeline "
            f"with the name '{name}'",
        )
    updated = normalized(declaration, version=int(current.declaration["version"]) + 1)
    _check_custom_types(state, updated)
    check_pipeline_role(updated["roleArn"])
    with states.changing():
        current.declaration = updated
        current.updated = models.now()
    return {"pipeline": updated}


def delete_pipeline(state: State, request: Request) -> Response:
    with states.changing():
        pipeline = state.store.pipelines.pop(request["name"], None)
        if pipeline is not None:
            for execution in pipeline.executions:
                states.abandon(execution)
    return {}


def list_pipelines(state: State, request: Request) -> Response:
    pipelines = sorted(state.store.pipelines.values(), key=lambda p: p.name)
    return {
        "pipelines": [
            {
                "name": p.name,
                "version": p.declaration["version"],
                "pipelineType": p.declaration["pipelineType"],
                "executionMode": p.declaration["executionMode"],
                "created": p.created,
                "updated": p.updated,
            }
            for p in pipelines
        ]
    }


def _tags_of(state: State, arn: str) -> dict[str, str]:
    """The tags of the resource an ARN names: a pipeline, a webhook
    (``...:webhook:<name>``) or a custom action type
    (``...:actiontype:Custom/<category>/<provider>/<version>``)."""
    parts = arn.split(":")
    tags: dict[str, str] | None = None
    if len(parts) >= 6 and parts[2] == "codepipeline":
        store = stores.store(parts[4], parts[3])
        kind, name = (parts[5], ":".join(parts[6:])) if len(parts) > 6 else ("pipeline", parts[5])
        with states.reading():
            if kind == "pipeline" and name in store.pipelines:
                tags = store.pipelines[name].tags if store.pipelines[name].arn == arn else None
            elif kind == "webhook" and name in store.webhooks:
                tags = store.webhooks[name].tags
            elif kind == "actiontype" and name.count("/") == 3:
                owner, category, provider, version = name.split("/")
                found = store.custom_action_types.get((category, provider, version))
                tags = found.tags if found and owner == "Custom" else None
    if tags is None:
        raise ServiceError(
            "ResourceNotFoundException", f"The resource with the ARN {arn} does not exist"
        )
    return tags


def list_tags_for_resource(state: State, request: Request) -> Response:
    return {"tags": tag_list(_tags_of(state, request["resourceArn"]), CODEPIPELINE)}


def tag_resource(state: State, request: Request) -> Response:
    current = _tags_of(state, request["resourceArn"])
    tags = tags_dict(request.get("tags"))
    with states.changing():
        if len({**current, **tags}) > MAX_TAGS:
            raise ServiceError("TooManyTagsException", "Tag limit exceeded")
        current.update(tags)
    return {}


def untag_resource(state: State, request: Request) -> Response:
    current = _tags_of(state, request["resourceArn"])
    keys = request.get("tagKeys") or []
    if any(key.startswith("aws:") for key in keys):
        raise validation("Not allowed to modify system tags. System tags start with 'aws:'.")
    with states.changing():
        for key in keys:
            current.pop(key, None)
    return {}
