"""CodeCommit's repositories of every account and region."""

from __future__ import annotations

from xrdeploy_local_cloud.codecommit import model
from xrdeploy_local_cloud.kit.region_states import RegionStates

region_state = RegionStates("codecommit", model.RegionState)
