"""LocalStack Extension ``xrdeploy-instances``: lists every running EC2 instance on
``GET /_xrdeploy/instances``, with the page of its local instance when one runs, and stops the
local instances when LocalStack shuts down.

A local instance boots when RunInstances launches its EC2 instance (:mod:`..ec2.boots`); a running
EC2 instance without one (still starting, or on a host that cannot run local instances) is
listed without a page (``page_url`` null, ``listening`` false, ``state`` ``not-booted``). Each
booted instance lists what its set-up could not do (``warnings``, e.g. an empty ``/etc``)."""

from __future__ import annotations

import http.client
import urllib.parse
from typing import Any

from localstack.extensions.api import Extension
from localstack.http import Request, Router, route

from xrdeploy_local_cloud.instances.host import local_instances
from xrdeploy_local_cloud.instances.instance import LocalInstance

EXTENSION_NAME = "xrdeploy-instances"
INSTANCES_PATH = "/_xrdeploy/instances"
PROBE_TIMEOUT_SECONDS = 2.0


def _running_ec2_instances() -> list[tuple[str, str, str]]:
    """(instance id, account, region) of every running instance in LocalStack's EC2."""
    from moto.ec2.models import ec2_backends

    found: list[tuple[str, str, str]] = []
    for account_id, regions in list(ec2_backends.items()):
        for region, backend in list(regions.items()):
            for reservation in list(backend.reservations.values()):
                found.extend(
                    (instance.id, account_id, region)
                    for instance in reservation.instances
                    if instance.state == "running"
                )
    return found


def _listening(page_url: str) -> bool:
    """Whether something answers on port 80 of the instance (its page relay answers 502 when
    nothing does)."""
    address = urllib.parse.urlsplit(page_url)
    connection = http.client.HTTPConnection(
        address.hostname or "127.0.0.1", address.port, timeout=PROBE_TIMEOUT_SECONDS
    )
    try:
        connection.request("HEAD", "/")
        return connection.getresponse().status != http.client.BAD_GATEWAY
    except OSError:
        return False
    finally:
        connection.close()


def _entry(instance: LocalInstance) -> dict[str, Any]:
    running = instance.state == "running"
    return {
        "instance_id": instance.spec.instance_id,
        "account_id": instance.spec.account_id,
        "region": instance.spec.region,
        "page_url": instance.page_url,
        "state": instance.state,
        "listening": running and _listening(instance.page_url),
        "warnings": list(instance.warnings),
    }


class InstancesApi:
    @route(INSTANCES_PATH, methods=["GET"])
    def list_instances(self, request: Request) -> dict[str, Any]:
        booted = [_entry(instance) for instance in local_instances().instances()]
        known = {entry["instance_id"] for entry in booted}
        not_booted: list[dict[str, Any]] = [
            {
                "instance_id": instance_id,
                "account_id": account_id,
                "region": region,
                "page_url": None,
                "state": "not-booted",
                "listening": False,
                "warnings": [],
            }
            for instance_id, account_id, region in _running_ec2_instances()
            if instance_id not in known
        ]
        return {
            "unsupported_reason": local_instances().unsupported_reason(),
            "instances": booted + not_booted,
        }


class InstancesExtension(Extension):
    """Registered in entry-point group ``localstack.extensions`` as ``xrdeploy-instances``."""

    name = EXTENSION_NAME

    def update_gateway_routes(self, router: Router[Any]) -> None:
        router.add(InstancesApi())

    def on_platform_shutdown(self) -> None:
        local_instances().stop_all()
