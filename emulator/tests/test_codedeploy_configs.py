"""Minimum healthy hosts decide a deployment as CodeDeploy's documentation says."""

from __future__ import annotations

import pytest

from xrdeploy_local_cloud.codedeploy import configs

ALL_AT_ONCE = configs.BUILT_IN["CodeDeployDefault.AllAtOnce"]
HALF_AT_A_TIME = configs.BUILT_IN["CodeDeployDefault.HalfAtATime"]
ONE_AT_A_TIME = configs.BUILT_IN["CodeDeployDefault.OneAtATime"]


def _custom(kind: str, value: int) -> configs.DeploymentConfig:
    return configs.DeploymentConfig("custom", "id", kind, value)


def test_all_at_once_deploys_everything_and_succeeds_with_one_healthy_instance() -> None:
    plan = configs.plan(ALL_AT_ONCE, 3)
    assert plan.batch_size == 3
    assert not plan.doomed(failed=2, done=3)
    assert plan.succeeded(1)
    assert plan.doomed(failed=3, done=3)
    assert not plan.succeeded(0)


def test_half_at_a_time_rounds_the_healthy_half_up() -> None:
    plan = configs.plan(HALF_AT_A_TIME, 9)
    assert (plan.batch_size, plan.minimum_healthy) == (4, 5)
    assert not plan.doomed(failed=4, done=9)
    assert plan.doomed(failed=5, done=9)


def test_one_at_a_time_fails_on_any_instance_but_the_last() -> None:
    plan = configs.plan(ONE_AT_A_TIME, 2)
    assert plan.batch_size == 1
    assert plan.doomed(failed=1, done=1)  # the first of two failed: the second is skipped
    assert not plan.doomed(failed=1, done=2)  # the last failed: all but one stayed healthy
    assert plan.succeeded(1)


def test_one_at_a_time_with_a_single_instance_needs_it_to_succeed() -> None:
    plan = configs.plan(ONE_AT_A_TIME, 1)
    assert plan.doomed(failed=1, done=1)
    assert not plan.succeeded(0)


@pytest.mark.parametrize(
    ("kind", "value", "instances", "batch", "minimum"),
    [
        ("HOST_COUNT", 6, 9, 3, 6),  # the API reference's examples
        ("FLEET_PERCENT", 40, 9, 5, 4),
        ("HOST_COUNT", 2, 2, 0, 2),  # nothing may go offline: cannot be satisfied
    ],
)
def test_custom_minimum_healthy_hosts(
    kind: str, value: int, instances: int, batch: int, minimum: int
) -> None:
    plan = configs.plan(_custom(kind, value), instances)
    assert (plan.batch_size, plan.minimum_healthy) == (batch, minimum)
    assert plan.satisfiable == (batch > 0)


def test_built_in_configs_answer_as_get_deployment_config_does() -> None:
    assert ONE_AT_A_TIME.view()["minimumHealthyHosts"] == {"type": "MOST_CONCURRENCY", "value": 1}
    assert HALF_AT_A_TIME.view()["minimumHealthyHosts"] == {"type": "FLEET_PERCENT", "value": 50}
    assert ALL_AT_ONCE.view()["minimumHealthyHosts"] == {"type": "HOST_COUNT", "value": 0}
