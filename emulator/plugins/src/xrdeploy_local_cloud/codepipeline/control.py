"""The control plane: pipelines and their tags (what Terraform's aws_codepipeline calls)."""

from __future__ import annotations

from typing import Any

from localstack.aws.api import RequestContext

from xrdeploy_local_cloud.codepipeline import declarations, models, stores
from xrdeploy_local_cloud.codepipeline.errors import pipeline_not_found, validation
from xrdeploy_local_cloud.codepipeline.roles import check_pipeline_role
from xrdeploy_local_cloud.kit.errors import ServiceError
from xrdeploy_local_cloud.kit.tags import CODEPIPELINE, tag_list, tags_of

Request = dict[str, Any]
Response = dict[str, Any]
_MAX_TAGS = 50


def _store(context: RequestContext) -> stores.CodePipelineStore:
    return stores.store(context.account_id, context.region)


def pipeline_of(context: RequestContext, name: str) -> models.Pipeline:
    pipeline = _store(context).pipelines.get(name)
    if pipeline is None:
        raise pipeline_not_found(context.account_id, name)
    return pipeline


def normalized(declaration: dict[str, Any], version: int) -> dict[str, Any]:
    try:
        return declarations.normalized(declaration, version)
    except declarations.DeclarationError as refused:
        raise ServiceError(refused.code, str(refused)) from None


def _tags_dict(entries: list[dict[str, str]] | None) -> dict[str, str]:
    tags = tags_of(entries, CODEPIPELINE)
    if any(key.startswith("aws:") for key in tags):
        raise ServiceError(
            "InvalidTagsException",
            "Not allowed to modify system tags. System tags start with 'aws:'.",
        )
    return tags


def create_pipeline(context: RequestContext, request: Request) -> Response:
    declaration = request["pipeline"]
    name = declaration["name"]
    store = _store(context)
    with models.CHANGED:
        if name in store.pipelines:
            raise ServiceError(
                "PipelineNameInUseException",
                f"A pipeline with name '{name}' already exists in account '{context.account_id}'",
            )
    pipeline_declaration = normalized(declaration, version=1)
    check_pipeline_role(pipeline_declaration["roleArn"])
    tags = _tags_dict(request.get("tags"))
    if len(tags) > _MAX_TAGS:
        raise ServiceError("TooManyTagsException", "Tag limit exceeded")
    arn = f"arn:{context.partition}:codepipeline:{context.region}:{context.account_id}:{name}"
    with models.CHANGED:
        if name in store.pipelines:
            raise ServiceError(
                "PipelineNameInUseException", f"A pipeline with name '{name}' exists"
            )
        store.pipelines[name] = models.Pipeline(pipeline_declaration, arn, tags=tags)
        models.CHANGED.notify_all()
    response: Response = {"pipeline": pipeline_declaration}
    if tags:
        response["tags"] = tag_list(tags, CODEPIPELINE)
    return response


def get_pipeline(context: RequestContext, request: Request) -> Response:
    pipeline = pipeline_of(context, request["name"])
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


def update_pipeline(context: RequestContext, request: Request) -> Response:
    declaration = request["pipeline"]
    store = _store(context)
    name = declaration["name"]
    current = store.pipelines.get(name)
    if current is None:
        raise ServiceError(
            "ResourceNotFoundException",
            f"The account with id '{context.account_id}' does not include a pipeline "
            f"with the name '{name}'",
        )
    updated = normalized(declaration, version=int(current.declaration["version"]) + 1)
    check_pipeline_role(updated["roleArn"])
    with models.CHANGED:
        current.declaration = updated
        current.updated = models.now()
        models.CHANGED.notify_all()
    return {"pipeline": updated}


def delete_pipeline(context: RequestContext, request: Request) -> Response:
    with models.CHANGED:
        pipeline = _store(context).pipelines.pop(request["name"], None)
        if pipeline is not None:
            for execution in pipeline.executions:
                if execution.status not in models.FINISHED:
                    execution.stop = "abandon"  # its thread ends the execution
            models.CHANGED.notify_all()
    return {}


def list_pipelines(context: RequestContext, request: Request) -> Response:
    pipelines = sorted(_store(context).pipelines.values(), key=lambda p: p.name)
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


def _pipeline_by_arn(context: RequestContext, arn: str) -> models.Pipeline:
    parts = arn.split(":")
    pipeline = None
    if len(parts) == 6 and parts[2] == "codepipeline":
        pipeline = stores.store(parts[4], parts[3]).pipelines.get(parts[5])
    if pipeline is None or pipeline.arn != arn:
        raise ServiceError(
            "ResourceNotFoundException", f"The resource with the ARN {arn} does not exist"
        )
    return pipeline


def list_tags_for_resource(context: RequestContext, request: Request) -> Response:
    pipeline = _pipeline_by_arn(context, request["resourceArn"])
    return {"tags": tag_list(pipeline.tags, CODEPIPELINE)}


def tag_resource(context: RequestContext, request: Request) -> Response:
    pipeline = _pipeline_by_arn(context, request["resourceArn"])
    tags = _tags_dict(request.get("tags"))
    with models.CHANGED:
        if len({**pipeline.tags, **tags}) > _MAX_TAGS:
            raise ServiceError("TooManyTagsException", "Tag limit exceeded")
        pipeline.tags.update(tags)
    return {}


def untag_resource(context: RequestContext, request: Request) -> Response:
    pipeline = _pipeline_by_arn(context, request["resourceArn"])
    keys = request.get("tagKeys") or []
    if any(key.startswith("aws:") for key in keys):
        raise validation("Not allowed to modify system tags. System tags start with 'aws:'.")
    with models.CHANGED:
        for key in keys:
            pipeline.tags.pop(key, None)
    return {}
