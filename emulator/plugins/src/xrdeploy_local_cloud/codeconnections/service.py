"""The ``codeconnections`` and ``codestar-connections`` services of the local cloud: one set of
handlers (:mod:`.api`) over one store, each API minting ARNs with its own prefix."""

from __future__ import annotations

from typing import TYPE_CHECKING

from localstack.aws.api import RequestContext

from xrdeploy_local_cloud.codeconnections import api
from xrdeploy_local_cloud.codeconnections.model import RegionState
from xrdeploy_local_cloud.kit import dispatch

if TYPE_CHECKING:
    from localstack.services.plugins import Service


def _state_of(context: RequestContext) -> RegionState:
    from xrdeploy_local_cloud.codeconnections.store import region_state

    return region_state(context.account_id, context.region)


def create_service(api_name: str) -> Service:
    """``api_name`` is ``codeconnections`` or ``codestar-connections``."""
    return dispatch.create_service(api_name, api.handlers(api_name), _state_of)
