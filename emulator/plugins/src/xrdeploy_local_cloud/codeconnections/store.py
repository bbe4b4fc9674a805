"""The connections of every account and region, one store for both APIs."""

from __future__ import annotations

from xrdeploy_local_cloud.codeconnections import model
from xrdeploy_local_cloud.kit.region_states import RegionStates

# Named by the API botocore lists regions for (it lists none for "codeconnections" yet).
region_state = RegionStates("codestar-connections", model.RegionState)


def connection_of(arn: str) -> model.Connection | None:
    """The connection an ARN names, looked up in the ARN's own account and region."""
    parsed = model.parse_arn(arn)
    if parsed is None:
        return None
    region, account_id, _ = parsed
    state = region_state(account_id, region)
    with state.lock:
        return state.find(arn)
