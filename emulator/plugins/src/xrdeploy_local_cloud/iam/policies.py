"""Who makes a request, and the policies AWS would judge it by, read from LocalStack's stores.

* :func:`principal_of`: the role session or IAM user behind a request's access key; None for an
  account's root and for LocalStack acting as a service itself (never judged here).
* :func:`identity_policies`: a role's or user's inline and attached managed policies (customer
  managed from the IAM store at their default version, AWS managed from LocalStack's copy of
  them), a user's groups' policies too, and the permissions boundary.
* resource policies: an S3 bucket's policy, a KMS key's policy, a Lambda function's resource
  policy and a role's trust policy.

Documents are stored URL-encoded by LocalStack's IAM provider (CreateRole, PutRolePolicy,
CreatePolicy); both spellings are read.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from localstack.aws.api import RequestContext
from localstack.constants import AWS_REGION_US_EAST_1
from localstack.services.iam.models import IamStore, iam_stores
from localstack.services.sts.models import sts_stores
from localstack.utils.aws.request_context import extract_access_key_id_from_auth_header

from xrdeploy_local_cloud.iam.checks import NamedPolicy, Principal


def principal_of(context: RequestContext) -> Principal | None:
    """The role session or IAM user whose access key signed the request.

    Also for LocalStack's own calls made with a role's credentials (CodePipeline acting as the
    pipeline role, CodeDeploy fetching a bundle with the instance role, EventBridge starting a
    pipeline with its target's role even though it marks the call with its service principal):
    AWS judges those by the role's policies too. None for any other key, which acts as its
    account's root; LocalStack acting as a service itself signs with such a key.
    """
    access_key = extract_access_key_id_from_auth_header(dict(context.request.headers))
    if not access_key:
        return None
    account = context.account_id
    # Both indexes are shared by all regions (and the STS one by all accounts).
    session = sts_stores[account][AWS_REGION_US_EAST_1].credentials.get(access_key)
    if session is not None and not session.is_expired():
        return _session_principal(str(session.arn))
    store = _iam(account)
    user = store.USERS.get(store.ACCESS_KEY_INDEX.get(access_key, ""))
    if user is not None:
        arn = str(user.user["Arn"])
        return Principal(arn, arn, account, "user", str(user.user["UserName"]))
    return None


def _session_principal(arn: str) -> Principal | None:
    # arn:<partition>:sts::<account>:assumed-role/<role>/<session>
    parts = arn.split(":", 5)
    if len(parts) != 6 or not parts[5].startswith("assumed-role/"):
        return None  # e.g. a federated user session: not modelled
    partition, account, role_name = parts[1], parts[4], parts[5].split("/")[1]
    role = _iam(account).ROLES.get(role_name)
    role_arn = (
        role.role["Arn"] if role is not None else f"arn:{partition}:iam::{account}:role/{role_name}"
    )
    return Principal(arn, str(role_arn), account, "role", role_name)


def _iam(account_id: str) -> IamStore:
    store: IamStore = iam_stores[account_id][AWS_REGION_US_EAST_1]
    return store


def identity_policies(principal: Principal) -> tuple[list[NamedPolicy], list[NamedPolicy]]:
    """The principal's identity policies and its permissions boundary (empty list if none)."""
    store = _iam(principal.account_id)
    policies: list[NamedPolicy] = []
    boundary_arn: str | None = None
    if principal.kind == "role":
        role = store.ROLES.get(principal.name)
        if role is not None:
            policies += _entity_policies(store, role.inline_policies, role.attached_policy_arns)
            boundary_arn = (role.role.get("PermissionsBoundary") or {}).get(
                "PermissionsBoundaryArn"
            )
    else:
        user = store.USERS.get(principal.name)
        if user is not None:
            policies += _entity_policies(store, user.inline_policies, user.attached_policy_arns)
            boundary_arn = (user.user.get("PermissionsBoundary") or {}).get(
                "PermissionsBoundaryArn"
            )
            for group in store.GROUPS.values():
                if principal.name in group.member_user_names:
                    policies += _entity_policies(
                        store, group.inline_policies, group.attached_policy_arns
                    )
    boundary = _managed(store, boundary_arn) if boundary_arn else None
    return policies, [boundary] if boundary is not None else []


def _entity_policies(
    store: IamStore, inline: dict[str, str], attached: list[str]
) -> list[NamedPolicy]:
    policies = [
        NamedPolicy(f"inline:{name}", document)
        for name, text in inline.items()
        if (document := parse_document(text)) is not None
    ]
    policies += [policy for arn in attached if (policy := _managed(store, arn)) is not None]
    return policies


def _managed(store: IamStore, arn: str) -> NamedPolicy | None:
    entity = store.MANAGED_POLICIES.get(arn)
    if entity is not None:
        version = entity.versions.get(entity.policy.get("DefaultVersionId") or "")
        document = parse_document(version.get("Document") if version else None)
        return NamedPolicy(arn, document) if document is not None else None
    if ":iam::aws:policy/" in arn:
        aws_document = _aws_managed_documents().get(arn.rsplit("/", 1)[-1])
        return NamedPolicy(arn, aws_document) if aws_document is not None else None
    return None


@functools.cache
def _aws_managed_documents() -> dict[str, dict[str, Any]]:
    import localstack.services.iam as iam_package

    path = Path(iam_package.__file__).parent / "resources" / "aws_managed_policies.json"
    with path.open() as f:
        data: dict[str, dict[str, Any]] = json.load(f)
    return {name: entry["Document"] for name, entry in data.items()}


def parse_document(text: Any) -> dict[str, Any] | None:
    """A policy document from its stored text (JSON, or JSON URL-encoded); None if unreadable."""
    if isinstance(text, dict):
        return text
    if not isinstance(text, str) or not text.strip():
        return None
    if not text.lstrip().startswith("{"):
        text = unquote(text)
    try:
        document = json.loads(text)
    except ValueError:
        return None
    return document if isinstance(document, dict) else None
