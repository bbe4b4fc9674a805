"""The connections of every account and region, one store for both APIs."""

from __future__ import annotations

from localstack.services.stores import AccountRegionBundle, BaseStore, LocalAttribute

from xrdeploy_local_cloud.codeconnections import model


class ConnectionsStore(BaseStore):
    # LocalStack's LocalAttribute is a descriptor typed as itself; reads give the default's type.
    state: model.RegionState = LocalAttribute(default=model.RegionState)  # type: ignore[assignment]


# Named by the API botocore lists regions for (it lists none for "codeconnections" yet).
connections_stores = AccountRegionBundle("codestar-connections", ConnectionsStore)


def region_state(account_id: str, region: str) -> model.RegionState:
    state = connections_stores[account_id][region].state
    if not state.account_id:
        state.account_id, state.region = account_id, region
    return state


def connection_of(arn: str) -> model.Connection | None:
    """The connection an ARN names, looked up in the ARN's own account and region."""
    parsed = model.parse_arn(arn)
    if parsed is None:
        return None
    region, account_id, _ = parsed
    state = region_state(account_id, region)
    with state.lock:
        return state.find(arn)
