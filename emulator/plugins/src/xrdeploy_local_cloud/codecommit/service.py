"""The codecommit service of the local cloud: repositories (:mod:`.repositories`) and their Git
reads (:mod:`.git_reads`); pushes to them send EventBridge events (:mod:`.events`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from localstack.aws.api import RequestContext

from xrdeploy_local_cloud.codecommit import git_reads, repositories
from xrdeploy_local_cloud.codecommit.model import RegionState
from xrdeploy_local_cloud.kit import dispatch

if TYPE_CHECKING:
    from localstack.services.plugins import Service

Handler = dispatch.Handler[RegionState]


def _state_of(context: RequestContext) -> RegionState:
    from xrdeploy_local_cloud.codecommit.store import region_state

    return region_state(context.account_id, context.region)


def create_service() -> Service:
    from localstack import config

    from xrdeploy_local_cloud.codecommit import events
    from xrdeploy_local_cloud.codecommit.store import region_state
    from xrdeploy_local_cloud.git import pushes
    from xrdeploy_local_cloud.kit.events import put

    listen_on = config.GATEWAY_LISTEN[0]
    host = "127.0.0.1" if listen_on.host in ("0.0.0.0", "") else listen_on.host
    repositories.gateway_url = f"http://{host}:{listen_on.port}"
    pushes.listen(events.listener(region_state, put))
    handlers: dict[str, Handler] = {**repositories.HANDLERS, **git_reads.HANDLERS}
    return dispatch.create_service("codecommit", handlers, _state_of)
