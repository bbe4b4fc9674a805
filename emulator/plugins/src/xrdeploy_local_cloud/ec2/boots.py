"""A local instance boots when RunInstances launches its EC2 instance, as an EC2 instance does:
its user data runs at that first boot and ``local instances`` lists it with its page. The boots
run in the background (RunInstances answers at once, as on AWS, where instances boot after it);
a deployment that reaches an instance still booting waits for its user data, as the agent
starts after cloud-init. Windows instances and a host that cannot run local instances boot
nothing (a deployment to them fails with the reason)."""

from __future__ import annotations

import logging
import threading
from typing import Any

from localstack.utils.patch import Patch
from moto.core.responses import ActionResult
from moto.ec2.responses.instances import InstanceResponse

from xrdeploy_local_cloud.ec2.instance_specs import spec_of

LOG = logging.getLogger(__name__)


def _boot(instance: Any, spec: Any) -> None:
    from xrdeploy_local_cloud.instances.host import local_instances
    from xrdeploy_local_cloud.instances.spec import InstanceError

    if instance.state != "running":
        return  # terminated (or stopped) before its boot began
    try:
        local_instances().instance(spec)
    except InstanceError as error:
        LOG.warning("local instance %s did not boot: %s", spec.instance_id, error)
    except Exception:  # a failed boot must not end LocalStack; the next deployment retries
        LOG.exception("local instance %s did not boot", spec.instance_id)


def _run_instances_and_boot(run_instances: Any, self: Any) -> ActionResult:
    from xrdeploy_local_cloud.instances.host import local_instances

    result: ActionResult = run_instances(self)
    if local_instances().unsupported_reason() is not None:
        return result  # said once at LocalStack's start, and by every deployment
    reservation: Any = result.result
    for instance in reservation.instances:
        spec = spec_of(self.ec2_backend, instance)
        if spec.platform != "windows":
            name = f"boot-{instance.id}"
            threading.Thread(target=_boot, args=(instance, spec), name=name, daemon=True).start()
    return result


def install() -> None:
    """After :func:`.instance_profiles.install`: every instance has its profile at boot."""
    Patch.function(InstanceResponse.run_instances, _run_instances_and_boot).apply()
