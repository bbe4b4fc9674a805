"""CodePipeline's errors that several operations answer with, in the API's words."""

from __future__ import annotations

from xrdeploy_local_cloud.kit.errors import ServiceError


def pipeline_not_found(account_id: str, name: str) -> ServiceError:
    return ServiceError(
        "PipelineNotFoundException",
        f"Account '{account_id}' does not have a pipeline with name '{name}'",
    )


def execution_not_found(name: str, execution_id: str) -> ServiceError:
    return ServiceError(
        "PipelineExecutionNotFoundException",
        f"Pipeline execution with id '{execution_id}' does not exist in pipeline '{name}'",
    )


def validation(message: str) -> ServiceError:
    return ServiceError("ValidationException", message)
