"""TerminateInstances also stops the instance's local sandbox: a terminated EC2 instance runs
nothing, and its page must stop answering (on AWS the machine is gone)."""

from __future__ import annotations

import logging
from typing import Any

from localstack.utils.patch import Patch
from moto.ec2.models.instances import InstanceBackend

LOG = logging.getLogger(__name__)


def _terminate_and_stop_sandboxes(original: Any, self: Any, instance_ids: list[str]) -> Any:
    terminated = original(self, instance_ids)
    from xrdeploy_local_cloud.instances.host import local_instances

    for instance, _ in terminated:
        try:
            local_instances().stop_instance(instance.id)
        except Exception:  # a sandbox that fails to stop must not fail the EC2 call
            LOG.exception("could not stop the local instance of %s", instance.id)
    return terminated


def install() -> None:
    Patch.function(InstanceBackend.terminate_instances, _terminate_and_stop_sandboxes).apply()
