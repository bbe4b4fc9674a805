"""Where the local CodePipeline keeps its state: per account and region, as LocalStack does."""

from __future__ import annotations

from localstack.services.stores import AccountRegionBundle, BaseStore, LocalAttribute

from xrdeploy_local_cloud.codepipeline import execution_states as states
from xrdeploy_local_cloud.codepipeline.models import (
    CustomActionType,
    Job,
    Pipeline,
    Webhook,
)


class CodePipelineStore(BaseStore):
    # LocalStack's LocalAttribute is a descriptor typed as itself; reads give the default's type.
    pipelines: dict[str, Pipeline] = LocalAttribute(default=dict)  # type: ignore[assignment]
    jobs: dict[str, Job] = LocalAttribute(default=dict)  # type: ignore[assignment]
    # (category, provider, version) → the custom action type, in ListActionTypes' shape
    custom_action_types: dict[tuple[str, str, str], CustomActionType] = LocalAttribute(default=dict)  # type: ignore[assignment]
    deleted_action_types: set[tuple[str, str, str]] = LocalAttribute(default=set)  # type: ignore[assignment]
    webhooks: dict[str, Webhook] = LocalAttribute(default=dict)  # type: ignore[assignment]


codepipeline_stores = AccountRegionBundle("codepipeline", CodePipelineStore)


def store(account_id: str, region: str) -> CodePipelineStore:
    return codepipeline_stores[account_id][region]


def custom_type(account_id: str, region: str, type_id: dict[str, str]) -> CustomActionType | None:
    """The account's custom action type of that id (its owner is ``Custom``), if it exists."""
    key = (type_id["category"], type_id["provider"], type_id["version"])
    with states.reading():
        return store(account_id, region).custom_action_types.get(key)
