"""Webhooks: PutWebhook, ListWebhooks, DeleteWebhook, Register/DeregisterWebhookWithThirdParty.

Stored and validated as the API reference says (the target pipeline exists and the target
action is one of its source actions; GITHUB_HMAC needs a SecretToken, IP an AllowedIPRange;
each filter's jsonPath is a JsonPath, ``$`` first; at most 5 filters). The webhook's URL is the
local cloud's own (:mod:`.webhook_trigger` serves it: a POST there starts the pipeline as AWS's
webhook endpoint does); registering with a third party (GitHub) only records that it was asked
for, since no third party can reach the local cloud.
"""

from __future__ import annotations

import ipaddress
import secrets
from typing import Any

from xrdeploy_local_cloud.codepipeline import execution_states as states
from xrdeploy_local_cloud.codepipeline import models
from xrdeploy_local_cloud.codepipeline.control import MAX_TAGS, pipeline_of, tags_dict
from xrdeploy_local_cloud.codepipeline.errors import validation
from xrdeploy_local_cloud.codepipeline.stores import State
from xrdeploy_local_cloud.codepipeline.webhook_trigger import TRIGGER_PATH
from xrdeploy_local_cloud.kit import paging
from xrdeploy_local_cloud.kit.errors import ServiceError
from xrdeploy_local_cloud.kit.tags import CODEPIPELINE, tag_list

Request = dict[str, Any]
_MAX_FILTERS = 5


def _check_authentication(definition: dict[str, Any]) -> None:
    kind = definition["authentication"]
    config = definition.get("authenticationConfiguration") or {}
    wrong = "InvalidWebhookAuthenticationParametersException"
    if kind == "GITHUB_HMAC" and not config.get("SecretToken"):
        raise ServiceError(wrong, "GITHUB_HMAC authentication needs a SecretToken")
    if kind == "IP":
        try:
            ipaddress.ip_network(config.get("AllowedIPRange", ""))
        except ValueError:
            raise ServiceError(
                wrong, "IP authentication needs an AllowedIPRange in CIDR form"
            ) from None
    if kind not in ("GITHUB_HMAC", "IP", "UNAUTHENTICATED"):
        raise validation(f"Invalid authentication type: {kind}")


def _check_target(state: State, definition: dict[str, Any]) -> None:
    pipeline = pipeline_of(state, definition["targetPipeline"])
    sources = pipeline.declaration["stages"][0]["actions"]
    if definition["targetAction"] not in [a["name"] for a in sources]:
        raise validation(
            f"Action {definition['targetAction']} is not a source action of pipeline "
            f"{pipeline.name}"
        )


def _item(webhook: models.Webhook) -> dict[str, Any]:
    item: dict[str, Any] = {
        "definition": webhook.definition,
        "url": webhook.url,
        "arn": webhook.arn,
    }
    if webhook.tags:
        item["tags"] = tag_list(webhook.tags, CODEPIPELINE)
    if webhook.last_triggered is not None:
        item["lastTriggered"] = webhook.last_triggered
    return item


def put_webhook(state: State, request: Request) -> dict[str, Any]:
    definition = request["webhook"]
    filters = definition.get("filters") or []
    if len(filters) > _MAX_FILTERS:
        raise validation(f"A webhook has at most {_MAX_FILTERS} filters")
    for rule in filters:
        if not rule["jsonPath"].startswith("$"):
            raise ServiceError(
                "InvalidWebhookFilterPatternException",
                f"The JsonPath {rule['jsonPath']} is not valid: it starts with $",
            )
    _check_authentication(definition)
    _check_target(state, definition)
    tags = tags_dict(request.get("tags"))
    if len(tags) > MAX_TAGS:
        raise ServiceError("TooManyTagsException", "Tag limit exceeded")
    name = definition["name"]
    with states.changing():
        webhooks = state.store.webhooks
        known = webhooks.get(name)
        token = known.token if known else secrets.token_urlsafe(24)
        # The local cloud's own address, as the caller reached it: the URL works from there.
        url = f"{state.endpoint}{TRIGGER_PATH}?t={token}&v=1"
        arn = f"arn:{state.partition}:codepipeline:{state.region}:{state.account_id}:webhook:{name}"
        webhook = models.Webhook(
            dict(definition), url, arn, token, tags or (known.tags if known else {})
        )
        webhooks[name] = webhook
    return {"webhook": _item(webhook)}


def list_webhooks(state: State, request: Request) -> dict[str, Any]:
    with states.reading():
        items = [_item(w) for _, w in sorted(state.store.webhooks.items())]
    chosen, token = paging.page(items, request, token_key="NextToken", size_key="MaxResults")
    response: dict[str, Any] = {"webhooks": chosen}
    if token:
        response["NextToken"] = token
    return response


def delete_webhook(state: State, request: Request) -> dict[str, Any]:
    with states.changing():
        state.store.webhooks.pop(request["name"], None)  # AWS: deleting none is no error
    return {}


def _registered(state: State, request: Request, registered: bool) -> dict[str, Any]:
    name = request.get("webhookName") or ""
    with states.changing():
        webhook = state.store.webhooks.get(name)
        if webhook is None:
            raise ServiceError("WebhookNotFoundException", f"The webhook {name} was not found")
        webhook.registered = registered
    return {}


def register_webhook_with_third_party(state: State, request: Request) -> dict[str, Any]:
    return _registered(state, request, True)


def deregister_webhook_with_third_party(state: State, request: Request) -> dict[str, Any]:
    return _registered(state, request, False)
