"""What AWS authorizes for one request: one or more (action, resource, context) checks.

A request is allowed when every check is. Most operations are one check with the IAM action
``<prefix>:<Operation>``; the builders in :mod:`.s3_checks` and :mod:`.service_checks` know the
operations whose IAM action, resource or extra checks differ (S3 ``ListObjectsV2`` is
``s3:ListBucket`` on the bucket; a ``CopyObject`` needs ``s3:GetObject`` on its source as well; an
SSE-KMS write needs ``kms:GenerateDataKey`` on the key, evaluated as S3 calls KMS for the caller).
"""

from __future__ import annotations

import dataclasses
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the data classes are used outside LocalStack too (unit tests)
    from localstack.aws.api import RequestContext

ContextValues = dict[str, str | list[str]]


@dataclasses.dataclass(frozen=True)
class Principal:
    """A role session or an IAM user."""

    arn: str  # the session ARN (arn:aws:sts::<acct>:assumed-role/<role>/<session>) or user ARN
    principal_arn: str  # aws:PrincipalArn: the role's ARN, or the user's
    account_id: str
    kind: str  # "role" or "user"
    name: str  # role or user name


@dataclasses.dataclass(frozen=True)
class NamedPolicy:
    name: str  # "inline:<name>", a managed policy ARN, "bucket-policy:<bucket>", ...
    document: dict[str, Any]


@dataclasses.dataclass(frozen=True)
class Check:
    action: str  # e.g. s3:GetObject
    resource: str  # an ARN, or "*" for actions without resource types
    resource_account: str  # the account that owns the resource (cross-account rule)
    context: ContextValues = dataclasses.field(default_factory=dict)
    resource_policy: NamedPolicy | None = None


def global_context(context: RequestContext, principal: Principal) -> ContextValues:
    """The global condition keys AWS sets on every request of a role session or user."""
    now = time.time()
    values: ContextValues = {
        # The scheme of the connection the request came on (LocalStack's gateway serves HTTP and
        # TLS on the same port); LocalStack's own calls stand for AWS service traffic, always TLS.
        "aws:SecureTransport": "true"
        if context.request.scheme == "https" or context.is_internal_call
        else "false",
        "aws:PrincipalArn": principal.principal_arn,
        "aws:PrincipalAccount": principal.account_id,
        "aws:PrincipalType": "AssumedRole" if principal.kind == "role" else "User",
        "aws:RequestedRegion": context.region,
        "aws:CurrentTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
        "aws:EpochTime": str(int(now)),
    }
    if context.request.remote_addr:
        values["aws:SourceIp"] = context.request.remote_addr
    if principal.kind == "user":
        values["aws:username"] = principal.name
    return values


def default_check(context: RequestContext, resource: str, account: str) -> Check:
    """``<prefix>:<Operation>`` on the given resource (boto3's client name is the IAM prefix for
    every service the local cloud runs)."""
    assert context.service is not None and context.operation is not None
    return Check(f"{context.service.service_name}:{context.operation.name}", resource, account)


def request_parameters(context: RequestContext) -> dict[str, Any]:
    return dict(context.service_request or {})
