"""The kit's service-role check: the role must exist and its trust policy admit the service."""

from __future__ import annotations

from typing import Any

import pytest

from xrdeploy_local_cloud.guards import trust
from xrdeploy_local_cloud.kit.roles import service_may_assume

ROLE = "arn:aws:iam::111111111111:role/pipeline"
TRUSTS_CODEPIPELINE = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "codepipeline.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}


@pytest.fixture
def roles(monkeypatch: pytest.MonkeyPatch) -> dict[str, dict[str, Any]]:
    # LocalStack's IAM store stands behind trust.trust_policy; a dict of roles stands in here.
    known: dict[str, dict[str, Any]] = {}
    monkeypatch.setattr(trust, "trust_policy", known.get)
    return known


def test_a_role_that_trusts_the_service_may_be_assumed_by_it_only(
    roles: dict[str, dict[str, Any]],
) -> None:
    roles[ROLE] = TRUSTS_CODEPIPELINE
    assert service_may_assume(ROLE, "codepipeline.amazonaws.com")
    assert not service_may_assume(ROLE, "codedeploy.amazonaws.com")


def test_a_missing_role_may_not_be_assumed(roles: dict[str, dict[str, Any]]) -> None:
    assert not service_may_assume(ROLE, "codepipeline.amazonaws.com")
