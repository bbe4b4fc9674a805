"""What the IAM guard checks for CodeCommit and connection requests (``iam.git_checks``)."""

from __future__ import annotations

from typing import Any

from localstack.aws.api import RequestContext
from localstack.aws.spec import load_service

from xrdeploy_local_cloud.iam.git_checks import codecommit_checks, connection_checks

ACCOUNT, REGION = "111111111111", "eu-west-1"


def _context(service: str, operation: str, request: dict[str, Any]) -> RequestContext:
    context = RequestContext(None)  # type: ignore[arg-type]  # no HTTP request behind it
    context.service = load_service(service)
    context.operation = context.service.operation_model(operation)
    context.service_request = request  # type: ignore[assignment]
    context.account_id, context.region = ACCOUNT, REGION
    return context


def _checked(checks: list[Any]) -> list[tuple[str, str, str]]:
    return [(c.action, c.resource, c.resource_account) for c in checks]


def test_codecommit_authorizes_on_the_repository() -> None:
    context = _context("codecommit", "GetCommit", {"repositoryName": "app", "commitId": "x"})
    assert _checked(codecommit_checks(context)) == [
        ("codecommit:GetCommit", f"arn:aws:codecommit:{REGION}:{ACCOUNT}:app", ACCOUNT)
    ]
    other = f"arn:aws:codecommit:{REGION}:222222222222:app"
    tagging = _context("codecommit", "TagResource", {"resourceArn": other, "tags": {}})
    assert _checked(codecommit_checks(tagging)) == [
        ("codecommit:TagResource", other, "222222222222")
    ]
    listing = _context("codecommit", "ListRepositories", {})
    assert _checked(codecommit_checks(listing)) == [("codecommit:ListRepositories", "*", ACCOUNT)]


def test_connections_authorize_on_the_connection_with_the_apis_prefix() -> None:
    arn = f"arn:aws:codestar-connections:{REGION}:{ACCOUNT}:connection/abc"
    context = _context("codestar-connections", "GetConnection", {"ConnectionArn": arn})
    assert _checked(connection_checks(context)) == [
        ("codestar-connections:GetConnection", arn, ACCOUNT)
    ]
    create = _context("codeconnections", "CreateConnection", {"ConnectionName": "x"})
    assert _checked(connection_checks(create)) == [
        ("codeconnections:CreateConnection", "*", ACCOUNT)
    ]
