"""The ``codeconnections`` and ``codestar-connections`` services of the local cloud: one set of
handlers (:mod:`.api`) over one store, each API minting ARNs with its own prefix."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from xrdeploy_local_cloud.codeconnections import api
from xrdeploy_local_cloud.codeconnections.model import RegionState

Handler = Callable[[RegionState, dict[str, Any]], dict[str, Any]]


def _answer(handler: Handler, context: Any, request: Any) -> dict[str, Any]:
    from xrdeploy_local_cloud.codeconnections.store import region_state

    return handler(region_state(context.account_id, context.region), dict(request or {}))


def create_service(api_name: str) -> Any:
    """``api_name`` is ``codeconnections`` or ``codestar-connections``."""
    from localstack.aws.skeleton import Skeleton
    from localstack.aws.spec import load_service
    from localstack.services.plugins import Service

    table = {name: partial(_answer, handler) for name, handler in api.handlers(api_name).items()}
    return Service(api_name, skeleton=Skeleton(load_service(api_name), table))
