"""CodeCommit's repositories of every account and region."""

from __future__ import annotations

from localstack.services.stores import AccountRegionBundle, BaseStore, LocalAttribute

from xrdeploy_local_cloud.codecommit import model


class CodeCommitStore(BaseStore):
    # LocalStack's LocalAttribute is a descriptor typed as itself; reads give the default's type.
    state: model.RegionState = LocalAttribute(default=model.RegionState)  # type: ignore[assignment]


codecommit_stores = AccountRegionBundle("codecommit", CodeCommitStore)


def region_state(account_id: str, region: str) -> model.RegionState:
    state = codecommit_stores[account_id][region].state
    if not state.account_id:
        state.account_id, state.region = account_id, region
    return state
