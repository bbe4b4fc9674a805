"""Deployment configurations and how minimum healthy hosts decide a deployment, as CodeDeploy does.

From the CodeDeploy API reference (MinimumHealthyHosts) and user guide (instance health):

* HOST_COUNT n: at least n instances stay healthy; up to (instances - n) are deployed at once.
* FLEET_PERCENT p: at least ceil(instances * p / 100) stay healthy (9 instances, 40 % → 4, up to
  5 at once).
* CodeDeployDefault.OneAtATime answers MOST_CONCURRENCY 1 (a type no one can create): one
  instance at a time, all but one kept healthy, so a failure on the *last* instance still lets
  the deployment succeed; a failure on any other fails it and skips the rest.
* In every case at least one instance must succeed; the deployment fails as soon as the
  minimum can no longer be met.
"""

from __future__ import annotations

import dataclasses
import datetime
import math
from typing import Any

ONE_AT_A_TIME = "MOST_CONCURRENCY"
_CREATED = datetime.datetime(2014, 11, 12, tzinfo=datetime.UTC)  # CodeDeploy's launch


@dataclasses.dataclass(frozen=True)
class DeploymentConfig:
    name: str
    config_id: str
    minimum_type: str
    minimum_value: int
    create_time: datetime.datetime = _CREATED
    compute_platform: str = "Server"

    def view(self) -> dict[str, Any]:
        return {
            "deploymentConfigId": self.config_id,
            "deploymentConfigName": self.name,
            "minimumHealthyHosts": {"type": self.minimum_type, "value": self.minimum_value},
            "createTime": self.create_time,
            "computePlatform": self.compute_platform,
        }


BUILT_IN = {
    config.name: config
    for config in (
        DeploymentConfig(
            "CodeDeployDefault.OneAtATime", "d1e0a7a5-1d3b-4c4b-8a4e-1a2b3c4d5e01", ONE_AT_A_TIME, 1
        ),
        DeploymentConfig(
            "CodeDeployDefault.HalfAtATime",
            "d1e0a7a5-1d3b-4c4b-8a4e-1a2b3c4d5e02",
            "FLEET_PERCENT",
            50,
        ),
        DeploymentConfig(
            "CodeDeployDefault.AllAtOnce", "d1e0a7a5-1d3b-4c4b-8a4e-1a2b3c4d5e03", "HOST_COUNT", 0
        ),
    )
}


@dataclasses.dataclass(frozen=True)
class HealthPlan:
    """How many instances go at once, and how many must end up healthy."""

    instances: int
    batch_size: int
    minimum_healthy: int
    last_may_fail: bool  # OneAtATime

    @property
    def satisfiable(self) -> bool:
        return self.instances > 0 and self.batch_size > 0

    def doomed(self, failed: int, done: int) -> bool:
        """Whether the minimum can no longer be met after `failed` of `done` instances failed."""
        if self.last_may_fail:
            return failed > 0 and (done < self.instances or failed > 1 or self.instances == 1)
        return self.instances - failed < max(self.minimum_healthy, 1)

    def succeeded(self, succeeded: int) -> bool:
        if self.last_may_fail:
            return succeeded >= max(self.instances - 1, 1)
        return succeeded >= max(self.minimum_healthy, 1)


def plan(config: DeploymentConfig, instances: int) -> HealthPlan:
    if config.minimum_type == ONE_AT_A_TIME:
        return HealthPlan(instances, 1, max(instances - 1, 1), last_may_fail=True)
    if config.minimum_type == "FLEET_PERCENT":
        minimum = math.ceil(instances * config.minimum_value / 100)
    else:
        minimum = config.minimum_value
    return HealthPlan(instances, instances - minimum, minimum, last_may_fail=False)
