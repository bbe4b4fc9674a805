"""LocalStack Extension ``xrdeploy-instances``: lists the local instances on
``GET /_xrdeploy/instances`` and stops them when LocalStack shuts down."""

from __future__ import annotations

from typing import Any

from localstack.extensions.api import Extension
from localstack.http import Request, Router, route

from xrdeploy_local_cloud.instances.host import local_instances

EXTENSION_NAME = "xrdeploy-instances"
INSTANCES_PATH = "/_xrdeploy/instances"


class InstancesApi:
    @route(INSTANCES_PATH, methods=["GET"])
    def list_instances(self, request: Request) -> dict[str, Any]:
        return {
            "unsupported_reason": local_instances().unsupported_reason(),
            "instances": [
                {
                    "instance_id": instance.spec.instance_id,
                    "account_id": instance.spec.account_id,
                    "region": instance.spec.region,
                    "page_url": instance.page_url,
                    "state": instance.state,
                }
                for instance in local_instances().instances()
            ],
        }


class InstancesExtension(Extension):
    """Registered in entry-point group ``localstack.extensions`` as ``xrdeploy-instances``."""

    name = EXTENSION_NAME

    def update_gateway_routes(self, router: Router[Any]) -> None:
        router.add(InstancesApi())

    def on_platform_shutdown(self) -> None:
        local_instances().stop_all()
