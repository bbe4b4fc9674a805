"""GetConsoleOutput answers with what the instance printed at boot: its user data's output, run by
the local instance (moto answered a fixed Xen kernel log for every instance). As on AWS,
``Output`` is base64 and is left out while there is no output yet (here: until the local
instance has run its user data, just after RunInstances)."""

from __future__ import annotations

from typing import Any

from localstack.utils.patch import Patch
from moto.core.responses import ActionResult
from moto.core.types import Base64EncodedString
from moto.core.utils import utcnow
from moto.ec2.responses.general import General


def get_console_output(self: Any) -> ActionResult:
    from xrdeploy_local_cloud.instances.host import local_instances

    # Raises InvalidInstanceID.NotFound for an unknown id, as AWS does.
    instance = self.ec2_backend.get_instance(self._get_param("InstanceId"))
    result: dict[str, Any] = {"InstanceId": instance.id, "Timestamp": utcnow()}
    output = local_instances().console_output(instance.id)
    if output:
        result["Output"] = Base64EncodedString.from_raw_string(output)
    return ActionResult(result)


def install() -> None:
    Patch(General, "get_console_output", get_console_output).apply()
