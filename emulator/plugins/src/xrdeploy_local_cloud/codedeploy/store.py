"""CodeDeploy's state in LocalStack's store: one :class:`~.model.RegionState` per account+region."""

from __future__ import annotations

from localstack.services.stores import AccountRegionBundle, BaseStore, LocalAttribute

from xrdeploy_local_cloud.codedeploy import model


class CodeDeployStore(BaseStore):
    # LocalStack's LocalAttribute is a descriptor typed as itself; reads give the default's type.
    state: model.RegionState = LocalAttribute(default=model.RegionState)  # type: ignore[assignment]


codedeploy_stores = AccountRegionBundle("codedeploy", CodeDeployStore)


def region_state(account_id: str, region: str) -> model.RegionState:
    state = codedeploy_stores[account_id][region].state
    if not state.account_id:
        state.account_id, state.region = account_id, region
    return state
