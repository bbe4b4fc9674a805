"""The error AWS returns for a denied request, in the wording IAM uses since 2021.

``User: <principal> is not authorized to perform: <action> on resource: <resource> because
no identity-based policy allows the <action> action`` (or ``no resource-based policy allows``,
``no permissions boundary allows``; an explicit deny reads ``with an explicit deny in an
identity-based policy`` / ``a resource-based policy`` / ``a permissions boundary``). S3 quotes the
resource ARN of an S3 action; KMS (also as relayed by S3) and the JSON services do not.
S3, STS and IAM answer ``AccessDenied`` (403), EC2
``UnauthorizedOperation`` (403), Lambda ``AccessDeniedException`` (403) and the other JSON services
``AccessDeniedException`` (400).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from localstack.aws.api import CommonServiceException

QUERY_SERVICES = ("s3", "sts", "iam")
POLICY_KINDS = {
    "identity": "an identity-based policy",
    "resource": "a resource-based policy",
    "pb": "a permissions boundary",
    "session": "a session policy",
}
NO_ALLOW = {
    "identity": "no identity-based policy allows",
    "resource": "no resource-based policy allows",
    "pb": "no permissions boundary allows",
    "session": "no session policy allows",
}


def denial_reason(answer: dict[str, Any]) -> str:
    """``because ...`` / ``with an explicit deny in ...`` for an evaluator answer."""
    action = answer.get("action", "")
    denials = answer.get("denials") or []
    for denial in denials:
        if denial.get("denialType") == "Explicit":
            kind = POLICY_KINDS.get(denial.get("policyType"), "a policy")
            return f"with an explicit deny in {kind}"
    # Identity first, as IAM reports it: for a cross-account request both sides must allow.
    kinds = [denial.get("policyType") for denial in denials]
    for kind in ("identity", "pb", "session", "resource"):
        if kind in kinds:
            return f"because {NO_ALLOW[kind]} the {action} action"
    return f"because no identity-based policy allows the {action} action"


def message(principal_arn: str, action: str, resource: str, reason: str) -> str:
    # S3 quotes its own resources; a KMS denial it relays keeps KMS's wording.
    target = f'"{resource}"' if action.startswith("s3:") else resource
    on_resource = "" if resource == "*" else f" on resource: {target}"
    return f"User: {principal_arn} is not authorized to perform: {action}{on_resource} {reason}"


def access_denied(service: str, text: str) -> CommonServiceException:
    # Imported here so that the wording above can be tested without LocalStack.
    from localstack.aws.api import CommonServiceException

    if service in QUERY_SERVICES:
        return CommonServiceException("AccessDenied", text, status_code=403, sender_fault=True)
    if service == "ec2":
        return CommonServiceException(
            "UnauthorizedOperation",
            f"You are not authorized to perform this operation. {text}",
            status_code=403,
            sender_fault=True,
        )
    status = 403 if service == "lambda" else 400
    return CommonServiceException(
        "AccessDeniedException", text, status_code=status, sender_fault=True
    )
