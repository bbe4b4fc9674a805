"""The codedeploy service of the local cloud: our handlers for the operations we answer.

Every operation of botocore's CodeDeploy model has a handler: :mod:`.control`,
:mod:`.deployments`, :mod:`.onpremises`, :mod:`.waits` (blue/green and Lambda/ECS calls) and
:mod:`.connections` (GitHub tokens, external ids).
"""

from __future__ import annotations

from functools import partial
from typing import Any

from xrdeploy_local_cloud.codedeploy import connections, control, deployments, onpremises, waits
from xrdeploy_local_cloud.codedeploy.cloud import LocalStackCloud
from xrdeploy_local_cloud.codedeploy.model import RegionState


def _answer(handler: control.Handler, context: Any, request: Any) -> dict[str, Any]:
    from xrdeploy_local_cloud.codedeploy.store import region_state

    # A ServiceError a handler raises reaches LocalStack's serializer as it is.
    return handler(region_state(context.account_id, context.region), dict(request or {}))


def create_service() -> Any:
    from localstack.aws.skeleton import Skeleton
    from localstack.aws.spec import load_service
    from localstack.services.plugins import Service

    from xrdeploy_local_cloud.codedeploy import events
    from xrdeploy_local_cloud.kit.events import put

    events.sink = put
    cloud = LocalStackCloud()

    def create(state: RegionState, request: dict[str, Any]) -> dict[str, Any]:
        return deployments.create_deployment(state, request, cloud)

    handlers: dict[str, control.Handler] = {
        **control.HANDLERS,
        **deployments.HANDLERS,
        **onpremises.HANDLERS,
        **waits.HANDLERS,
        **connections.HANDLERS,
        "CreateDeployment": create,
    }
    table = {name: partial(_answer, handler) for name, handler in handlers.items()}
    return Service("codedeploy", skeleton=Skeleton(load_service("codedeploy"), table))
