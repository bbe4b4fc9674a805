"""The kit's dispatch: every operation of a service's model answers, built or not."""

from __future__ import annotations

import json
from typing import Any

from localstack.aws.api import RequestContext
from localstack.aws.skeleton import Skeleton
from localstack.aws.spec import load_service
from localstack.http import Request, Response

from xrdeploy_local_cloud.kit.dispatch import Handler, dispatch_table

State = dict[str, str]


def _call(handlers: dict[str, Handler[State]], operation: str) -> Response:
    """``operation`` sent to a CodePipeline built from ``handlers``, as a client sends it."""
    spec = load_service("codepipeline")
    request = Request(
        "POST",
        "/",
        headers={
            "X-Amz-Target": f"CodePipeline_20150709.{operation}",
            "Content-Type": "application/x-amz-json-1.1",
        },
        body=b"{}",
    )
    context = RequestContext(request)
    context.service, context.protocol = spec, "json"
    context.account_id, context.region = "111111111111", "eu-west-1"

    def state_of(call: RequestContext) -> State:
        return {"account": str(call.account_id), "region": str(call.region)}

    table = dispatch_table("codepipeline", list(spec.operation_names), handlers, state_of)
    return Skeleton(spec, table).invoke(context)


def test_a_handler_gets_the_state_of_the_callers_account_and_region() -> None:
    def list_pipelines(state: State, request: dict[str, Any]) -> dict[str, Any]:
        return {"pipelines": [{"name": f"{state['account']}/{state['region']}"}]}

    response = _call({"ListPipelines": list_pipelines}, "ListPipelines")

    assert response.status_code == 200
    assert json.loads(response.data)["pipelines"] == [{"name": "111111111111/eu-west-1"}]


def test_an_operation_not_built_answers_not_implemented_naming_it_never_internal_failure() -> None:
    # GIVEN a service without a handler for ListWebhooks; WHEN a client calls it
    response = _call({}, "ListWebhooks")

    # THEN LocalStack's 501 answer for its own unimplemented operations, under AWS's code
    body = json.loads(response.data)
    assert response.status_code == 501
    assert body["__type"] == "NotImplemented"
    assert body["message"] == (
        "Sorry, the ListWebhooks operation on the codepipeline service is not currently "
        "supported by LocalStack."
    )


def test_every_operation_of_the_model_has_an_entry() -> None:
    spec = load_service("codedeploy")
    table = dispatch_table("codedeploy", list(spec.operation_names), {}, lambda _: None)
    assert sorted(table) == sorted(spec.operation_names)
