"""Trust policies may name only IAM roles and users that exist, as in AWS.

IAM stores each role or user ARN of a trust policy's ``AWS`` principal as that principal's unique
id, so ``CreateRole`` and ``UpdateAssumeRolePolicy`` refuse a policy naming one that does not exist
with ``MalformedPolicyDocument`` (HTTP 400) ``Invalid principal in policy: "AWS":"<arn>"``.
LocalStack's community IAM stores any ARN, so without this check a stack whose trust policy names
another stack's role would apply in the local cloud before that role exists, and fail on AWS.

:func:`check_trust_policy` runs before LocalStack's IAM provider. Accepted without a lookup, as
AWS accepts them: ``"*"``, account ids and roots, ``Service`` and ``Federated`` principals, STS
session ARNs, and every value of a ``Condition`` (``aws:PrincipalArn`` is compared per request,
so it may name a role yet to be created). A role or user ARN must match an existing one exactly,
path included.

Not checked: S3 bucket policies and KMS key policies, where AWS refuses a missing principal too
(``MalformedPolicy``, ``MalformedPolicyDocumentException``). xrdeploy's bucket and key policies
name only ``*``, account roots and service principals, so none of its stacks would meet them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

if TYPE_CHECKING:  # the pure parts run in unit tests, without LocalStack
    from localstack.aws.api import RequestContext

# The request parameter holding the trust policy, per IAM operation.
TRUST_POLICY_PARAMETER = {
    "CreateRole": "AssumeRolePolicyDocument",
    "UpdateAssumeRolePolicy": "PolicyDocument",
}
_IDENTITY_ARN = re.compile(
    r"arn:[^:]+:iam::(?P<account>\d{12}):(?P<kind>role|user)/(?:[^:]*/)?(?P<name>[^/:]+)"
)


def check_trust_policy(context: RequestContext) -> None:
    """Raise ``MalformedPolicyDocument`` if the request's trust policy names a missing role or
    user; a policy that is not JSON is left to LocalStack's own validation."""
    assert context.operation is not None
    parameter = TRUST_POLICY_PARAMETER.get(context.operation.name)
    document = (context.service_request or {}).get(parameter or "")
    if not isinstance(document, str):
        return
    missing = missing_principal(document, identity_exists)
    if missing is not None:
        from localstack.aws.api import CommonServiceException

        raise CommonServiceException(
            "MalformedPolicyDocument",
            f'Invalid principal in policy: "AWS":"{missing}"',
            status_code=400,
            sender_fault=True,
        )


def missing_principal(document: str, exists: Callable[[str], bool]) -> str | None:
    """The first role or user ARN among the policy's ``AWS`` principals for which ``exists`` is
    false; None when there is none or the policy is not JSON."""
    # As given, or URL-encoded (how LocalStack keeps a CreateRole document).
    text = document if document.lstrip().startswith("{") else unquote(document)
    try:
        policy = json.loads(text)
    except ValueError:
        return None
    for arn in _aws_principals(policy):
        if _IDENTITY_ARN.fullmatch(arn) and not exists(arn):
            return arn
    return None


def _aws_principals(policy: Any) -> Iterator[str]:
    statements = policy.get("Statement", []) if isinstance(policy, dict) else []
    for statement in [statements] if isinstance(statements, dict) else statements:
        principal = statement.get("Principal") if isinstance(statement, dict) else None
        values = principal.get("AWS") if isinstance(principal, dict) else None
        listed = [values] if isinstance(values, str) else values if isinstance(values, list) else []
        yield from (value for value in listed if isinstance(value, str))


def identity_exists(arn: str) -> bool:
    """Whether LocalStack's IAM holds a role or user with exactly this ARN."""
    from localstack.constants import AWS_REGION_US_EAST_1
    from localstack.services.iam.models import iam_stores

    match = _IDENTITY_ARN.fullmatch(arn)
    if match is None:
        return False
    store = iam_stores[match["account"]][AWS_REGION_US_EAST_1]  # IAM is global: one region
    if match["kind"] == "role":
        role = store.ROLES.get(match["name"])
        return role is not None and role.role.get("Arn") == arn
    user = store.USERS.get(match["name"])
    return user is not None and user.user.get("Arn") == arn
