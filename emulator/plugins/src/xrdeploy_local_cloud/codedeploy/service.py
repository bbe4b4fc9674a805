"""The codedeploy service of the local cloud: our handlers for the operations we answer.

Every operation of botocore's CodeDeploy model has a handler: :mod:`.control`,
:mod:`.deployments`, :mod:`.onpremises`, :mod:`.waits` (blue/green and Lambda/ECS calls) and
:mod:`.connections` (GitHub tokens, external ids).
"""

from __future__ import annotations

from typing import Any

from localstack.aws.api import RequestContext

from xrdeploy_local_cloud.codedeploy import connections, control, deployments, onpremises, waits
from xrdeploy_local_cloud.codedeploy.cloud import LocalStackCloud
from xrdeploy_local_cloud.codedeploy.model import RegionState
from xrdeploy_local_cloud.kit import dispatch


def _state_of(context: RequestContext) -> RegionState:
    from xrdeploy_local_cloud.codedeploy.store import region_state

    return region_state(context.account_id, context.region)


def create_service() -> Any:
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
    return dispatch.create_service("codedeploy", handlers, _state_of)
