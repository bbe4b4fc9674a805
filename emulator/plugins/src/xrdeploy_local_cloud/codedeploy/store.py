"""CodeDeploy's state in LocalStack's store: one :class:`~.model.RegionState` per account+region."""

from __future__ import annotations

from xrdeploy_local_cloud.codedeploy import model
from xrdeploy_local_cloud.kit.region_states import RegionStates

region_state = RegionStates("codedeploy", model.RegionState)
