"""Where the local CodePipeline keeps its state: per account and region, as LocalStack does."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from localstack.aws.api import RequestContext
from localstack.services.stores import AccountRegionBundle, BaseStore, LocalAttribute

from xrdeploy_local_cloud.codepipeline import execution_states as states
from xrdeploy_local_cloud.codepipeline.models import (
    CustomActionType,
    Job,
    Pipeline,
    Webhook,
)
from xrdeploy_local_cloud.guards import trust


class CodePipelineStore(BaseStore):
    # LocalStack's LocalAttribute is a descriptor typed as itself; reads give the default's type.
    pipelines: dict[str, Pipeline] = LocalAttribute(default=dict)  # type: ignore[assignment]
    jobs: dict[str, Job] = LocalAttribute(default=dict)  # type: ignore[assignment]
    # (category, provider, version) → the custom action type, in ListActionTypes' shape
    custom_action_types: dict[tuple[str, str, str], CustomActionType] = LocalAttribute(default=dict)  # type: ignore[assignment]
    deleted_action_types: set[tuple[str, str, str]] = LocalAttribute(default=set)  # type: ignore[assignment]
    webhooks: dict[str, Webhook] = LocalAttribute(default=dict)  # type: ignore[assignment]


EVENTS_PRINCIPALS = ("events", "events.amazonaws.com")
codepipeline_stores = AccountRegionBundle("codepipeline", CodePipelineStore)


def store(account_id: str, region: str) -> CodePipelineStore:
    return codepipeline_stores[account_id][region]


def custom_type(account_id: str, region: str, type_id: dict[str, str]) -> CustomActionType | None:
    """The account's custom action type of that id (its owner is ``Custom``), if it exists."""
    key = (type_id["category"], type_id["provider"], type_id["version"])
    with states.reading():
        return store(account_id, region).custom_action_types.get(key)


@dataclasses.dataclass(frozen=True)
class State:
    """What every CodePipeline handler is given: the store of the caller's account and region,
    and what the request says about its caller (the store is shared, the caller is not)."""

    account_id: str
    region: str
    store: CodePipelineStore
    partition: str = "aws"
    caller_arn: str | None = None  # None: a call LocalStack makes for no service
    event_rule_arn: str | None = None  # the EventBridge rule whose target sent the request
    endpoint: str = ""  # the local cloud's address as the caller reached it


def state_for(account_id: str, region: str) -> State:
    """The state of an account and region, for work no API request is behind (a webhook)."""
    return State(account_id, region, store(account_id, region))


def state_of(context: RequestContext) -> State:
    params: Mapping[str, Any] = context.internal_request_params or {}
    # An EventBridge target tells the call which rule sent it (see :mod:`.triggers`).
    rule_arn = params.get("source_arn")
    from_rule = params.get("service_principal") in EVENTS_PRINCIPALS and rule_arn
    caller = trust.caller_of(context)
    return State(
        account_id=context.account_id,
        region=context.region,
        store=store(context.account_id, context.region),
        partition=context.partition,
        caller_arn=caller.arn if caller else None,
        event_rule_arn=str(rule_arn) if from_rule else None,
        endpoint=context.request.host_url.rstrip("/"),
    )
