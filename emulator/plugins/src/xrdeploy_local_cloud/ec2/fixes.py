"""What LocalStack's EC2 (moto underneath) needs to run the generated fleet as AWS does; applied
once at LocalStack's start by the ``xrdeploy_ec2_fixes`` on_infra_start hook.

* :mod:`.instance_profiles`: RunInstances finds instance profiles in LocalStack's IAM;
* :mod:`.monitoring`: MonitorInstances / UnmonitorInstances (detailed monitoring);
* :mod:`.terminations`: TerminateInstances stops the instance's local sandbox;
* :mod:`.console_output`: GetConsoleOutput shows the local instance's user data output;
* :mod:`.boots`: RunInstances boots each instance's local instance (after the profiles).
"""

from __future__ import annotations

import logging

from xrdeploy_local_cloud.ec2 import (
    boots,
    console_output,
    instance_profiles,
    monitoring,
    terminations,
)

LOG = logging.getLogger(__name__)


def apply() -> None:
    instance_profiles.install()
    monitoring.install()
    terminations.install()
    console_output.install()
    boots.install()
    LOG.debug("xrdeploy EC2 fixes applied: instance profiles from IAM, instance monitoring")
