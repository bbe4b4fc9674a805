"""LocalStack Extension ``xrdeploy-codepipeline-webhooks``: the endpoint behind webhook URLs.

PutWebhook answers ``<local cloud>/_xrdeploy/codepipeline/webhooks/trigger?t=<token>&v=1``;
a POST there (what GitHub would send) is authenticated and filtered as the webhook says
(:mod:`.webhook_filters`) and starts the target pipeline (trigger ``Webhook``, the webhook's ARN
as detail), recording the webhook's ``lastTriggered``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, cast

from localstack.aws.api import ServiceException
from localstack.extensions.api import Extension
from localstack.http import Request, Response, Router, route

from xrdeploy_local_cloud.codepipeline import execution_states as states
from xrdeploy_local_cloud.codepipeline import models, runs, stores, webhook_filters

EXTENSION_NAME = "xrdeploy-codepipeline-webhooks"
TRIGGER_PATH = "/_xrdeploy/codepipeline/webhooks/trigger"


def _find(token: str) -> tuple[str, str, models.Webhook] | None:
    with states.reading():
        for account_id, regions in stores.codepipeline_stores.items():
            for region, store in regions.items():
                for webhook in store.webhooks.values():
                    if webhook.token == token:
                        return account_id, region, webhook
    return None


def _answer(status: int, message: str, **fields: Any) -> Response:
    return Response(json.dumps({"message": message, **fields}), status, mimetype="application/json")


def _start(account_id: str, region: str, webhook: models.Webhook) -> str:
    pipeline = stores.store(account_id, region).pipelines[webhook.definition["targetPipeline"]]
    trigger = {"triggerType": "Webhook", "triggerDetail": webhook.arn}
    variables = runs.variables_for(pipeline.declaration, None)
    execution = runs.start_execution(
        stores.state_for(account_id, region), pipeline, trigger, variables, {}
    )
    with states.changing():
        webhook.last_triggered = models.now()
    return str(execution.id)


def _source_configuration(
    account_id: str, region: str, webhook: models.Webhook
) -> dict[str, str] | None:
    pipeline = stores.store(account_id, region).pipelines.get(webhook.definition["targetPipeline"])
    if pipeline is None:
        return None
    actions = pipeline.declaration["stages"][0]["actions"]
    action = next((a for a in actions if a["name"] == webhook.definition["targetAction"]), None)
    return dict(action.get("configuration", {})) if action else None


class WebhookApi:
    @route(TRIGGER_PATH, methods=["POST"])
    def trigger(self, request: Request) -> Response:
        found = _find(request.args.get("t", ""))
        if found is None:
            return _answer(404, "No webhook has this URL")
        account_id, region, webhook = found
        body = request.get_data()
        # Werkzeug's Headers reads as a case-insensitive mapping, but is not typed as one.
        headers = cast(Mapping[str, str], request.headers)
        if not webhook_filters.authentic(
            webhook.definition, body, headers, request.remote_addr or ""
        ):
            return _answer(401, "The call failed the webhook's authentication")
        try:
            payload = json.loads(body or b"null")
        except ValueError:
            return _answer(400, "The body is not JSON")
        configuration = _source_configuration(account_id, region, webhook)
        if configuration is None:
            return _answer(404, "The webhook's target pipeline or action no longer exists")
        if not webhook_filters.matches(
            webhook.definition.get("filters") or [], payload, configuration
        ):
            return _answer(200, "The call matched no filter of the webhook: nothing started")
        try:
            execution_id = _start(account_id, region, webhook)
        except ServiceException as refused:
            return _answer(400, str(refused))
        return _answer(200, "Pipeline started", pipelineExecutionId=execution_id)


class WebhookExtension(Extension):
    """Registered in entry-point group ``localstack.extensions``."""

    name = EXTENSION_NAME

    def update_gateway_routes(self, router: Router[Any]) -> None:
        router.add(WebhookApi())
