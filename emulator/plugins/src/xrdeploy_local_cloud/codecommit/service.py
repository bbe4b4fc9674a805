"""The codecommit service of the local cloud: repositories (:mod:`.repositories`) and their Git
reads (:mod:`.git_reads`); pushes to them send EventBridge events (:mod:`.events`)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from xrdeploy_local_cloud.codecommit import git_reads, repositories
from xrdeploy_local_cloud.codecommit.model import RegionState

Handler = Callable[[RegionState, dict[str, Any]], dict[str, Any]]


def _answer(handler: Handler, context: Any, request: Any) -> dict[str, Any]:
    from xrdeploy_local_cloud.codecommit.store import region_state

    return handler(region_state(context.account_id, context.region), dict(request or {}))


def create_service() -> Any:
    from localstack import config
    from localstack.aws.skeleton import Skeleton
    from localstack.aws.spec import load_service
    from localstack.services.plugins import Service

    from xrdeploy_local_cloud.codecommit import events
    from xrdeploy_local_cloud.codecommit.store import region_state
    from xrdeploy_local_cloud.git import pushes
    from xrdeploy_local_cloud.kit.events import put

    listen_on = config.GATEWAY_LISTEN[0]
    host = "127.0.0.1" if listen_on.host in ("0.0.0.0", "") else listen_on.host
    repositories.gateway_url = f"http://{host}:{listen_on.port}"
    pushes.listen(events.listener(region_state, put))
    handlers: dict[str, Handler] = {**repositories.HANDLERS, **git_reads.HANDLERS}
    table = {name: partial(_answer, handler) for name, handler in handlers.items()}
    return Service("codecommit", skeleton=Skeleton(load_service("codecommit"), table))
