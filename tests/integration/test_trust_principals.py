"""Trust policies in the local cloud as IAM takes them: a principal naming a role that does not
exist is refused, so a stack that needs another's role to exist first fails here as on AWS; an
account principal pinned by ``aws:PrincipalArn`` is accepted before the role exists, and admits
that role alone.

Runs in the session's local cloud (trust and IAM are enforced by default); every name is unique,
so nothing collides with the chain or with an earlier run in a local cloud that was running.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from xrdeploy.aws_clients import local_cloud_client

pytestmark = pytest.mark.integration

REGION = "us-east-1"
UPSTREAM = "111111111111"
DOWNSTREAM = "222222222222"
NO_RETRIES = Config(retries={"total_max_attempts": 1})

Clients = Callable[..., Any]


def _unique(label: str) -> str:
    return f"{label}-{time.time_ns() % 10**12}"


def _policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _trust(principal: dict[str, Any], **condition: dict[str, Any]) -> str:
    statement = {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}
    return _policy({**statement, "Condition": condition} if condition else statement)


def _role_arn(account: str, name: str) -> str:
    return f"arn:aws:iam::{account}:role/{name}"


def _error(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    error = excinfo.value.response["Error"]
    status = excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"]
    return error["Code"], error.get("Message", ""), status


@pytest.fixture(scope="module")
def aws(localstack_endpoint: str) -> Clients:
    """boto3 clients as an account's root (a 12-digit access key id), or with a session."""

    def client(service: str, account: str = UPSTREAM, **credentials: str) -> Any:
        return local_cloud_client(
            service,
            endpoint=localstack_endpoint,
            account_id=account,
            region=REGION,
            credentials=credentials or None,
            config=NO_RETRIES,
        )

    return client


def _session_of(aws: Clients, name: str, may_assume: str) -> dict[str, str]:
    """A role of the upstream account granted sts:AssumeRole on `may_assume`, and a session of it
    (taken by the account's root, which its trust names)."""
    iam = aws("iam", UPSTREAM)
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=_trust({"AWS": UPSTREAM}))
    grant = {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": may_assume}
    iam.put_role_policy(RoleName=name, PolicyName="assume", PolicyDocument=_policy(grant))
    answer = aws("sts", UPSTREAM).assume_role(
        RoleArn=_role_arn(UPSTREAM, name), RoleSessionName="caller"
    )
    keys = ("AccessKeyId", "SecretAccessKey", "SessionToken")
    return {key: answer["Credentials"][key] for key in keys}


@pytest.mark.parametrize(
    ("operation", "call"),
    [
        (
            "CreateRole",
            lambda iam, doc: iam.create_role(
                RoleName=_unique("trusts-missing"), AssumeRolePolicyDocument=doc
            ),
        ),
        (
            "UpdateAssumeRolePolicy",
            lambda iam, doc: iam.update_assume_role_policy(
                RoleName=iam.create_role(
                    RoleName=_unique("retrusted"),
                    AssumeRolePolicyDocument=_trust({"Service": "lambda.amazonaws.com"}),
                )["Role"]["RoleName"],
                PolicyDocument=doc,
            ),
        ),
    ],
)
def test_a_trust_policy_naming_a_missing_role_is_refused_as_iam_refuses_it(
    aws: Clients, operation: str, call: Callable[[Any, str], Any]
) -> None:
    # GIVEN a role ARN of the upstream account that no role has
    missing = _role_arn(UPSTREAM, _unique("copy-fn"))
    iam = aws("iam", DOWNSTREAM)
    # WHEN a trust policy names it as principal THEN IAM's answer: the policy is malformed
    with pytest.raises(ClientError) as excinfo:
        call(iam, _trust({"AWS": [f"arn:aws:iam::{UPSTREAM}:root", missing]}))
    assert _error(excinfo) == (
        "MalformedPolicyDocument",
        f'Invalid principal in policy: "AWS":"{missing}"',
        400,
    ), operation
    # WHEN the role exists THEN the same policy is taken
    aws("iam", UPSTREAM).create_role(
        RoleName=missing.rsplit("/", 1)[1], AssumeRolePolicyDocument=_trust({"AWS": UPSTREAM})
    )
    call(iam, _trust({"AWS": missing}))


# alpha → beta stays in one account, beta → prod crosses into another.
@pytest.mark.parametrize("target_account", [UPSTREAM, DOWNSTREAM], ids=["one-account", "cross"])
def test_an_account_pinned_by_principal_arn_is_taken_first_and_admits_that_role_alone(
    aws: Clients, target_account: str
) -> None:
    # GIVEN a role trusting the upstream account, pinned to one role of it by aws:PrincipalArn,
    # created before that role exists (as the chain's promotion roles are)
    copy_fn, other = _unique("copy-fn"), _unique("admin")
    target = _unique("promotion")
    target_arn = _role_arn(target_account, target)
    aws("iam", target_account).create_role(
        RoleName=target,
        AssumeRolePolicyDocument=_trust(
            {"AWS": f"arn:aws:iam::{UPSTREAM}:root"},
            ArnEquals={"aws:PrincipalArn": _role_arn(UPSTREAM, copy_fn)},
        ),
    )
    # WHEN that role, granted AssumeRole on the target, assumes it THEN it may
    pinned = aws("sts", **_session_of(aws, copy_fn, target_arn))
    answer = pinned.assume_role(RoleArn=target_arn, RoleSessionName="promote")
    assert answer["AssumedRoleUser"]["Arn"] == (
        f"arn:aws:sts::{target_account}:assumed-role/{target}/promote"
    )
    # WHEN another role of the same account, granted AssumeRole on every role, tries
    # THEN the trust's condition refuses it
    broad = aws("sts", **_session_of(aws, other, "*"))
    with pytest.raises(ClientError) as excinfo:
        broad.assume_role(RoleArn=target_arn, RoleSessionName="promote")
    code, message, status = _error(excinfo)
    assert (code, status) == ("AccessDenied", 403)
    assert message.startswith(
        f"User: arn:aws:sts::{UPSTREAM}:assumed-role/{other}/caller is not authorized to "
        f"perform: sts:AssumeRole on resource: {target_arn}"
    )
