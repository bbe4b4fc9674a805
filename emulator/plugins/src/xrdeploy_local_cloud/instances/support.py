"""Whether this host can back local instances, said once when LocalStack starts."""

from __future__ import annotations

import logging

LOG = logging.getLogger(__name__)


def report() -> None:
    from xrdeploy_local_cloud.instances.host import local_instances

    reason = local_instances().unsupported_reason()
    if reason is not None:
        LOG.warning(
            "Local EC2 instances cannot run on this host: %s; "
            "CodeDeploy deployments to EC2 instances will fail with this reason",
            reason,
        )
