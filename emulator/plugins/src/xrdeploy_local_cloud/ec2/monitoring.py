"""MonitorInstances and UnmonitorInstances, which moto leaves unimplemented (HTTP 501).

The AWS provider calls MonitorInstances after RunInstances for ``monitoring = true`` (and
UnmonitorInstances when it is turned off), then reads the state back from DescribeInstances.
As on AWS, the answer carries the transitional state (``pending``, ``disabling``); the
instance's own state changes at once (on AWS within about a minute), so the next
DescribeInstances already shows ``enabled`` or ``disabled``.
"""

from __future__ import annotations

from typing import Any

from localstack.utils.patch import Patch
from moto.core.responses import ActionResult
from moto.ec2.responses.monitoring import Monitoring


def _set_monitoring(response: Any, answered: str, final: str) -> ActionResult:
    instance_ids = response._get_param("InstanceIds", [])
    response.error_on_dryrun()
    # Raises InvalidInstanceID.NotFound for an unknown id, as AWS does.
    instances = response.ec2_backend.get_multi_instances_by_id(instance_ids)
    for instance in instances:
        instance.monitoring_state = final
    return ActionResult(
        {
            "InstanceMonitorings": [
                {"InstanceId": instance.id, "Monitoring": {"State": answered}}
                for instance in instances
            ]
        }
    )


def monitor_instances(self: Any) -> ActionResult:
    return _set_monitoring(self, answered="pending", final="enabled")


def unmonitor_instances(self: Any) -> ActionResult:
    return _set_monitoring(self, answered="disabling", final="disabled")


def install() -> None:
    Patch(Monitoring, "monitor_instances", monitor_instances).apply()
    Patch(Monitoring, "unmonitor_instances", unmonitor_instances).apply()
