"""CodePipeline's errors, as the API names them (boto3 sees ``code`` as the error code)."""

from __future__ import annotations

from localstack.aws.api import CommonServiceException


def error(code: str, message: str) -> CommonServiceException:
    return CommonServiceException(code, message, status_code=400, sender_fault=True)


def pipeline_not_found(account_id: str, name: str) -> CommonServiceException:
    return error(
        "PipelineNotFoundException",
        f"Account '{account_id}' does not have a pipeline with name '{name}'",
    )


def execution_not_found(name: str, execution_id: str) -> CommonServiceException:
    return error(
        "PipelineExecutionNotFoundException",
        f"Pipeline execution with id '{execution_id}' does not exist in pipeline '{name}'",
    )


def validation(message: str) -> CommonServiceException:
    return error("ValidationException", message)
