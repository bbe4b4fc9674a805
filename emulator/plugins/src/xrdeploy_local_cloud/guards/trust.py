"""``sts:AssumeRole`` only for callers the role's trust policy names, as in AWS.

LocalStack's community STS issues credentials for any role ARN, existing or not, to any caller.
:func:`check_assume_role` runs before LocalStack's STS provider and raises the ``AccessDenied``
AWS returns when the role does not exist or its trust policy does not allow the caller.

Who the caller is:

* an access key LocalStack's STS issued (``AssumeRole``, ``GetSessionToken``, ...) → the ARN it
  recorded for that session, e.g. ``arn:aws:sts::<acct>:assumed-role/<role>/<session>``
  (Lambda functions run with such a session of their execution role);
* an access key of an IAM user created in LocalStack → that user's ARN;
* any other access key → the root of the account LocalStack derives from it (a 12-digit access
  key id is that account), ``arn:aws:iam::<acct>:root``;
* a request LocalStack makes for a service (e.g. Lambda getting its function's credentials) →
  that service principal, ``lambda.amazonaws.com``; other requests LocalStack makes to itself
  are not checked.

How a trust policy is read: an ``Allow`` statement whose ``Action`` matches ``sts:AssumeRole``
(IAM wildcards allowed) and whose ``Principal`` matches the caller allows; a matching ``Deny``
statement denies. ``Principal: "*"`` and ``{"AWS": "*"}`` match any caller; an account id or
``arn:aws:iam::<acct>:root`` matches every identity of that account; a role ARN matches sessions
of that role; other ARNs (users, sessions) match exactly; ``Service`` principals match only
LocalStack's calls for that service. Not evaluated: ``Condition`` (ignored, so a statement with
conditions applies unconditionally), ``NotPrincipal`` and ``NotAction`` (such statements are
skipped), the caller's own identity policies, and SCPs.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import json
import re
from typing import Any
from urllib.parse import unquote

from localstack.aws.api import CommonServiceException, RequestContext
from localstack.constants import AWS_REGION_US_EAST_1
from localstack.services.iam.models import iam_stores
from localstack.services.sts.models import sts_stores
from localstack.utils.aws.request_context import extract_access_key_id_from_auth_header

ACTION = "sts:AssumeRole"
_ROLE_ARN = re.compile(r"arn:[^:]+:iam::(?P<account>\d{12}):role/(?:[^:]*/)?(?P<name>[^/:]+)")
_ACCOUNT_ID = re.compile(r"\d{12}")


@dataclasses.dataclass(frozen=True)
class Caller:
    """The principal a request is made as."""

    arn: str  # the service principal's name for a service
    account_id: str | None = None  # None for a service principal
    role_name: str | None = None  # for a session of a role
    service: str | None = None  # e.g. lambda.amazonaws.com


def check_assume_role(context: RequestContext) -> None:
    """Raise ``AccessDenied`` unless the caller may assume the requested role."""
    request = context.service_request or {}
    role_arn = request.get("RoleArn")
    caller = caller_of(context)
    if caller is None or not isinstance(role_arn, str):
        return
    policy = trust_policy(role_arn)
    if policy is None or not trust_allows(policy, caller):
        raise CommonServiceException(
            "AccessDenied",
            f"User: {caller.arn} is not authorized to perform: {ACTION} on resource: {role_arn}",
            status_code=403,
            sender_fault=True,
        )


def caller_of(context: RequestContext) -> Caller | None:
    """The caller of a request; None for LocalStack's own calls made for no service."""
    if context.internal_request_params is not None:
        principal = context.internal_request_params.get("service_principal")
        if not principal:
            return None
        # LocalStack passes the short form ("lambda") of <service>.amazonaws.com.
        service = principal if "." in principal else f"{principal}.amazonaws.com"
        return Caller(arn=service, service=service)
    account = context.account_id
    # LocalStack annotates a dict but reads only .get, and passes request headers itself.
    access_key = extract_access_key_id_from_auth_header(context.request.headers)  # type: ignore[arg-type]
    if access_key:
        # Both indexes are shared by all regions (and the STS one by all accounts).
        session = sts_stores[account][AWS_REGION_US_EAST_1].credentials.get(access_key)
        if session is not None and not session.is_expired():
            return _caller_from_arn(session.arn)
        iam = iam_stores[account][AWS_REGION_US_EAST_1]
        user = iam.USERS.get(iam.ACCESS_KEY_INDEX.get(access_key, ""))
        if user is not None:
            return Caller(arn=user.user["Arn"], account_id=account)
    return Caller(arn=f"arn:{context.partition}:iam::{account}:root", account_id=account)


def _caller_from_arn(arn: str) -> Caller:
    parts = arn.split(":", 5)
    account = parts[4] if len(parts) == 6 else None
    resource = parts[5] if len(parts) == 6 else ""
    role_name = resource.split("/")[1] if resource.startswith("assumed-role/") else None
    return Caller(arn=arn, account_id=account, role_name=role_name)


def trust_policy(role_arn: str) -> dict[str, Any] | None:
    """The trust policy of the role with exactly this ARN, None if there is no such role."""
    match = _ROLE_ARN.fullmatch(role_arn)
    if match is None:
        return None
    entity = iam_stores[match["account"]][AWS_REGION_US_EAST_1].ROLES.get(match["name"])
    if entity is None or entity.role.get("Arn") != role_arn:  # another path is another role
        return None
    document = entity.role.get("AssumeRolePolicyDocument") or ""
    # LocalStack stores the document URL-encoded from CreateRole, as given from
    # UpdateAssumeRolePolicy; JSON always starts with "{", its encoding with "%7B".
    text = document if document.lstrip().startswith("{") else unquote(document)
    try:
        policy = json.loads(text)
    except ValueError:
        return None
    return policy if isinstance(policy, dict) else None


def trust_allows(policy: dict[str, Any], caller: Caller) -> bool:
    """Whether the trust policy lets the caller assume the role (see the module docstring)."""
    statements = policy.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    allowed = False
    for statement in statements if isinstance(statements, list) else []:
        if not isinstance(statement, dict):
            continue
        if not _action_matches(statement.get("Action")):
            continue
        if not _principal_matches(statement.get("Principal"), caller):
            continue
        if statement.get("Effect") == "Deny":
            return False
        allowed = allowed or statement.get("Effect") == "Allow"
    return allowed


def _values(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str)]
    return []


def _action_matches(actions: Any) -> bool:
    return any(fnmatch.fnmatchcase(ACTION.lower(), action.lower()) for action in _values(actions))


def _principal_matches(principal: Any, caller: Caller) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    if caller.service is not None:
        return caller.service in _values(principal.get("Service"))
    return any(_aws_principal_matches(value, caller) for value in _values(principal.get("AWS")))


def _aws_principal_matches(value: str, caller: Caller) -> bool:
    if value == "*":
        return True
    if _ACCOUNT_ID.fullmatch(value):
        return caller.account_id == value
    parts = value.split(":", 5)
    if len(parts) == 6 and parts[0] == "arn" and parts[2] == "iam":
        account, resource = parts[4], parts[5]
        if resource == "root":
            return caller.account_id == account
        if resource.startswith("role/"):
            return caller.account_id == account and caller.role_name == resource.split("/")[-1]
    return caller.arn == value
